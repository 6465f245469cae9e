"""The ministry's approval form for a batch."""

# Annotations are evaluated at class creation here: ``choice`` builds each step's Literal type.

from pydantic import Field

from services.engine.forms import ApprovalForm, choice


class ArbitrageForm(ApprovalForm, case="lot", step="arbitrage"):
    decision: choice("lot", "arbitrage") = Field(title="Décision sur le lot")
    excluded_request_ids: list[int] = Field(default_factory=list, title="N° des demandes à exclure (si exclusions)")
