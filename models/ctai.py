"""CTAI: the contract, its yearly funding, diagnostic and actions; its state machine and rules."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, String, UniqueConstraint
from sqlmodel import JSON, Column, Field, SQLModel

from models.actors import CollectiviteType, Role
from models.errors import Violation
from models.money import format_eur
from models.reference import CampaignRules, Domain, Public
from models.rules import non_negative_amount, p104_matches_public
from models.state_machine import StateMachine, Transition
from models.types import UtcDateTime, utcnow


class CtaiKind(StrEnum):
    CTAI = "ctai"
    CTAIR = "ctair"  # the 2019-2020 refugee-only predecessor


class CtaiStatus(StrEnum):
    AWAITING_LETTER = "awaiting_letter"
    EXCHANGE = "exchange"
    DIAGNOSTIC = "diagnostic"
    COORDINATOR = "coordinator"
    PROPOSAL = "proposal"
    SIGNATURE = "signature"
    DIAIR_REVIEW = "diair_review"
    ACTIVE = "active"
    YEARLY_REVIEW = "yearly_review"
    ENDED = "ended"
    REFUSED = "refused"
    REPLACED = "replaced"
    WIDENING = "widening"  # a CTAI replacing a CTAIR, awaiting the préfet's signature


CTAI_STATUS_LABELS = {
    CtaiStatus.AWAITING_LETTER: "lettre d'engagement attendue",
    CtaiStatus.EXCHANGE: "temps d'échange",
    CtaiStatus.DIAGNOSTIC: "diagnostic partagé",
    CtaiStatus.COORDINATOR: "désignation du coordinateur",
    CtaiStatus.PROPOSAL: "proposition de contrat et demande de financement",
    CtaiStatus.SIGNATURE: "validation et signature",
    CtaiStatus.DIAIR_REVIEW: "revue des actions par la Diair",
    CtaiStatus.ACTIVE: "en cours d'exécution",
    CtaiStatus.YEARLY_REVIEW: "bilan annuel",
    CtaiStatus.ENDED: "terminé",
    CtaiStatus.REFUSED: "refusé",
    CtaiStatus.REPLACED: "remplacé par un CTAI",
    CtaiStatus.WIDENING: "élargissement d'un CTAIR, en attente de signature",
}

S = CtaiStatus
I, P, D = Role.INSTRUCTEUR, Role.PREFET, Role.DIAIR

CTAI_MACHINE = StateMachine("CTAI", [
    Transition("engagement", S.AWAITING_LETTER, "received", S.EXCHANGE, I, "lettre d'engagement reçue"),
    Transition("echange", S.EXCHANGE, "held", S.DIAGNOSTIC, I, "temps d'échange tenu"),
    Transition("diagnostic", S.DIAGNOSTIC, "approve", S.COORDINATOR, I, "diagnostic validé"),
    Transition("diagnostic", S.DIAGNOSTIC, "rework", S.DIAGNOSTIC, I, "diagnostic à retravailler"),
    Transition("coordinateur", S.COORDINATOR, "record", S.PROPOSAL, I, "coordinateur enregistré"),
    Transition("coordinateur", S.COORDINATOR, "skip", S.PROPOSAL, I, "pas de coordinateur"),
    Transition("proposition", S.PROPOSAL, "approve", S.SIGNATURE, I, "proposition complète", guarded=True),
    Transition("proposition", S.PROPOSAL, "rework", S.PROPOSAL, I, "proposition à retravailler"),
    Transition("signature", S.SIGNATURE, "sign", S.DIAIR_REVIEW, P, "contrat signé", guarded=True),
    Transition("signature", S.SIGNATURE, "rework", S.PROPOSAL, P, "proposition renvoyée pour reprise"),
    Transition("signature", S.SIGNATURE, "reject", S.REFUSED, P, "signature refusée"),
    Transition("revue_diair", S.DIAIR_REVIEW, "approve", S.ACTIVE, D, "actions conformes", guarded=True),
    Transition("revue_diair", S.DIAIR_REVIEW, "rework", S.DIAIR_REVIEW, D, "actions à retravailler"),
    Transition("pilotage", S.ACTIVE, "minutes", S.ACTIVE, D, "comité de pilotage tenu"),
    Transition("bilan", S.ACTIVE, "open_review", S.YEARLY_REVIEW, None, "bilan annuel ouvert"),
    Transition("bilan", S.YEARLY_REVIEW, "prolong", S.ACTIVE, I, "actions prolongées"),
    Transition("bilan", S.YEARLY_REVIEW, "amend", S.ACTIVE, I, "avenant conclu"),
    Transition("bilan", S.YEARLY_REVIEW, "end", S.ENDED, I, "contrat terminé"),
    Transition("elargissement", S.ACTIVE, "replaced", S.REPLACED, P, "CTAIR remplacé par un CTAI"),
    Transition("elargissement", S.WIDENING, "sign", S.DIAIR_REVIEW, P, "CTAI signé en lieu et place du CTAIR",
               guarded=True),
    Transition("elargissement", S.WIDENING, "reject", S.REFUSED, P, "élargissement refusé"),
])

# The step (and so the Prefect flow) that carries each status, and its French label.
STEP_OF_STATUS = {
    S.AWAITING_LETTER: "engagement",
    S.EXCHANGE: "echange",
    S.DIAGNOSTIC: "diagnostic",
    S.COORDINATOR: "coordinateur",
    S.PROPOSAL: "proposition",
    S.SIGNATURE: "signature",
    S.DIAIR_REVIEW: "revue_diair",
    S.YEARLY_REVIEW: "bilan",
    S.WIDENING: "elargissement",
}
STATUS_OF_STEP = {step: status for status, step in STEP_OF_STATUS.items()}
STEP_LABELS = {
    "engagement": "lettre d'engagement",
    "echange": "temps d'échange",
    "diagnostic": "diagnostic partagé",
    "coordinateur": "coordinateur",
    "proposition": "proposition de contrat et demande de financement",
    "signature": "validation et signature",
    "revue_diair": "revue des actions par la Diair",
    "bilan": "bilan annuel et avenant",
    "elargissement": "élargissement du CTAIR en CTAI",
}
# What the collectivité is asked to do while a step is open.
STEP_EXPECTATIONS = {
    "engagement": "Adresser au préfet (et à la Diair) la lettre d'engagement signée par l'exécutif, avant la fin de l'année précédant la signature.",
    "echange": "Participer au temps d'échange avec les services de la préfecture.",
    "diagnostic": "Co-rédiger avec la préfecture le diagnostic territorial partagé : public visé et besoins par domaine.",
    "coordinateur": "Désigner ou recruter, si vous le souhaitez, un coordinateur du contrat.",
    "proposition": "Transmettre la proposition de contrat : actions, porteurs, montants par année (territoires ctai propose).",
    "signature": None,
    "revue_diair": None,
    "bilan": "Transmettre le bilan de l'année écoulée et, le cas échéant, les actions à prolonger ou à modifier.",
    "elargissement": None,
}


class DiairReview(StrEnum):
    PENDING = "pending"
    COMPLIANT = "compliant"
    REWORK = "rework"


DIAIR_REVIEW_LABELS = {DiairReview.PENDING: "à examiner", DiairReview.COMPLIANT: "conforme", DiairReview.REWORK: "à retravailler"}


# --- Tables -----------------------------------------------------------------------------------

class Ctai(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    reference: str | None = Field(default=None, max_length=40, unique=True)
    kind: CtaiKind = Field(default=CtaiKind.CTAI, sa_type=String(5))
    collectivite_id: int = Field(foreign_key="collectivite.id", index=True)
    status: CtaiStatus = Field(default=CtaiStatus.AWAITING_LETTER, sa_type=String(20), index=True)
    first_year: int
    last_year: int
    public_scope: Public = Field(default=Public.BPI, sa_type=String(20))
    coordinator_name: str | None = Field(default=None, max_length=200)
    coordinator_email: str | None = Field(default=None, max_length=254)
    letter_received_on: date | None = None
    letter_signatory: str | None = Field(default=None, max_length=200)
    prefet_signed_on: date | None = None
    elu_signed_on: date | None = None
    replaces_ctair_id: int | None = Field(default=None, foreign_key="ctai.id")
    instructed_by_agent_id: int | None = Field(default=None, foreign_key="agent.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))


class CtaiFunding(SQLModel, table=True):
    __tablename__ = "ctai_funding"
    __table_args__ = (UniqueConstraint("ctai_id", "year", name="uq_ctai_funding_year"),)

    id: int | None = Field(default=None, primary_key=True)
    ctai_id: int = Field(foreign_key="ctai.id", index=True)
    year: int
    socle_cents: int = Field(sa_column=Column(BigInteger, nullable=False))
    complementary_cents: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))


class Diagnostic(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    ctai_id: int = Field(foreign_key="ctai.id", unique=True)
    reference_year: int
    bpi_count: int = Field(ge=0)
    primo_arrivants_count: int | None = Field(default=None, ge=0)
    needs_by_domain: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    validated: bool = False


class Action(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    ctai_id: int = Field(foreign_key="ctai.id", index=True)
    title: str = Field(max_length=300)
    domain: Domain = Field(sa_type=String(40))
    porteur_id: int | None = Field(default=None, foreign_key="porteur.id")
    public: Public = Field(sa_type=String(20))
    p104_action: int
    amount_cents: int = Field(sa_column=Column(BigInteger, nullable=False))
    year: int
    period_start: date | None = None
    period_end: date | None = None
    diair_review: DiairReview = Field(default=DiairReview.PENDING, sa_type=String(10))
    diair_comment: str | None = None


# --- Rules ------------------------------------------------------------------------------------

def check_signatory(collectivite_type: CollectiviteType, rules: CampaignRules) -> list[Violation]:
    """R1: who may sign a CTAI (métropoles, CU, départements, régions; communes in practice)."""
    if str(collectivite_type) not in rules.ctai_signataires:
        allowed = ", ".join(rules.ctai_signataires)
        return [Violation("R1_SIGNATAIRE_NON_ELIGIBLE", "collectivite.type", f"une collectivité de type « {collectivite_type} » ne peut pas signer de CTAI (types admis : {allowed})")]
    return []


def check_funding(funding: list[CtaiFunding], scope: Public, rules: CampaignRules) -> list[Violation]:
    """R4: socle of 150 000 – 300 000 € a year; complementary credits only when widened."""
    out: list[Violation] = []
    if not funding:
        out.append(Violation("R4_FINANCEMENT_ABSENT", "financement", "indiquez le socle annuel du contrat (entre "
                             f"{format_eur(rules.socle_min_cents)} et {format_eur(rules.socle_max_cents)})"))
    for f in funding:
        field = f"financement[{f.year}]"
        out += non_negative_amount(f"{field}.socle", f.socle_cents)
        out += non_negative_amount(f"{field}.complementaire", f.complementary_cents)
        if not rules.socle_min_cents <= f.socle_cents <= rules.socle_max_cents:
            out.append(Violation("R4_SOCLE_HORS_BORNES", f"{field}.socle", f"le socle {f.year} ({format_eur(f.socle_cents)}) doit être compris entre {format_eur(rules.socle_min_cents)} et {format_eur(rules.socle_max_cents)}"))
        if f.complementary_cents > 0 and scope != Public.PRIMO_ARRIVANTS:
            out.append(Violation("R4_COMPLEMENTAIRE_NON_JUSTIFIE", f"{field}.complementaire", f"des crédits complémentaires ({format_eur(f.complementary_cents)}) exigent l'ouverture du contrat aux primo-arrivants : élargissez le public ou retirez-les"))
    return out


def check_actions(actions: list[Action], scope: Public, funding: list[CtaiFunding]) -> list[Violation]:
    """R2, R5, R17 and the yearly envelope: what the contract's actions must respect."""
    out: list[Violation] = []
    if not any(a.domain == Domain.LOGEMENT for a in actions):
        out.append(Violation("R5_LOGEMENT_OBLIGATOIRE", "actions", "un CTAI doit comporter au moins une action dans le domaine du logement : ajoutez-en une"))
    per_year: dict[int, int] = defaultdict(int)
    for i, a in enumerate(actions):
        field = f"actions[{i}]"
        out += non_negative_amount(f"{field}.montant", a.amount_cents)
        out += p104_matches_public(f"{field}.action_p104", a.p104_action, a.public)
        if a.public == Public.PRIMO_ARRIVANTS and scope == Public.BPI:
            out.append(Violation("R2_PUBLIC_NON_ELARGI", f"{field}.public", f"l'action « {a.title} » vise des primo-arrivants alors que le contrat est limité aux BPI : élargissez le public du contrat"))
        per_year[a.year] += a.amount_cents
    envelope = {f.year: f.socle_cents + f.complementary_cents for f in funding}
    for year, total in sorted(per_year.items()):
        if year in envelope and total > envelope[year]:
            out.append(Violation("R4_ACTIONS_DEPASSENT_ENVELOPPE", f"actions[{year}]", f"les actions {year} totalisent {format_eur(total)}, au-delà des crédits du contrat ({format_eur(envelope[year])})"))
        elif year not in envelope:
            out.append(Violation("R4_FINANCEMENT_ABSENT", f"financement[{year}]", f"des actions sont prévues en {year} sans financement pour cette année : ajoutez le socle {year}"))
    return out


def check_diagnostic(diagnostic: Diagnostic | None) -> list[Violation]:
    """R6: a validated diagnostic is mandatory for a CTAI."""
    if diagnostic is None or not diagnostic.validated:
        return [Violation("R6_DIAGNOSTIC_OBLIGATOIRE", "diagnostic", "le diagnostic territorial partagé doit être validé avant la proposition de contrat")]
    return []


def check_diair_review(actions: list[Action]) -> list[Violation]:
    """R12: every retained action has been found compliant by the Diair."""
    pending = [a for a in actions if a.diair_review != DiairReview.COMPLIANT]
    return [Violation("R12_REVUE_DIAIR", f"actions[{a.id}]", f"l'action « {a.title} » n'a pas été jugée conforme par la Diair") for a in pending]


def check_contract(*, collectivite_type: CollectiviteType, scope: Public, funding: list[CtaiFunding],
                   actions: list[Action], diagnostic: Diagnostic | None, rules: CampaignRules) -> list[Violation]:
    """Everything a contract must satisfy before it is declared complete or signed."""
    return (check_signatory(collectivite_type, rules) + check_diagnostic(diagnostic)
            + check_funding(funding, scope, rules) + check_actions(actions, scope, funding))


def apply_decision(ctai: Ctai, decision: str, *, checks: list[Violation] | None = None) -> Transition:
    """Moves the contract along its table. ``checks`` are the rule results that a guarded
    transition requires (proposal, signature, Diair review, widening); any violation refuses
    the change."""
    return CTAI_MACHINE.apply(ctai, decision, checks=checks)


def ctai_reference(departement_code: str, year: int, ctai_id: int) -> str:
    return f"CTAI-{departement_code}-{year}-{ctai_id:04d}"
