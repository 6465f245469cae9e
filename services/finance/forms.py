"""The ministry's approval form for a batch: the batch is approved or rejected as a whole, and,
when approved, the ministry's decision on each request it lists (the others are retained)."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from models.text import line, paragraph
from services.engine.forms import ApprovalForm, Choice, plain_fields

RequestId = Annotated[int, Field(ge=1, le=2_147_483_647)]
MAX_LISTED = 5_000  # a batch of a national year is 1 000 - 3 000 requests


class ReductionLine(BaseModel):
    """One request whose amount the ministry lowers."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=plain_fields)

    request_id: RequestId = Field(title="N° de la demande")
    amount_eur: int = Field(ge=0, le=10_000_000, title="Nouveau montant (euros, inférieur au montant actuel)")
    reason: line(500) = Field(title="Motif de la réduction (transmis au demandeur)")


class ArbitrageForm(ApprovalForm):
    decision: Choice = Field(title="Décision sur le lot")
    reductions: list[ReductionLine] = Field(
        default_factory=list,
        max_length=MAX_LISTED,
        title="Réductions (si le lot est approuvé) : n° de la demande, nouveau montant en euros, motif",
    )
    postponed_request_ids: list[RequestId] = Field(
        default_factory=list,
        max_length=MAX_LISTED,
        title="N° des demandes reportées au lot suivant (si reports ; une seule fois par demande)",
    )
    postpone_reason: line(500, min_length=0) | None = Field(
        default=None, title="Motif du report (si reports)", description="Transmis aux demandeurs concernés."
    )
    refused_request_ids: list[RequestId] = Field(
        default_factory=list, max_length=MAX_LISTED, title="N° des demandes refusées définitivement (si refus)"
    )
    refusal_reason: paragraph(2000, min_length=0) | None = Field(
        default=None, title="Motif du refus (si refus ; cité dans la lettre au demandeur)"
    )
