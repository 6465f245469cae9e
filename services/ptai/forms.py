"""The approval forms of the PTAI instruction chain."""

# Annotations are evaluated at class creation here: ``choice`` builds each step's Literal type.

from datetime import date

from pydantic import Field

from services.engine.forms import ApprovalForm, choice


class InstructionForm(ApprovalForm, case="ptai", step="instruction"):
    needs = {"favourable": ("amount_eur",), "unfavourable": ("comment",), "rework": ("comment", "rework_deadline")}
    decision: choice("ptai", "instruction") = Field(title="Avis de l'instruction")
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


class ValidationForm(ApprovalForm, case="ptai", step="validation"):
    needs = {"reject": ("comment",)}
    decision: choice("ptai", "validation") = Field(title="Décision du préfet")
    amount_eur: int | None = Field(
        default=None,
        ge=0,
        le=10_000_000,
        title="Montant validé (si validation après un avis défavorable)",
        description="En euros, au plus le montant demandé ; par exemple 15000. Après un avis "
        "favorable, laissez vide pour retenir le montant proposé.",
    )
