"""The events that send email, each with a typed context.

A context is validated when the message is queued (so a bad call fails in the transaction
that records the decision, not days later in the sender) and stored as JSON in the outbox.
``territoires mail preview`` shows each of them as a real case produces it (``demo.previews``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

LETTER, NOTICE = "lettre", "avis"


class EmailContext(BaseModel):
    """What every email says: the case's reference and subject, who it is for, and who signs.

    Two registers: a **letter** to a collectivité or an association (« Madame la maire, », the
    decision, what to do by when, the recourse where it goes against them, « Pour le préfet et
    par délégation, »), and a short **service notice** to an agent of the State. The outbox picks
    the register from the recipient (``notifications.outbox``)."""

    model_config = ConfigDict(extra="forbid")

    reference: str  # contract or request number
    objet: str  # e.g. "Contrat territorial d'accueil et d'intégration de la Ville de Poitiers"
    destinataire: str  # display name of the recipient
    departement: str  # with its article: « la Vienne », « l'Isère », « le Rhône »; « national »
    expediteur: str = "La préfecture"  # the letterhead: « La préfecture de la Vienne »
    registre: Literal["lettre", "avis"] = LETTER
    appel: str = "Madame, Monsieur"  # « Madame la maire »: the letter opens and closes with it
    signature: list[str] = Field(
        default_factory=lambda: ["Pour le préfet et par délégation,", "Le service instructeur"]
    )
    autorite: str = "préfet"  # who decided, for the recourse: « préfet de la Vienne », « ministre de l'Intérieur »
    recours: bool = False  # the decision goes against the recipient: the letter gives the voies et délais de recours


class StepStarted(EmailContext):
    etape: str
    action_attendue: str | None = None
    echeance: date | None = None
    lien: str | None = None  # Prefect UI run, for agents


class StepDecided(EmailContext):
    etape: str
    decision: str
    decideur: str  # an office, as a letter names it: « le préfet de la Vienne »
    agent: str | None = None  # the agent who decided, for the service notice: « Jeanne Martin, agent instructeur »
    commentaire: str | None = None
    montant_cents: int | None = None
    prochaine_etape: str | None = None
    lien: str | None = None


class StepRework(EmailContext):
    etape: str
    motif: str
    action_attendue: str
    echeance: date | None = None
    lien: str | None = None


class ApprovalRequested(EmailContext):
    etape: str
    role: str
    resume: str
    code_ref: str  # the code is derived from it when the email is written; erased once sent
    expire_le: datetime
    lien: str
    motif_nouveau_code: str | None = None


class ResponsesBlocked(EmailContext):
    """To the agent: wrong codes were typed under their name; their answers are blocked."""

    etape: str
    agent_bloque: str
    courriel_bloque: str
    execution: str
    lien: str | None = None


class LockoutAlert(ResponsesBlocked):
    """To the préfets and administrators: an agent's answers are blocked after wrong codes."""

    courriel_destinataire: str
    code_ref: str  # the code that lifts this lock-out
    expire_le: datetime


class Reminder(EmailContext):
    etape: str
    en_attente_depuis: date
    jours_ouvres_de_retard: int
    numero_relance: int
    lien: str | None = None


class Escalation(EmailContext):
    etape: str
    en_attente_depuis: date
    jours_ouvres_de_retard: int
    agents_relances: list[str]
    lien: str | None = None


class ApplicantReminder(EmailContext):
    action_attendue: str
    echeance: date


class DeadlineNotice(EmailContext):
    """A dated deadline outside any step: before it (a reminder) or after it (an alert)."""

    piece: str  # what is due, e.g. "la lettre d'engagement"
    echeance: date
    echeance_depassee: bool
    action_attendue: str
    consequence: str | None = None


class RepairLine(BaseModel):
    dossier: str  # reference of the case
    etape: str
    constat: str  # what the sweep found, e.g. « l'exécution est en échec »
    action: str  # what it did, e.g. « exécution relancée », « intervention requise »
    lien: str | None = None


class StepsRepaired(EmailContext):
    """To the administrators: what the recovery sweep found and did."""

    lignes: list[RepairLine]
    interventions_requises: int = 0


class DelegationLine(BaseModel):
    action_p104: int
    nombre_demandes: int
    montant_cents: int


class CreditsDelegatedPrefecture(EmailContext):
    lot: str
    date_delegation: date
    lignes: list[DelegationLine]
    total_cents: int
    demandes: list[str]


class RequestClosed(EmailContext):
    motif: str
    echeance_depassee: date


class RequestRefusedMinistry(EmailContext):
    """The ministry's letter refusing a request for good, inside a batch (with the voies de recours)."""

    lot: str
    projet: str
    montant_demande_cents: int
    motif: str
    date_decision: date


class ComiteActionLine(BaseModel):
    action: str  # « n° 12 — Hébergement des familles (Coallia), CTAI-86-2021-0001 »
    decision: str | None = None
    a_revoir: bool = False  # flagged for the contract's yearly review
    motif: str | None = None


class ComiteMinutes(EmailContext):
    """To the parties of a comité de pilotage: its compte rendu once recorded."""

    niveau: str  # « local » or « national »
    date_prevue: date
    date_tenue: date
    participants: list[str]
    contrats: list[str]
    actions: list[ComiteActionLine]
    compte_rendu: str | None = None
    lien: str | None = None


class ActSigned(EmailContext):
    """To the beneficiary and the collectivité: the signed act, attached as a PDF."""

    type_acte: str  # « arrêté attributif de subvention »
    beneficiaire: str
    montant_cents: int
    annee: int
    date_signature: date
    signataire: str  # « Jeanne Martin » (the letter's signature block gives the title)
    echeance_compte_rendu: date | None = None  # associations only
    piece_jointe: int  # the stored document's id: the sender attaches it
    nom_fichier: str
    empreinte: str  # SHA-256 of the PDF, checked by the sender before it attaches it


EVENTS: dict[str, type[EmailContext]] = {
    "step_started": StepStarted,
    "step_decided": StepDecided,
    "step_rework": StepRework,
    "approval_requested": ApprovalRequested,
    "lockout_alert": LockoutAlert,
    "responses_blocked": ResponsesBlocked,
    "reminder": Reminder,
    "escalation": Escalation,
    "applicant_reminder": ApplicantReminder,
    "deadline_notice": DeadlineNotice,
    "credits_delegated_prefecture": CreditsDelegatedPrefecture,
    "request_closed": RequestClosed,
    "request_refused_ministry": RequestRefusedMinistry,
    "steps_repaired": StepsRepaired,
    "comite_minutes": ComiteMinutes,
    "act_signed": ActSigned,
}
ATTACHMENT_FIELD = "piece_jointe"  # a context with this field carries a stored document


# Values that must not outlive delivery: once sent (or given up), they are erased from the outbox
# row. ``code_ref`` is what an approval code is derived from; the code itself is never stored.
SENSITIVE_FIELDS: dict[str, tuple[str, ...]] = {"approval_requested": ("code_ref",), "lockout_alert": ("code_ref",)}
SECRET_FROM_REFERENCE = {"code_ref": "code"}  # rendered as ``code`` in the templates
SCRUBBED = "(effacé)"


class UnknownEvent(ValueError):
    code = "EVENEMENT_INCONNU"


def context_model(event: str) -> type[EmailContext]:
    try:
        return EVENTS[event]
    except KeyError:
        raise UnknownEvent(
            f"[{UnknownEvent.code}] événement « {event} » inconnu (connus : {', '.join(EVENTS)})"
        ) from None
