"""Every approval form offers each decision of its step, in French, and gives back its code."""

import pytest

from flows.forms import FORMS
from models.choices import CHOICES, decision_code, wording
from services.cases import kind

STEPS = [(case, step) for case, forms in FORMS.items() for step in forms]


@pytest.mark.parametrize(("case", "step"), STEPS)
def test_each_form_offers_exactly_the_decisions_its_step_allows_each_in_its_own_words(case, step):
    k = kind(case)
    allowed = {t.decision for t in k.machine.allowed(k.steps[step].status) if t.role is not None}
    assert set(CHOICES[case][step]) == allowed
    schema = FORMS[case][step].model_json_schema()["properties"]["decision"]
    offered = schema.get("enum") or [schema["const"]]
    assert offered == [wording(case, step, code) for code in CHOICES[case][step]]
    assert len(set(offered)) == len(offered) and not set(offered) & allowed  # French words, never a bare code


@pytest.mark.parametrize(("case", "step"), STEPS)
def test_a_wording_and_its_code_both_give_the_code_and_anything_else_is_left_for_the_machine_to_refuse(case, step):
    for code, text in CHOICES[case][step].items():
        assert decision_code(case, step, text) == code
        assert decision_code(case, step, code) == code
    assert decision_code(case, step, "n'importe quoi") == "n'importe quoi"
