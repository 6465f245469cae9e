"""The approval forms of the PTAI instruction chain."""

# Annotations are evaluated at class creation here: ``choice`` builds each step's Literal type.

from datetime import date

from pydantic import Field

from services.engine.forms import ApprovalForm, choice


class InstructionForm(ApprovalForm, case="ptai", step="instruction"):
    decision: choice("ptai", "instruction") = Field(title="Avis de l'instruction")
    amount_eur: int | None = Field(default=None, ge=0, le=10_000_000,
                                   title="Montant proposé (euros ; avis favorable seulement, au plus le montant demandé)")
    rework_deadline: date | None = Field(default=None, title="Date limite de réponse (si compléments demandés)")


class ValidationForm(ApprovalForm, case="ptai", step="validation"):
    decision: choice("ptai", "validation") = Field(title="Décision du préfet")
    amount_eur: int | None = Field(default=None, ge=0, le=10_000_000,
                                   title="Montant validé (euros ; après un avis favorable : vide = montant proposé ; "
                                         "après un avis défavorable : obligatoire, au plus le montant demandé)")
