"""The approval forms of the PTAI instruction chain."""

from datetime import date

from pydantic import Field

from services.engine.forms import ApprovalForm, Choice


class InstructionForm(ApprovalForm):
    decision: Choice = Field(title="Avis de l'instruction")
    amount_eur: int | None = Field(
        default=None,
        ge=0,
        le=10_000_000,
        title="Montant proposé (si avis favorable)",
        description="En euros, au plus le montant demandé ; par exemple 15000.",
    )
    rework_deadline: date | None = Field(
        default=None, title="Date limite de réponse (si compléments demandés)", description="Par exemple 2026-06-15."
    )


class ValidationForm(ApprovalForm):
    decision: Choice = Field(title="Décision du préfet")
    amount_eur: int | None = Field(
        default=None,
        ge=0,
        le=10_000_000,
        title="Montant validé (si validation après un avis défavorable)",
        description="En euros, au plus le montant demandé ; par exemple 15000. Après un avis "
        "favorable, laissez vide pour retenir le montant proposé.",
    )
