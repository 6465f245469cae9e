"""The approval forms the Prefect UI renders (the "Resume" button of a suspended run), one per step.

Agents choose a decision by its French wording (``models.choices``); the flow turns it back into
the decision code. Hard limits are schema terms (the server checks them before accepting a resume); business
checks run in the flow, which asks again with the reason when one fails.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from prefect.input import RunInput
from pydantic import Field

from models.choices import wordings


def _choice(case: str, step: str):
    """The decision field's choices: the French wordings of the step's decisions."""
    return Literal[wordings(case, step)]


class ApprovalForm(RunInput):
    agent_email: str = Field(title="Votre courriel professionnel", min_length=3, max_length=254)
    approval_code: str = Field(title="Code d'approbation (reçu par courriel)", min_length=4, max_length=20)
    comment: str | None = Field(default=None, title="Commentaire ou motif", max_length=4000)


EngagementChoice = _choice("ctai", "engagement")


class EngagementForm(ApprovalForm):
    decision: EngagementChoice = Field(title="Décision")
    letter_date: date | None = Field(default=None, title="Date de la lettre d'engagement")
    signatory: str | None = Field(default=None, title="Signataire de la lettre", max_length=200)


EchangeChoice = _choice("ctai", "echange")


class EchangeForm(ApprovalForm):
    decision: EchangeChoice = Field(title="Décision")
    meeting_date: date | None = Field(default=None, title="Date du temps d'échange")


DiagnosticChoice = _choice("ctai", "diagnostic")


class DiagnosticForm(ApprovalForm):
    decision: DiagnosticChoice = Field(title="Décision")
    bpi_count: int | None = Field(default=None, ge=0, le=1_000_000, title="Nombre de BPI visés")
    primo_arrivants_count: int | None = Field(default=None, ge=0, le=1_000_000, title="Nombre de primo-arrivants visés")
    needs_summary: str | None = Field(default=None, title="Synthèse des besoins par domaine", max_length=4000)


CoordinateurChoice = _choice("ctai", "coordinateur")


class CoordinateurForm(ApprovalForm):
    decision: CoordinateurChoice = Field(title="Décision")
    coordinator_name: str | None = Field(default=None, title="Nom du coordinateur", max_length=200)
    coordinator_email: str | None = Field(default=None, title="Courriel du coordinateur", max_length=254)


PropositionChoice = _choice("ctai", "proposition")


class PropositionForm(ApprovalForm):
    decision: PropositionChoice = Field(title="Décision")


SignatureChoice = _choice("ctai", "signature")


class SignatureForm(ApprovalForm):
    decision: SignatureChoice = Field(title="Décision")
    signature_date: date | None = Field(default=None, title="Date de signature par le préfet")
    elu_signature_date: date | None = Field(default=None, title="Date de signature par l'élu (si différente)")


RevueDiairChoice = _choice("ctai", "revue_diair")


class RevueDiairForm(ApprovalForm):
    decision: RevueDiairChoice = Field(title="Décision")
    rework_action_ids: list[int] = Field(default_factory=list, title="N° des actions à retravailler")


BilanChoice = _choice("ctai", "bilan")


class BilanForm(ApprovalForm):
    decision: BilanChoice = Field(title="Décision")
    amount_eur: int | None = Field(default=None, ge=0, le=10_000_000, title="Avenant : socle de l'année suivante (euros)")
    complementary_eur: int | None = Field(default=None, ge=0, le=10_000_000, title="Avenant : crédits complémentaires (euros)")


ElargissementChoice = _choice("ctai", "elargissement")


class ElargissementForm(ApprovalForm):
    decision: ElargissementChoice = Field(title="Décision")
    signature_date: date | None = Field(default=None, title="Date de signature par le préfet")


CTAI_FORMS: dict[str, type[ApprovalForm]] = {
    "engagement": EngagementForm, "echange": EchangeForm, "diagnostic": DiagnosticForm,
    "coordinateur": CoordinateurForm, "proposition": PropositionForm, "signature": SignatureForm,
    "revue_diair": RevueDiairForm, "bilan": BilanForm, "elargissement": ElargissementForm,
}


InstructionChoice = _choice("ptai", "instruction")


class InstructionForm(ApprovalForm):
    decision: InstructionChoice = Field(title="Avis")
    amount_eur: int | None = Field(default=None, ge=0, le=10_000_000, title="Montant proposé (euros, si favorable)")
    rework_deadline: date | None = Field(default=None, title="Date limite de réponse (si compléments demandés)")


ValidationChoice = _choice("ptai", "validation")


class ValidationForm(ApprovalForm):
    decision: ValidationChoice = Field(title="Décision")
    amount_eur: int | None = Field(default=None, ge=0, le=10_000_000, title="Montant validé (euros ; vide = montant proposé)")


PTAI_FORMS: dict[str, type[ApprovalForm]] = {"instruction": InstructionForm, "validation": ValidationForm}

ArbitrageChoice = _choice("lot", "arbitrage")


class ArbitrageForm(ApprovalForm):
    decision: ArbitrageChoice = Field(title="Décision sur le lot")
    excluded_request_ids: list[int] = Field(default_factory=list, title="N° des demandes à exclure (si exclusions)")


FORMS: dict[str, dict[str, type[ApprovalForm]]] = {"ctai": CTAI_FORMS, "ptai": PTAI_FORMS,
                                                   "lot": {"arbitrage": ArbitrageForm}}
