"""The approval forms as the Prefect UI draws them: one plain input per field (no « str | None »
switch, no null default), each optional field saying when it is needed, each decision's needs
real fields of its form."""

import pytest
from prefect._internal.pydantic.v2_schema import create_v2_schema

from flows.forms import FORMS
from services.cases import kind

CASES = [(case, step, form) for case, steps in FORMS.items() for step, form in steps.items()]


def _properties(schema: dict):
    yield from schema.get("properties", {}).items()
    for definition in schema.get("definitions", {}).values():
        yield from definition.get("properties", {}).items()


@pytest.mark.parametrize("case,step,form", CASES, ids=[f"{c}-{s}" for c, s, _ in CASES])
def test_the_form_schema_has_no_type_switch_and_no_null_default(case, step, form):
    schema = create_v2_schema(form.__name__, model_base=form)  # what Prefect stores and its UI draws
    for name, prop in _properties(schema):
        assert not any(branch.get("type") == "null" for branch in prop.get("anyOf", [])), (name, prop)
        assert prop.get("default", "") is not None, (name, prop)


@pytest.mark.parametrize("case,step,form", CASES, ids=[f"{c}-{s}" for c, s, _ in CASES])
def test_each_optional_field_says_when_it_is_needed(case, step, form):
    for name, field in form.model_fields.items():
        if not field.is_required():
            assert "(si " in field.title or "(facultatif" in field.title or "(si\u00a0" in field.title, (
                name,
                field.title,
            )


@pytest.mark.parametrize("case,step,form", CASES, ids=[f"{c}-{s}" for c, s, _ in CASES])
def test_each_decision_needs_fields_of_its_form(case, step, form):
    for decision, fields in form.needs.items():
        assert decision in {d.code for d in kind(case).steps[step].decisions}, decision
        assert set(fields) <= set(form.model_fields), fields
        assert all("(si " in form.model_fields[f].title for f in fields), fields


def test_a_plain_field_left_empty_takes_its_default():
    form = FORMS["ptai"]["instruction"]
    answer = form.model_validate(
        {"agent_email": "a@b.example", "approval_code": "ABCD-EFGH", "decision": "avis favorable"}
    )
    assert answer.amount_eur is None and answer.rework_deadline is None
