"""The approval form of each CTAI step (what the awaited agent fills in)."""

# Annotations are evaluated at class creation here: ``choice`` builds each step's Literal type.

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from models.text import Comment, EmailAddress, line
from services.engine.forms import ApprovalForm, choice


class EngagementForm(ApprovalForm, case="ctai", step="engagement"):
    decision: choice("ctai", "engagement") = Field(title="Décision")
    letter_date: date | None = Field(default=None, title="Date de la lettre d'engagement")
    signatory: line(200) | None = Field(default=None, title="Signataire de la lettre")


class EchangeForm(ApprovalForm, case="ctai", step="echange"):
    decision: choice("ctai", "echange") = Field(title="Décision")
    meeting_date: date | None = Field(default=None, title="Date du temps d'échange")


class DiagnosticForm(ApprovalForm, case="ctai", step="diagnostic"):
    decision: choice("ctai", "diagnostic") = Field(title="Décision")
    bpi_count: int | None = Field(default=None, ge=0, le=1_000_000, title="Nombre de BPI visés")
    primo_arrivants_count: int | None = Field(default=None, ge=0, le=1_000_000, title="Nombre de primo-arrivants visés")
    needs_summary: Comment | None = Field(default=None, title="Synthèse des besoins par domaine")


class CoordinateurForm(ApprovalForm, case="ctai", step="coordinateur"):
    decision: choice("ctai", "coordinateur") = Field(title="Décision")
    coordinator_name: line(200) | None = Field(default=None, title="Nom du coordinateur")
    coordinator_email: EmailAddress | None = Field(default=None, title="Courriel du coordinateur")


class PropositionForm(ApprovalForm, case="ctai", step="proposition"):
    decision: choice("ctai", "proposition") = Field(title="Décision")


class SignatureForm(ApprovalForm, case="ctai", step="signature"):
    decision: choice("ctai", "signature") = Field(title="Décision")
    signature_date: date | None = Field(default=None, title="Date de signature par le préfet")
    elu_signature_date: date | None = Field(default=None, title="Date de signature par l'élu (exécutif de la collectivité)")
    diair_cosignatory_name: line(200) | None = Field(default=None, title="Co-signature du délégué interministériel (facultatif) : nom")
    diair_cosignature_date: date | None = Field(default=None, title="Co-signature du délégué interministériel : date")


class RevueDiairForm(ApprovalForm, case="ctai", step="revue_diair"):
    decision: choice("ctai", "revue_diair") = Field(title="Décision")
    rework_action_ids: list[Annotated[int, Field(ge=1, le=2_147_483_647)]] = Field(
        default_factory=list, max_length=300, title="N° des actions à retravailler")


class ActionBilan(BaseModel):
    """The bilan of one action of the year reviewed."""

    model_config = ConfigDict(extra="forbid")

    action_id: int = Field(ge=1, le=2_147_483_647, title="N° de l'action")
    realisee: bool = Field(title="Action réalisée")
    public_atteint: int = Field(ge=0, le=1_000_000, title="Public atteint (nombre de personnes)")
    consomme_eur: int = Field(ge=0, le=10_000_000, title="Montant consommé (euros)")


class BilanForm(ApprovalForm, case="ctai", step="bilan"):
    decision: choice("ctai", "bilan") = Field(title="Décision proposée")
    bilan_actions: list[ActionBilan] = Field(default_factory=list, max_length=300,
                                             title="Bilan de chaque action de l'année (n°, réalisée, public atteint, montant consommé)")
    amount_eur: int | None = Field(default=None, ge=0, le=10_000_000, title="Avenant : socle de l'année suivante (euros)")
    complementary_eur: int | None = Field(default=None, ge=0, le=10_000_000, title="Avenant : crédits complémentaires de l'année suivante (euros)")


class BilanSignatureForm(ApprovalForm, case="ctai", step="bilan_signature"):
    decision: choice("ctai", "bilan_signature") = Field(title="Décision")
    signature_date: date | None = Field(default=None, title="Date de signature par le préfet")


class ElargissementForm(ApprovalForm, case="ctai", step="elargissement"):
    decision: choice("ctai", "elargissement") = Field(title="Décision")
    signature_date: date | None = Field(default=None, title="Date de signature par le préfet")
    elu_signature_date: date | None = Field(default=None, title="Date de signature par l'élu (exécutif de la collectivité)")
    diair_cosignatory_name: line(200) | None = Field(default=None, title="Co-signature du délégué interministériel (facultatif) : nom")
    diair_cosignature_date: date | None = Field(default=None, title="Co-signature du délégué interministériel : date")
