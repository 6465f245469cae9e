"""Every approval form offers each decision of its step, in French, and gives back its code."""

import pytest

from flows.forms import FORMS
from services.cases import kind

STEPS = [(case, step) for case, forms in FORMS.items() for step in forms]


def _choices(case: str, step: str) -> dict[str, str]:
    """The step's decisions as declared: code → wording."""
    return {d.code: d.wording for d in kind(case).steps[step].decisions}


@pytest.mark.parametrize(("case", "step"), STEPS)
def test_each_form_offers_exactly_the_decisions_its_step_allows_each_in_its_own_words(case, step):
    k = kind(case)
    allowed = {t.decision for t in k.machine.allowed(k.steps[step].status) if t.role is not None}
    assert set(_choices(case, step)) == allowed
    schema = FORMS[case][step].model_json_schema()["properties"]["decision"]
    offered = schema.get("enum") or [schema["const"]]
    assert offered == [k.steps[step].wording(code) for code in _choices(case, step)]
    assert len(set(offered)) == len(offered) and not set(offered) & allowed  # French words, never a bare code


@pytest.mark.parametrize(("case", "step"), STEPS)
def test_a_wording_and_its_code_both_give_the_code_and_anything_else_is_left_for_the_machine_to_refuse(case, step):
    declared = kind(case).steps[step]
    for code, text in _choices(case, step).items():
        assert declared.code_of(text) == code
        assert declared.code_of(code) == code
    assert declared.code_of("n'importe quoi") == "n'importe quoi"
