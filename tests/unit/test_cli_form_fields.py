"""``approvals decide --field k=v`` turns each value into the type the form's schema expects."""

import pytest

from models.errors import RuleViolation
from services.engine.waiting import coerce

FIELDS = [
    {"nom": "amount_eur", "type": "integer"},
    {"nom": "postponed_request_ids", "type": "array"},
    {"nom": "reductions", "type": "array"},
    {"nom": "comment", "type": "string"},
]


def test_a_list_of_numbers_is_typed_as_comma_separated_values():
    assert coerce(FIELDS, {"postponed_request_ids": "3, 4,"}) == {"postponed_request_ids": [3, 4]}


def test_a_list_of_objects_is_typed_as_json():
    given = '[{"request_id": 3, "amount_eur": 12000, "reason": "budget ramené"}]'
    assert coerce(FIELDS, {"reductions": given}) == {
        "reductions": [{"request_id": 3, "amount_eur": 12000, "reason": "budget ramené"}]
    }


@pytest.mark.parametrize("value", ['[{"request_id": 3', '{"request_id": 3}', "[" + " " * 200_001 + "]"])
def test_a_broken_or_oversized_json_list_is_refused_with_the_field_named(value):
    with pytest.raises(RuleViolation) as refused:
        coerce(FIELDS, {"reductions": value})
    assert refused.value.violations[0].code == "CHAMP_INVALIDE" and refused.value.violations[0].field == "reductions"


def test_an_unknown_field_is_refused_with_the_fields_of_the_form():
    with pytest.raises(RuleViolation) as refused:
        coerce(FIELDS, {"montant": "3"})
    assert refused.value.codes == ["CHAMP_INCONNU"] and "amount_eur" in refused.value.violations[0].message
