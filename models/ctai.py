"""CTAI: the contract, its yearly funding, diagnostic and actions; its state machine and rules."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, String, UniqueConstraint
from sqlmodel import JSON, Column, Field, SQLModel

from models.actors import CollectiviteType, is_valid_siret
from models.errors import Violation
from models.french import pluriel
from models.money import format_eur
from models.reference import CampaignRules, Domain, P104Action, Public, campaign_rules
from models.rules import non_negative_amount, p104_matches_public
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
    DIAIR_REWORK = "diair_rework"  # actions flagged by the Diair, back with the collectivité
    ACTIVE = "active"
    YEARLY_REVIEW = "yearly_review"
    REVIEW_SIGNATURE = "review_signature"  # a bilan's avenant, end or renewal, awaiting the préfet
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
    CtaiStatus.DIAIR_REWORK: "actions à retravailler par la collectivité",
    CtaiStatus.ACTIVE: "en cours d'exécution",
    CtaiStatus.YEARLY_REVIEW: "bilan annuel",
    CtaiStatus.REVIEW_SIGNATURE: "bilan annuel, en attente de la signature du préfet",
    CtaiStatus.ENDED: "terminé",
    CtaiStatus.REFUSED: "refusé",
    CtaiStatus.REPLACED: "remplacé par un CTAI",
    CtaiStatus.WIDENING: "élargissement d'un CTAIR, en attente de signature",
}

S = CtaiStatus


# The decisions of each step, as the audit trail and scripts keep them (their wordings, effects and
# transitions are declared once, with their step, in ``services.ctai.steps``).
class EngagementDecision(StrEnum):
    RECEIVED = "received"


class EchangeDecision(StrEnum):
    HELD = "held"


class DiagnosticDecision(StrEnum):
    APPROVE = "approve"
    REWORK = "rework"


class CoordinateurDecision(StrEnum):
    RECORD = "record"
    SKIP = "skip"


class PropositionDecision(StrEnum):
    APPROVE = "approve"
    REWORK = "rework"


class SignatureDecision(StrEnum):
    SIGN = "sign"
    REWORK = "rework"
    REJECT = "reject"


class RevueDiairDecision(StrEnum):
    APPROVE = "approve"
    REWORK = "rework"


class ReviewProposal(StrEnum):
    """The instructeur's decision at the yearly review: a proposal the review records."""

    PROLONG = "prolong"
    AMEND = "amend"
    END = "end"
    RENEW = "renew"


class ReviewSignatureDecision(StrEnum):
    SIGN_AMENDMENT = "sign_amendment"
    SIGN_END = "sign_end"
    REWORK = "rework"


class ElargissementDecision(StrEnum):
    SIGN = "sign"
    REJECT = "reject"


class CtaiEvent(StrEnum):
    """The moves no agent's step decides: the collectivité's reworked actions, the system."""

    CREATED = "created"
    REWORKED = "reworked"  # the collectivité sends its reworked actions (``territoires ctai rework``)
    OPEN_REVIEW = "open_review"  # the yearly review of a year opens
    REPLACED = "replaced"  # a CTAIR, once the CTAI that widens it is signed


# A contract is signed (its money engaged) from the préfet's signature on, whatever follows.
SIGNED_STATUSES = (S.DIAIR_REVIEW, S.DIAIR_REWORK, S.ACTIVE, S.YEARLY_REVIEW, S.REVIEW_SIGNATURE, S.ENDED, S.REPLACED)


class DiairReview(StrEnum):
    PENDING = "pending"
    COMPLIANT = "compliant"
    REWORK = "rework"


DIAIR_REVIEW_LABELS = {
    DiairReview.PENDING: "à examiner",
    DiairReview.COMPLIANT: "conforme",
    DiairReview.REWORK: "à retravailler",
}


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
    # The optional co-signature of the délégué interministériel (Diair): both or neither.
    diair_cosignatory_name: str | None = Field(default=None, max_length=200)
    diair_cosigned_on: date | None = None
    replaces_ctair_id: int | None = Field(default=None, foreign_key="ctai.id")
    renews_ctai_id: int | None = Field(default=None, foreign_key="ctai.id")  # the contract whose term this one follows
    review_year: int | None = None  # the year whose bilan is under way (yearly review and its signature)
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
    nature: str = Field(default="fonctionnement", sa_type=String(20))  # R16: operating costs only
    legal_act: str | None = Field(default=None, max_length=20)  # R13, computed by services.finance.acts


class CtaiReview(SQLModel, table=True):
    """The bilan of one year of a contract: the instructeur's proposal, then the préfet's signature
    (an avenant, an end, a renewal); a prolongation is decided by the instructeur alone."""

    __tablename__ = "ctai_review"
    __table_args__ = (UniqueConstraint("ctai_id", "year", name="uq_ctai_review_year"),)

    id: int | None = Field(default=None, primary_key=True)
    ctai_id: int = Field(foreign_key="ctai.id", index=True)
    year: int  # the year reviewed (bilan of year Y)
    proposal: ReviewProposal | None = Field(default=None, sa_type=String(10))
    socle_cents: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))  # avenant: year Y+1
    complementary_cents: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    prepared_by_agent_id: int | None = Field(default=None, foreign_key="agent.id")
    signed_by_agent_id: int | None = Field(default=None, foreign_key="agent.id")
    opened_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))
    decided_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))


class CtaiActionReview(SQLModel, table=True):
    """What one action of the year reviewed achieved."""

    __tablename__ = "ctai_action_bilan"
    __table_args__ = (UniqueConstraint("review_id", "action_id", name="uq_ctai_action_bilan"),)

    id: int | None = Field(default=None, primary_key=True)
    review_id: int = Field(foreign_key="ctai_review.id", index=True)
    action_id: int = Field(foreign_key="action.id")
    carried_out: bool
    public_reached: int = Field(ge=0)
    consumed_cents: int = Field(sa_column=Column(BigInteger, nullable=False))


# --- Rules ------------------------------------------------------------------------------------


def check_signatory(collectivite_type: CollectiviteType, rules: CampaignRules) -> list[Violation]:
    """R1: who may sign a CTAI (métropoles, CU, départements, régions; communes in practice)."""
    if str(collectivite_type) not in rules.ctai_signataires:
        allowed = ", ".join(rules.ctai_signataires)
        return [
            Violation(
                "R1_SIGNATAIRE_NON_ELIGIBLE",
                "collectivite.type",
                f"une collectivité de type « {collectivite_type} » ne peut pas signer de CTAI (types admis : "
                f"{allowed})",
            )
        ]
    return []


RulesOf = Callable[[int], CampaignRules]


def _rules_of(rules: CampaignRules | RulesOf) -> RulesOf:
    """Each funded year is checked against its own campaign's rules; a single ``CampaignRules``
    (unit tests) stands for every year."""
    return (lambda year: rules) if isinstance(rules, CampaignRules) else rules


def domains_min(rules: CampaignRules) -> int:
    """The merged instrument's minimum of domains a year (from 2022: 2), for CTAI and PTAI alike."""
    return rules.domaines_min


def housing_required(rules: CampaignRules) -> bool:
    return rules.logement_obligatoire


DEFAULT_DURATION_YEARS = 3  # only if the campaign data gives no ``ctai_duree_annees``


def duration_years(rules: CampaignRules) -> int:
    """A contract's term, in years (campaign data ``ctai_duree_annees``)."""
    return int(getattr(rules, "ctai_duree_annees", None) or DEFAULT_DURATION_YEARS)


def check_funding(
    funding: list[CtaiFunding], scope: Public, rules: CampaignRules | RulesOf = campaign_rules
) -> list[Violation]:
    """R4: socle of 150 000 – 300 000 € a year (each year's own bounds); complementary credits
    only when widened (their proportion to the actions is checked with the actions)."""
    rules_of = _rules_of(rules)
    out: list[Violation] = []
    if not funding:
        bounds = (
            f" (entre {format_eur(rules.socle_min_cents)} et {format_eur(rules.socle_max_cents)})"
            if isinstance(rules, CampaignRules)
            else ""
        )
        out.append(Violation("R4_FINANCEMENT_ABSENT", "financement", f"indiquez le socle annuel du contrat{bounds}"))
    for f in funding:
        r = rules_of(f.year)
        field = f"financement[{f.year}]"
        out += non_negative_amount(f"{field}.socle", f.socle_cents)
        out += non_negative_amount(f"{field}.complementaire", f.complementary_cents)
        if not r.socle_min_cents <= f.socle_cents <= r.socle_max_cents:
            out.append(
                Violation(
                    "R4_SOCLE_HORS_BORNES",
                    f"{field}.socle",
                    f"le socle {f.year} ({format_eur(f.socle_cents)}) doit être compris entre "
                    f"{format_eur(r.socle_min_cents)} et {format_eur(r.socle_max_cents)}",
                )
            )
        if f.complementary_cents > 0 and scope != Public.PRIMO_ARRIVANTS:
            out.append(
                Violation(
                    "R4_COMPLEMENTAIRE_NON_JUSTIFIE",
                    f"{field}.complementaire",
                    f"des crédits complémentaires ({format_eur(f.complementary_cents)}) exigent l'ouverture du "
                    "contrat aux primo-arrivants : élargissez le public ou retirez-les",
                )
            )
    return out


def check_actions(
    actions: list[Action], scope: Public, funding: list[CtaiFunding], rules: CampaignRules | RulesOf = campaign_rules
) -> list[Violation]:
    """R2, R4 (envelope, socle for the BPI actions, complementary credits in proportion to the
    primo-arrivants' actions), R5 (housing; from 2022 each year's domains), R16, R17."""
    rules_of = _rules_of(rules)
    out: list[Violation] = []
    if not any(a.domain == Domain.LOGEMENT for a in actions):
        out.append(
            Violation(
                "R5_LOGEMENT_OBLIGATOIRE",
                "actions",
                "un CTAI doit comporter au moins une action dans le domaine du logement : ajoutez-en une",
            )
        )
    per_year: dict[int, int] = defaultdict(int)
    per_year_p104: dict[tuple[int, int], int] = defaultdict(int)
    domains: dict[int, set[str]] = defaultdict(set)
    for i, a in enumerate(actions):
        field = f"actions[{i}]"
        out += non_negative_amount(f"{field}.montant", a.amount_cents)
        out += p104_matches_public(f"{field}.action_p104", a.p104_action, a.public)
        if a.public == Public.PRIMO_ARRIVANTS and scope == Public.BPI:
            out.append(
                Violation(
                    "R2_PUBLIC_NON_ELARGI",
                    f"{field}.public",
                    f"l'action « {a.title} » vise des primo-arrivants alors que le contrat est limité aux BPI : "
                    "élargissez le public du contrat",
                )
            )
        if (a.nature or "fonctionnement") != "fonctionnement":
            out.append(
                Violation(
                    "R16_INVESTISSEMENT_EXCLU",
                    f"{field}.nature",
                    f"l'action « {a.title} » finance de l'investissement : seuls les frais de fonctionnement sont "
                    "finançables",
                )
            )
        per_year[a.year] += a.amount_cents
        per_year_p104[(a.year, a.p104_action)] += a.amount_cents
        domains[a.year].add(str(a.domain))
    by_year = {f.year: f for f in funding}
    for year, total in sorted(per_year.items()):
        f = by_year.get(year)
        if f is None:
            out.append(
                Violation(
                    "R4_FINANCEMENT_ABSENT",
                    f"financement[{year}]",
                    f"des actions sont prévues en {year} sans financement pour cette année : ajoutez le socle {year}",
                )
            )
            continue
        envelope = f.socle_cents + f.complementary_cents
        if total > envelope:
            out.append(
                Violation(
                    "R4_ACTIONS_DEPASSENT_ENVELOPPE",
                    f"actions[{year}]",
                    f"les actions {year} totalisent {format_eur(total)}, au-delà des crédits du contrat "
                    f"({format_eur(envelope)})",
                )
            )
        bpi = per_year_p104[(year, P104Action.REFUGIES)]
        if bpi > f.socle_cents:
            out.append(
                Violation(
                    "R4_ACTIONS_BPI_AU_DELA_DU_SOCLE",
                    f"actions[{year}]",
                    f"les actions {year} pour les BPI (P104 action 15) totalisent {format_eur(bpi)}, au-delà du "
                    f"socle ({format_eur(f.socle_cents)}) qui les finance : réduisez-les ou relevez le socle",
                )
            )
        r = rules_of(year)
        wanted = domains_min(r)
        if wanted > 1 and len(domains[year]) < wanted:
            out.append(
                Violation(
                    "R5_DOMAINES_MINIMUM",
                    f"actions[{year}]",
                    f"la campagne {year} exige des actions dans au moins {wanted} domaines d'intégration (actions "
                    f"{year} : {pluriel(len(domains[year]), 'domaine')})",
                )
            )
        if housing_required(r) and str(Domain.LOGEMENT) not in domains[year]:
            out.append(
                Violation(
                    "R5_LOGEMENT_OBLIGATOIRE",
                    f"actions[{year}]",
                    f"la campagne {year} exige une action de logement parmi les actions {year} : ajoutez-en une",
                )
            )
    for f in funding:
        if f.complementary_cents <= 0 or scope != Public.PRIMO_ARRIVANTS:
            continue  # none, or unjustified (check_funding says so)
        primo = per_year_p104[(f.year, P104Action.PRIMO_ARRIVANTS)]
        if f.complementary_cents > primo:
            out.append(
                Violation(
                    "R4_COMPLEMENTAIRE_DISPROPORTIONNE",
                    f"financement[{f.year}].complementaire",
                    f"les crédits complémentaires {f.year} ({format_eur(f.complementary_cents)}) dépassent le total "
                    f"des actions {f.year} pour les primo-arrivants (P104 action 12 : {format_eur(primo)}) : ils "
                    "doivent rester en proportion de l'ouverture du contrat",
                )
            )
    return out


@dataclass(frozen=True)
class PorteurFacts:
    """What R15 needs to know of an action's porteur."""

    siret: str
    cultuelle: bool


def check_action_porteurs(actions: list[Action], porteurs: Mapping[int, PorteurFacts]) -> list[Violation]:
    """R15 for a contract's porteurs: a valid SIRET (Luhn key), never an association cultuelle."""
    out: list[Violation] = []
    for i, a in enumerate(actions):
        p = porteurs.get(a.porteur_id) if a.porteur_id is not None else None
        if p is None:
            continue  # carried by the collectivité itself
        field = f"actions[{i}].porteur_siret"
        if not is_valid_siret(p.siret):
            out.append(
                Violation(
                    "R15_SIRET_INVALIDE",
                    field,
                    f"le SIRET {p.siret} du porteur de l'action « {a.title} » est invalide (14 chiffres, clé de "
                    "contrôle) : corrigez-le",
                )
            )
        if p.cultuelle:
            out.append(
                Violation(
                    "R15_ASSOCIATION_CULTUELLE",
                    field,
                    f"le porteur de l'action « {a.title} » est une association cultuelle : il n'est pas éligible à "
                    "ces crédits",
                )
            )
    return out


def check_diagnostic(diagnostic: Diagnostic | None) -> list[Violation]:
    """R6: a validated diagnostic is mandatory for a CTAI."""
    if diagnostic is None or not diagnostic.validated:
        return [
            Violation(
                "R6_DIAGNOSTIC_OBLIGATOIRE",
                "diagnostic",
                "le diagnostic territorial partagé doit être validé avant la proposition de contrat",
            )
        ]
    return []


def check_diair_review(actions: list[Action]) -> list[Violation]:
    """R12: every retained action has been found compliant by the Diair."""
    pending = [a for a in actions if a.diair_review != DiairReview.COMPLIANT]
    return [
        Violation(
            "R12_REVUE_DIAIR", f"actions[{a.id}]", f"l'action « {a.title} » n'a pas été jugée conforme par la Diair"
        )
        for a in pending
    ]


def check_contract(
    *,
    collectivite_type: CollectiviteType,
    scope: Public,
    funding: list[CtaiFunding],
    actions: list[Action],
    diagnostic: Diagnostic | None,
    rules: CampaignRules,
    rules_of: RulesOf | None = None,
    porteurs: Mapping[int, PorteurFacts] | None = None,
) -> list[Violation]:
    """Everything a contract must satisfy before it is declared complete or signed: R1 by the
    rules of its first year, the funding and actions by the rules of each funded year."""
    per_year = rules_of or rules
    return (
        check_signatory(collectivite_type, rules)
        + check_diagnostic(diagnostic)
        + check_funding(funding, scope, per_year)
        + check_actions(actions, scope, funding, per_year)
        + check_action_porteurs(actions, porteurs or {})
    )


def check_signatures(
    *, prefet: date | None, elu: date | None, cosignatory: str | None, cosigned_on: date | None
) -> list[Violation]:
    """Seed 003, step 5: the préfet's and the élu's own dates; the Diair's co-signature is
    optional, but a name and a date, or neither."""
    out = []
    if prefet is None:
        out.append(
            Violation(
                "CHAMP_MANQUANT",
                "signature_date",
                "Date de signature par le préfet : ce champ est obligatoire pour signer",
            )
        )
    if elu is None:
        out.append(
            Violation(
                "CHAMP_MANQUANT",
                "elu_signature_date",
                "Date de signature par l'élu : ce champ est obligatoire pour signer (la date à laquelle l'exécutif "
                "de la collectivité a signé)",
            )
        )
    if bool((cosignatory or "").strip()) != (cosigned_on is not None):
        out.append(
            Violation(
                "COSIGNATURE_INCOMPLETE",
                "diair_cosignatory_name",
                "co-signature du délégué interministériel : indiquez son nom et la date de sa signature, ou ni l'un "
                "ni l'autre",
            )
        )
    return out


# --- Yearly review ---------------------------------------------------------------------------


def check_review_year(*, year: int, first_year: int, last_year: int, reviewed: set[int]) -> list[Violation]:
    """The bilan of year Y is opened once, for a year the contract covers."""
    if not first_year <= year <= last_year:
        return [
            Violation(
                "BILAN_ANNEE_HORS_CONTRAT", "annee", f"le contrat couvre {first_year}–{last_year} : pas de bilan {year}"
            )
        ]
    if year in reviewed:
        return [Violation("BILAN_DEJA_FAIT", "annee", f"le bilan {year} de ce contrat a déjà été conclu")]
    return []


def default_review_year(*, funded: list[int], first_year: int, last_year: int, reviewed: set[int]) -> int | None:
    """The earliest funded year, within the term, whose bilan is not done yet: bilans are drawn up
    in order, so a contract funded for its whole term is not reviewed on its last year first."""
    candidates = [y for y in funded if first_year <= y <= last_year and y not in reviewed]
    return min(candidates) if candidates else None


def check_review_proposal(proposal: str, *, year: int, last_year: int) -> list[Violation]:
    """Prolonging and amending fund the year after the one reviewed, within the term; past it the
    contract is renewed (a new contract), and renewing is only for the term's last year."""
    if proposal in (ReviewProposal.PROLONG, ReviewProposal.AMEND) and year >= last_year:
        return [
            Violation(
                "BILAN_TERME_ATTEINT",
                "decision",
                f"le contrat prend fin en {last_year} : il ne peut être ni prolongé ni modifié "
                f"au-delà ; proposez son renouvellement (un nouveau contrat à partir de {last_year + 1}) ou sa fin",
            )
        ]
    if proposal == ReviewProposal.RENEW and year != last_year:
        return [
            Violation(
                "BILAN_RENOUVELLEMENT_PREMATURE",
                "decision",
                f"le renouvellement se propose au bilan de la dernière année du contrat ({last_year}), "
                f"pas à celui de {year} : prolongez ou modifiez le contrat par avenant",
            )
        ]
    return []


def check_review_signature(decision: str, proposal: str | None, wordings: Mapping[str, str]) -> list[Violation]:
    """The préfet signs what the instructeur proposed: an avenant, or an end (a renewal ends too).
    ``wordings``: the French wording of each decision of the step, as its form offers it."""
    sign_amendment, sign_end = ReviewSignatureDecision.SIGN_AMENDMENT, ReviewSignatureDecision.SIGN_END
    expected = {sign_amendment: {ReviewProposal.AMEND}, sign_end: {ReviewProposal.END, ReviewProposal.RENEW}}
    if decision in expected and proposal not in expected[decision]:
        wanted = wordings[sign_amendment if proposal == ReviewProposal.AMEND else sign_end]
        return [
            Violation(
                "BILAN_DECISION_DISCORDANTE",
                "decision",
                f"le bilan propose « {REVIEW_PROPOSAL_LABELS.get(proposal, proposal)} » : "
                f"choisissez « {wanted} », ou renvoyez le bilan à l'instruction",
            )
        ]
    return []


REVIEW_PROPOSAL_LABELS = {
    ReviewProposal.PROLONG: "la prolongation des actions",
    ReviewProposal.AMEND: "un avenant",
    ReviewProposal.END: "la fin du contrat",
    ReviewProposal.RENEW: "le renouvellement du contrat",
}


def check_action_reviews(
    lines: list[tuple[int, bool | None, int | None, int | None]], actions: Mapping[int, Action], year: int
) -> list[Violation]:
    """Every action of the year reviewed has its bilan: carried out or not, public reached,
    amount consumed (at most the action's amount); no other action."""
    out = []
    seen = set()
    for i, (action_id, carried_out, reached, consumed_cents) in enumerate(lines):
        field = f"bilan_actions[{i}]"
        a = actions.get(action_id)
        if a is None or a.year != year:
            out.append(
                Violation(
                    "BILAN_ACTION_INCONNUE", field, f"l'action n° {action_id} n'est pas une action {year} de ce contrat"
                )
            )
            continue
        if action_id in seen:
            out.append(
                Violation("BILAN_ACTION_EN_DOUBLE", field, f"l'action n° {action_id} figure deux fois dans le bilan")
            )
        seen.add(action_id)
        if carried_out is None or reached is None or consumed_cents is None:
            out.append(
                Violation(
                    "CHAMP_MANQUANT",
                    field,
                    f"action n° {action_id} : indiquez si elle a été réalisée, le public atteint et le montant "
                    "consommé",
                )
            )
            continue
        if consumed_cents > a.amount_cents:
            out.append(
                Violation(
                    "BILAN_CONSOMME_SUPERIEUR",
                    f"{field}.consomme_eur",
                    f"action n° {action_id} « {a.title} » : {format_eur(consumed_cents)} consommés, au-delà de son "
                    f"montant ({format_eur(a.amount_cents)})",
                )
            )
    missing = sorted(i for i, a in actions.items() if a.year == year and i not in seen)
    if missing:
        out.append(
            Violation(
                "BILAN_ACTIONS_MANQUANTES",
                "bilan_actions",
                f"le bilan {year} doit porter sur chaque action de l'année : manquent les actions n° "
                f"{', '.join(map(str, missing))}",
            )
        )
    return out


# --- CTAIR registration ----------------------------------------------------------------------

CTAIR_SIGNATURE_YEARS = (2019, 2020)


def check_ctair(
    *,
    signature_date: date,
    scope: Public,
    funding: list[CtaiFunding],
    actions: list[Action],
    first_year: int,
    last_year: int,
    already_active: str | None,
) -> list[Violation]:
    """A CTAIR (the 2019–2020 predecessor) as it may be registered: signed in 2019 or 2020, for
    refugees only (R2: public BPI, R17: P104 action 15), funded within its term, one per collectivité."""
    out = []
    if signature_date.year not in CTAIR_SIGNATURE_YEARS:
        out.append(
            Violation(
                "CTAIR_DATE_SIGNATURE",
                "signature_date",
                f"un CTAIR a été signé en 2019 ou en 2020, pas le {signature_date:%d/%m/%Y}",
            )
        )
    if scope != Public.BPI:
        out.append(
            Violation(
                "R2_CTAIR_REFUGIES",
                "public",
                "un CTAIR ne vise que les bénéficiaires de la protection internationale : public « bpi »",
            )
        )
    for i, a in enumerate(actions):
        if a.public != Public.BPI:
            out.append(
                Violation(
                    "R2_CTAIR_REFUGIES",
                    f"actions[{i}].public",
                    f"l'action « {a.title} » d'un CTAIR ne peut viser que des BPI",
                )
            )
        if a.p104_action != P104Action.REFUGIES:
            out.append(
                Violation(
                    "R17_ACTION_P104",
                    f"actions[{i}].action_p104",
                    f"l'action « {a.title} » d'un CTAIR est financée sur l'action P104 15 (réfugiés), pas "
                    f"{a.p104_action}",
                )
            )
    for f in funding:
        if not first_year <= f.year <= last_year:
            out.append(
                Violation(
                    "CTAIR_ANNEE_HORS_TERME",
                    f"financement[{f.year}]",
                    f"le CTAIR signé en {signature_date.year} court de {first_year} à {last_year} : pas de "
                    f"financement {f.year}",
                )
            )
    if already_active:
        out.append(
            Violation(
                "CTAIR_EN_DOUBLE", "collectivite", f"cette collectivité a déjà un CTAIR en cours ({already_active})"
            )
        )
    return out


def ctai_reference(departement_code: str, year: int, ctai_id: int) -> str:
    return f"CTAI-{departement_code}-{year}-{ctai_id:04d}"
