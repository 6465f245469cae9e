"""The events that send email, each with a typed context.

A context is validated when the message is queued (so a bad call fails in the transaction
that records the decision, not days later in the sender) and stored as JSON in the outbox.
Each event also carries sample data for ``territoires mail preview`` and the tests.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from pydantic import BaseModel, ConfigDict


class EmailContext(BaseModel):
    """What every email says: the case's reference and subject, who it is for, and who signs."""

    model_config = ConfigDict(extra="forbid")

    reference: str  # contract or request number
    objet: str  # e.g. "Contrat territorial d'accueil et d'intégration de la Ville de Poitiers"
    destinataire: str  # display name of the recipient
    departement: str  # e.g. "Vienne (86)"
    expediteur: str = "La préfecture"  # who signs the letter


class StepStarted(EmailContext):
    etape: str
    action_attendue: str | None = None
    echeance: date | None = None
    lien: str | None = None  # Prefect UI run, for agents


class StepDecided(EmailContext):
    etape: str
    decision: str
    decideur: str
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


class CreditsDelegatedPorteur(EmailContext):
    lot: str
    projet: str
    montant_cents: int
    action_p104: int
    acte_juridique: str  # "arrete" or "convention" (R13)
    date_delegation: date


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
    signataire: str  # « Jeanne Martin, Pour le préfet et par délégation, la secrétaire générale »
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
    "credits_delegated_porteur": CreditsDelegatedPorteur,
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
        raise UnknownEvent(f"[{UnknownEvent.code}] événement « {event} » inconnu (connus : {', '.join(EVENTS)})") from None


_CTAI = {"reference": "CTAI-86-2021-0001", "objet": "Contrat territorial d'accueil et d'intégration de la Ville de Poitiers",
         "departement": "Vienne (86)", "expediteur": "La préfecture de la Vienne"}
_PTAI = {"reference": "PTAI-38-2021-00004", "objet": "Projet territorial « Robes de papier : ateliers de santé mentale »",
         "departement": "Isère (38)", "expediteur": "La préfecture de l'Isère"}
_RUN = "http://127.0.0.1:4200/runs/flow-run/0f6b6c1e-5d3a-4c5e-9a47-3f1d2e8b9c10"

SAMPLES: dict[str, dict] = {
    "step_started": {**_CTAI, "destinataire": "Ville de Poitiers", "etape": "validation et signature",
                     "action_attendue": "Aucune action de votre part : le préfet examine le contrat.",
                     "echeance": date(2021, 10, 29)},
    "step_decided": {**_CTAI, "destinataire": "Ville de Poitiers", "etape": "validation et signature",
                     "decision": "contrat signé", "decideur": "le préfet de la Vienne",
                     "commentaire": "Signé le 21 octobre 2021.", "montant_cents": 20_000_000,
                     "prochaine_etape": "revue des actions par la Diair"},
    "step_rework": {**_PTAI, "destinataire": "Grenoble-Alpes Métropole", "etape": "instruction locale",
                    "motif": "Le budget prévisionnel ne détaille pas les cofinancements.",
                    "action_attendue": "Transmettre le budget détaillé (territoires ptai complete).",
                    "echeance": date(2021, 6, 15)},
    "approval_requested": {**_CTAI, "destinataire": "Préfet de la Vienne", "etape": "validation et signature",
                           "role": "préfet", "resume": "Socle 2021 : 150 000 € ; complémentaire : 50 000 € ; 8 actions.",
                           "code_ref": "exemple", "expire_le": datetime(2021, 11, 4, 17, 0, tzinfo=UTC), "lien": _RUN},
    "responses_blocked": {**_CTAI, "destinataire": "Agent instructeur (86)", "etape": "validation et signature",
                          "agent_bloque": "Agent instructeur (86) <instructeur.86@prefecture-86.example>",
                          "courriel_bloque": "instructeur.86@prefecture-86.example",
                          "execution": "0f6b6c1e-5d3a-4c5e-9a47-3f1d2e8b9c10", "lien": _RUN},
    "lockout_alert": {**_CTAI, "destinataire": "Préfet de la Vienne", "etape": "validation et signature",
                      "agent_bloque": "Agent instructeur (86) <instructeur.86@prefecture-86.example>",
                      "courriel_bloque": "instructeur.86@prefecture-86.example",
                      "courriel_destinataire": "prefet.86@prefecture-86.example",
                      "execution": "0f6b6c1e-5d3a-4c5e-9a47-3f1d2e8b9c10", "lien": _RUN,
                      "code_ref": "exemple", "expire_le": datetime(2021, 11, 4, 17, 0, tzinfo=UTC)},
    "reminder": {**_CTAI, "destinataire": "Agent instructeur (86)", "etape": "diagnostic partagé",
                 "en_attente_depuis": date(2021, 3, 1), "jours_ouvres_de_retard": 4, "numero_relance": 1, "lien": _RUN},
    "escalation": {**_CTAI, "destinataire": "Préfet de la Vienne", "etape": "diagnostic partagé",
                   "en_attente_depuis": date(2021, 3, 1), "jours_ouvres_de_retard": 12,
                   "agents_relances": ["instructeur.86@prefecture-86.example"], "lien": _RUN},
    "applicant_reminder": {**_PTAI, "destinataire": "Grenoble-Alpes Métropole",
                           "action_attendue": "Transmettre le budget détaillé (territoires ptai complete).",
                           "echeance": date(2021, 6, 15)},
    "deadline_notice": {**_CTAI, "reference": "CTAI-86-2022-0002", "destinataire": "Ville de Poitiers",
                        "piece": "la lettre d'engagement", "echeance": date(2021, 12, 31), "echeance_depassee": False,
                        "action_attendue": "Adresser au préfet la lettre d'engagement de la collectivité, signée par son exécutif.",
                        "consequence": "Sans cette lettre, le contrat ne pourra pas être signé en 2022."},
    "credits_delegated_prefecture": {**_PTAI, "destinataire": "Préfecture de l'Isère", "lot": "LOT-2021-03",
                                     "expediteur": "Le ministère de l'Intérieur (DGEF/DIAN)",
                                     "date_delegation": date(2021, 7, 12), "total_cents": 2_000_000,
                                     "lignes": [{"action_p104": 12, "nombre_demandes": 1, "montant_cents": 2_000_000}],
                                     "demandes": ["PTAI-38-2021-00004"]},
    "credits_delegated_porteur": {**_PTAI, "destinataire": "Robes de papier", "lot": "LOT-2021-03",
                                  "projet": "Robes de papier : ateliers de santé mentale", "montant_cents": 2_000_000,
                                  "action_p104": 12, "acte_juridique": "arrete", "date_delegation": date(2021, 7, 12)},
    "steps_repaired": {"reference": "REPRISE-2021-10-21", "objet": "Reprise des étapes interrompues",
                       "destinataire": "Administrateur de la plateforme", "departement": "national",
                       "expediteur": "La plateforme Territoires d'intégration", "interventions_requises": 0,
                       "lignes": [{"dossier": "CTAI-86-2021-0001", "etape": "validation et signature",
                                   "constat": "le processus qui exécutait l'étape s'est arrêté",
                                   "action": "exécution relancée", "lien": _RUN}]},
    "comite_minutes": {**_CTAI, "reference": "COPIL-86-2022-0001",
                       "objet": "Comité de pilotage local des contrats territoriaux d'accueil et d'intégration — Vienne (86)",
                       "destinataire": "Ville de Poitiers", "niveau": "local", "date_prevue": date(2022, 3, 15),
                       "date_tenue": date(2022, 3, 15),
                       "participants": ["Préfète de la Vienne", "Adjointe au maire de Poitiers, chargée de l'intégration",
                                        "Coallia, directrice régionale"],
                       "contrats": ["CTAI-86-2021-0001 — Ville de Poitiers"],
                       "actions": [{"action": "n° 3 — Hébergement temporaire des réfugiés (Coallia), CTAI-86-2021-0001",
                                    "decision": "Action poursuivie ; 38 personnes hébergées en 2021.", "a_revoir": True,
                                    "motif": "Action la plus importante du contrat : évaluation qualitative approfondie."},
                                   {"action": "n° 5 — Ateliers sociolinguistiques (Audacia), CTAI-86-2021-0001",
                                    "decision": "Action poursuivie sans changement."}],
                       "compte_rendu": "Le comité a fait le point sur l'exécution 2021 du contrat.\nProchain comité à l'automne."},
    "act_signed": {**_CTAI, "reference": "CV-86-2021-0004", "objet": "Convention attributive de subvention 2021 — Toit du Monde",
                   "destinataire": "Toit du Monde", "type_acte": "convention attributive de subvention",
                   "beneficiaire": "Toit du Monde", "montant_cents": 5_000_000, "annee": 2021,
                   "date_signature": date(2021, 10, 21),
                   "signataire": "Jeanne Martin, Pour le préfet et par délégation, la secrétaire générale",
                   "echeance_compte_rendu": date(2022, 6, 30), "piece_jointe": 1, "nom_fichier": "CV-86-2021-0004.pdf",
                   "empreinte": "0" * 64},
    "request_closed": {**_PTAI, "destinataire": "Grenoble-Alpes Métropole",
                       "motif": "Les compléments demandés n'ont pas été transmis dans le délai imparti.",
                       "echeance_depassee": date(2021, 6, 15)},
    "request_refused_ministry": {**_PTAI, "destinataire": "Grenoble-Alpes Métropole", "lot": "LOT-2021-003",
                                 "expediteur": "Le ministère de l'Intérieur (DGEF/DIAN)",
                                 "projet": "Robes de papier : ateliers de santé mentale", "montant_demande_cents": 2_000_000,
                                 "motif": "Le projet relève du droit commun de la santé et non des crédits d'intégration.",
                                 "date_decision": date(2021, 7, 12)},
}
