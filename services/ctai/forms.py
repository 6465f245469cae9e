"""The approval form of each CTAI step (what the awaited agent fills in)."""

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from models.text import Comment, EmailAddress, line
from services.engine.forms import ApprovalForm, Choice, plain_fields


class EngagementForm(ApprovalForm):
    decision: Choice = Field(title="Décision")
    letter_date: date | None = Field(
        default=None,
        title="Date de la lettre d'engagement (si lettre reçue)",
        description="La date portée sur la lettre, par exemple 2020-12-15.",
    )
    signatory: line(200) | None = Field(
        default=None,
        title="Signataire de la lettre (si lettre reçue)",
        description="Nom et qualité, par exemple « Léonore Moncond'huy, maire ».",
    )


class EchangeForm(ApprovalForm):
    decision: Choice = Field(title="Décision")
    meeting_date: date | None = Field(
        default=None, title="Date du temps d'échange (si tenu)", description="Par exemple 2021-01-20."
    )


class DiagnosticForm(ApprovalForm):
    decision: Choice = Field(title="Décision")
    bpi_count: int | None = Field(
        default=None,
        ge=0,
        le=1_000_000,
        title="Nombre de BPI visés (si le diagnostic est validé, à défaut d'un nombre déjà saisi)",
        description="Bénéficiaires de la protection internationale, en personnes ; par exemple 229.",
    )
    primo_arrivants_count: int | None = Field(
        default=None,
        ge=0,
        le=1_000_000,
        title="Nombre de primo-arrivants visés (facultatif)",
        description="En personnes ; par exemple 120.",
    )
    needs_summary: Comment | None = Field(
        default=None,
        title="Synthèse des besoins par domaine (facultatif)",
        description="Par exemple « logement : 40 ménages ; emploi : 60 personnes ».",
    )


class CoordinateurForm(ApprovalForm):
    decision: Choice = Field(title="Décision")
    coordinator_name: line(200) | None = Field(
        default=None,
        title="Nom du coordinateur (si enregistré)",
        description="Prénom et nom, par exemple « Camille Martin ».",
    )
    coordinator_email: EmailAddress | None = Field(
        default=None,
        title="Courriel du coordinateur (facultatif)",
        description="Par exemple coordination@ville.example.",
    )


class PropositionForm(ApprovalForm):
    decision: Choice = Field(title="Décision")


class SignatureForm(ApprovalForm):
    decision: Choice = Field(title="Décision")
    signature_date: date | None = Field(
        default=None,
        title="Date de signature par le préfet (si signé)",
        description="Au plus aujourd'hui ; par exemple 2021-10-21.",
    )
    elu_signature_date: date | None = Field(
        default=None,
        title="Date de signature par l'élu (si signé)",
        description="La date à laquelle l'exécutif de la collectivité a signé.",
    )
    diair_cosignatory_name: line(200) | None = Field(
        default=None,
        title="Co-signature du délégué interministériel : nom (facultatif)",
        description="Avec la date ci-dessous, ou ni l'un ni l'autre.",
    )
    diair_cosignature_date: date | None = Field(
        default=None, title="Co-signature du délégué interministériel : date (facultatif)"
    )


class RevueDiairForm(ApprovalForm):
    decision: Choice = Field(title="Décision")
    rework_action_ids: list[Annotated[int, Field(ge=1, le=2_147_483_647)]] = Field(
        default_factory=list,
        max_length=300,
        title="N° des actions à retravailler (si actions à retravailler)",
        description="Les n° du tableau des actions ci-dessus, par exemple 12 et 14.",
    )


class ActionReview(BaseModel):
    """The bilan of one action of the year reviewed."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=plain_fields)

    action_id: int = Field(ge=1, le=2_147_483_647, title="N° de l'action")
    realisee: bool = Field(title="Action réalisée")
    public_atteint: int = Field(ge=0, le=1_000_000, title="Public atteint (nombre de personnes)")
    consomme_eur: int = Field(ge=0, le=10_000_000, title="Montant consommé (euros)")


class ReviewForm(ApprovalForm):
    decision: Choice = Field(title="Décision proposée")
    bilan_actions: list[ActionReview] = Field(
        default_factory=list,
        max_length=300,
        title="Bilan de chaque action de l'année (facultatif si la collectivité l'a transmis)",
        description="Pour chaque action : n°, réalisée, public atteint, montant consommé.",
    )
    amount_eur: int | None = Field(
        default=None,
        ge=0,
        le=10_000_000,
        title="Avenant : socle de l'année suivante (si avenant)",
        description="En euros, entre 150 000 et 300 000 ; par exemple 250000.",
    )
    complementary_eur: int | None = Field(
        default=None,
        ge=0,
        le=10_000_000,
        title="Avenant : crédits complémentaires de l'année suivante (facultatif)",
        description="En euros ; par exemple 50000.",
    )


class ReviewSignatureForm(ApprovalForm):
    decision: Choice = Field(title="Décision")
    signature_date: date | None = Field(
        default=None,
        title="Date de signature par le préfet (si signé)",
        description="Au plus aujourd'hui ; par exemple 2022-01-20.",
    )


class ElargissementForm(SignatureForm):
    """The same dates as a contract's signature (both needed to sign), for the CTAIR widened."""

    decision: Choice = Field(title="Décision")
