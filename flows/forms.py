"""The approval forms the Prefect UI renders (the "Resume" button of a suspended run), one per step.

Each form is defined, as a plain pydantic model, in its case's wing of ``services``; here it
becomes a Prefect ``RunInput`` of the same name and fields. Agents choose a decision by its
French wording (declared with its step in the wing's ``steps`` module); the engine turns it back into
the decision's code.
"""

from __future__ import annotations

from functools import cache

from prefect.input import RunInput

from services.cases import KINDS
from services.engine.forms import ApprovalForm


@cache
def run_input(form: type[ApprovalForm]) -> type[RunInput]:
    """The form as Prefect's UI shows it and the server validates it (one class per form)."""
    return type(form.__name__, (RunInput, form), {"__module__": __name__, "__doc__": form.__doc__})


# Every step's form by case and step (the classes ``run_input`` returns: one per form).
FORMS: dict[str, dict[str, type[RunInput]]] = {
    case: {name: run_input(step.form) for name, step in kind.steps.items()} for case, kind in KINDS.items()
}
