"""The instructeur's examination of a compte rendu financier (the Prefect UI's Resume form)."""

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from models.text import line, paragraph
from services.engine.forms import ApprovalForm, Choice, plain_fields


class ExamenForm(ApprovalForm):
    decision: Choice = Field(title="Décision sur le compte rendu")
    complement_deadline: date | None = Field(
        default=None,
        title="Date limite des compléments (si incomplet)",
        description="Une date à venir ; par exemple 2027-09-30.",
    )
    repay_eur: Decimal | None = Field(
        default=None,
        ge=0,
        le=10_000_000,
        max_digits=12,
        decimal_places=2,
        title="Montant à reverser (si non conforme)",
        description="En euros, au plus la subvention accordée ; par exemple 2500.00.",
    )


class Transmission(BaseModel):
    """What the association transmits (or an agent records for it): the figures of the Cerfa
    n° 15059 that the examination needs, bounded like every input."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=plain_fields)

    transmitted_on: date = Field(title="Date de transmission")
    expenses_eur: Decimal = Field(
        ge=0, le=100_000_000, max_digits=12, decimal_places=2, title="Dépenses réalisées (euros)"
    )
    used_eur: Decimal = Field(
        ge=0, le=100_000_000, max_digits=12, decimal_places=2, title="Part de la subvention utilisée (euros)"
    )
    summary: paragraph(4000, min_length=0) | None = Field(default=None, title="Compte rendu qualitatif")
    by: line(200) = Field(title="Transmis par")
