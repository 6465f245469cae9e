"""The ministry's approval form for a batch."""

# Annotations are evaluated at class creation here: ``choice`` builds each step's Literal type.

from typing import Annotated

from pydantic import Field

from services.engine.forms import ApprovalForm, choice


class ArbitrageForm(ApprovalForm, case="lot", step="arbitrage"):
    decision: choice("lot", "arbitrage") = Field(title="Décision sur le lot")
    excluded_request_ids: list[Annotated[int, Field(ge=1, le=2_147_483_647)]] = Field(
        default_factory=list, max_length=10_000, title="N° des demandes à exclure (si exclusions)")
