"""PTAI funding request: the table, its state machine and the submission rules."""

from __future__ import annotations

import hashlib
import unicodedata
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Index, String, text
from sqlmodel import JSON, Column, Field, SQLModel

from models.errors import Violation
from models.money import format_eur
from models.reference import CampaignRules, Domain, Public
from models.rules import eligible_categories, non_negative_amount, p104_matches_public, public_of
from models.types import UtcDateTime, utcnow


class PtaiStatus(StrEnum):
    SUBMITTED = "submitted"
    AWAITING_APPLICANT = "awaiting_applicant"
    PREFET_VALIDATION = "prefet_validation"
    TRANSMITTED = "transmitted"
    IN_BATCH = "in_batch"
    DELEGATED = "delegated"
    REJECTED = "rejected"
    CLOSED = "closed"


PTAI_STATUS_LABELS = {
    PtaiStatus.SUBMITTED: "déposée, en instruction",
    PtaiStatus.AWAITING_APPLICANT: "complément demandé au demandeur",
    PtaiStatus.PREFET_VALIDATION: "en attente de validation par le préfet",
    PtaiStatus.TRANSMITTED: "transmise au ministère",
    PtaiStatus.IN_BATCH: "dans un lot de délégation",
    PtaiStatus.DELEGATED: "crédits délégués",
    PtaiStatus.REJECTED: "rejetée",
    PtaiStatus.CLOSED: "classée sans suite",
}

S = PtaiStatus


# The decisions of each step, as the audit trail and scripts keep them (their wordings, effects and
# transitions are declared once, with their step, in ``services.ptai.steps``).
class InstructionDecision(StrEnum):
    """The instructeur's opinion (recorded on the request), or complements asked of the applicant."""

    FAVOURABLE = "favourable"
    UNFAVOURABLE = "unfavourable"
    REWORK = "rework"


class ValidationDecision(StrEnum):
    VALIDATE = "validate"
    REJECT = "reject"


class PtaiEvent(StrEnum):
    """The moves no agent's approval step decides: the applicant's answer, the daily run, and the
    ministry's batches (``services.finance``)."""

    SUBMITTED = "submitted"
    COMPLETED = "completed"
    DEADLINE_PASSED = "deadline_passed"
    BATCHED = "batched"
    REDUCED = "reduced"
    POSTPONED = "postponed"
    REFUSED = "refused"
    DELEGATED = "delegated"
    BATCH_REJECTED = "batch_rejected"
    DELEGATION_FAILED = "delegation_failed"


MAX_POSTPONEMENTS = 1  # the ministry may put a request off to the next batch once


class Nature(StrEnum):
    FONCTIONNEMENT = "fonctionnement"
    INVESTISSEMENT = "investissement"


# A request is a duplicate of an open one with the same applicant, porteur, title and campaign.
OPEN_REQUEST = "status NOT IN ('rejected', 'closed')"


class PtaiRequest(SQLModel, table=True):
    __tablename__ = "ptai_request"
    __table_args__ = (
        Index(
            "uq_ptai_request_open_duplicate",
            "duplicate_key",
            unique=True,
            sqlite_where=text(OPEN_REQUEST),
            postgresql_where=text(OPEN_REQUEST),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    reference: str | None = Field(default=None, max_length=40, unique=True)
    campaign_year: int = Field(index=True)
    collectivite_id: int = Field(foreign_key="collectivite.id", index=True)
    porteur_id: int | None = Field(default=None, foreign_key="porteur.id", index=True)
    title: str = Field(max_length=300)
    objectives: str
    domains: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    public_categories: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    public: Public = Field(sa_type=String(20))
    beneficiaries_count: int | None = None
    bpi_justification: str | None = None
    widening_perspective: str | None = None
    cir_complementarity: str
    engagement: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    nature: Nature = Field(default=Nature.FONCTIONNEMENT, sa_type=String(20))
    p104_action: int
    period_start: date
    period_end: date
    total_cost_cents: int = Field(sa_column=Column(BigInteger, nullable=False))
    requested_cents: int = Field(sa_column=Column(BigInteger, nullable=False))
    proposed_cents: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    granted_cents: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    legal_act: str = Field(max_length=20)  # "arrete" or "convention" (R13)
    opinion: str | None = Field(default=None, max_length=20)  # the instructeur's: favourable / unfavourable
    opinion_reasons: str | None = None  # the motifs of the opinion (required when unfavourable)
    postponements: int = 0  # times the ministry put it off to the next batch (once at most)
    status: PtaiStatus = Field(default=PtaiStatus.SUBMITTED, sa_type=String(20), index=True)
    rework_deadline: date | None = None
    instructed_by_agent_id: int | None = Field(default=None, foreign_key="agent.id")
    batch_id: int | None = Field(default=None, index=True)
    submitted_payload: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    duplicate_key: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))


def comparable(text_value: str) -> str:
    """A title as a person reads it: case, accents, punctuation and spacing aside."""
    decomposed = unicodedata.normalize("NFKD", text_value.casefold())
    kept = "".join(ch if ch.isalnum() else " " for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(kept.split())


def duplicate_key(campaign_year: int, collectivite_id: int, porteur_id: int | None, title: str) -> str:
    """What makes two requests the same one: applicant, porteur, title and campaign."""
    parts = f"{campaign_year}|{collectivite_id}|{porteur_id or '-'}|{comparable(title)}"
    return hashlib.sha256(parts.encode("utf-8")).hexdigest()


def ptai_reference(departement_code: str, year: int, request_id: int) -> str:
    return f"PTAI-{departement_code}-{year}-{request_id:05d}"


# --- Submission rules -------------------------------------------------------------------------


def check_public(
    categories: list[str], justification: str | None, perspective: str | None, rules: CampaignRules
) -> list[Violation]:
    """R3 (with R8–R10): a BPI-only PTAI needs a justification and a widening perspective."""
    out = eligible_categories("projet.public.categories", categories, rules)
    if categories and not out and public_of(categories, rules) == Public.BPI:
        if not (justification or "").strip():
            out.append(
                Violation(
                    "R3_JUSTIFICATION_BPI",
                    "projet.public.justification_bpi",
                    "un projet réservé aux BPI doit justifier ce choix : renseignez la justification",
                )
            )
        if not (perspective or "").strip():
            out.append(
                Violation(
                    "R3_PERSPECTIVE_ELARGISSEMENT",
                    "projet.public.perspective_elargissement",
                    "un projet réservé aux BPI doit indiquer sa perspective d'élargissement aux autres primo-arrivants",
                )
            )
    return out


def check_presence(max_years: int | None, rules: CampaignRules) -> list[Violation]:
    """R8: a primo-arrivant has settled in France for N years at most (5 in practice): a project
    whose public may have lived here longer does not target primo-arrivants."""
    limit = rules.primo_arrivant_max_annees
    if max_years is not None and max_years > limit:
        return [
            Violation(
                "R8_PRIMO_ARRIVANT",
                "projet.public.anciennete_max_annees",
                f"un primo-arrivant réside en France depuis {limit} ans au plus : l'ancienneté de séjour "
                f"maximale indiquée ({max_years} ans) dépasse cette limite ; ramenez-la à {limit} ans au plus",
            )
        ]
    return []


def check_campaign_open(rules: CampaignRules) -> list[Violation]:
    """No PTAI before the instrument existed (2019-2020 were the CTAIR years): data, per campaign."""
    if not rules.ptai_ouvert:
        return [
            Violation(
                "CAMPAGNE_PTAI_INEXISTANTE",
                "campagne",
                f"le projet territorial d'accueil et d'intégration (PTAI) n'existait pas en {rules.year} "
                "(seuls des CTAIR étaient alors signés) : déposez la demande sur une campagne ouverte",
            )
        ]
    return []


def check_engagement(engagements: list[dict], rules: CampaignRules) -> list[Violation]:
    """R7: the collectivité states its engagement, each with an amount or a valued description."""
    if not engagements:
        kinds = ", ".join(rules.types_engagement)
        return [
            Violation(
                "R7_ENGAGEMENT_COLLECTIVITE",
                "engagement_collectivite",
                f"indiquez l'engagement de la collectivité ({kinds}), avec un montant ou une valorisation",
            )
        ]
    out = []
    for i, e in enumerate(engagements):
        field = f"engagement_collectivite[{i}]"
        if e.get("type") not in rules.types_engagement:
            out.append(
                Violation(
                    "R7_ENGAGEMENT_COLLECTIVITE",
                    f"{field}.type",
                    f"type d'engagement « {e.get('type')} » inconnu (types admis : "
                    f"{', '.join(rules.types_engagement)})",
                )
            )
        if e.get("montant_cents") is None and not (e.get("valorisation") or "").strip():
            out.append(
                Violation(
                    "R7_ENGAGEMENT_COLLECTIVITE", field, "chaque engagement indique un montant ou une valorisation"
                )
            )
        out += non_negative_amount(f"{field}.montant_eur", e.get("montant_cents"))
    return out


def check_domains(domains: list[Domain], rules: CampaignRules) -> list[Violation]:
    """From 2022 the merged instrument needs two domains, one of them housing (R5 as data)."""
    out = []
    if len(set(domains)) < rules.domaines_min:
        out.append(
            Violation(
                "R5_DOMAINES_MINIMUM",
                "projet.domaines",
                f"la campagne {rules.year} exige au moins {rules.domaines_min} domaines d'intégration",
            )
        )
    if rules.logement_obligatoire and Domain.LOGEMENT not in domains:
        out.append(
            Violation(
                "R5_LOGEMENT_OBLIGATOIRE",
                "projet.domaines",
                f"la campagne {rules.year} exige le domaine du logement parmi les domaines du projet",
            )
        )
    return out


def check_porteur(*, siret_valid: bool, cultuelle: bool, compte_rendu_manquant: bool) -> list[Violation]:
    """R14, R15: a valid SIRET, not cultuelle, and no missing compte rendu financier."""
    out = []
    if not siret_valid:
        out.append(
            Violation(
                "R15_SIRET_INVALIDE",
                "porteur.siret",
                "le SIRET de l'association est invalide (14 chiffres, clé de contrôle) : corrigez-le",
            )
        )
    if cultuelle:
        out.append(
            Violation(
                "R15_ASSOCIATION_CULTUELLE",
                "porteur.cultuelle",
                "une association cultuelle n'est pas éligible à ces crédits",
            )
        )
    if compte_rendu_manquant:
        out.append(
            Violation(
                "R14_COMPTE_RENDU_MANQUANT",
                "porteur.siret",
                "le compte rendu financier (Cerfa 15059) de la subvention précédente manque : il doit être transmis "
                "avant toute nouvelle demande",
            )
        )
    return out


def check_budget(
    *, nature: str, total_cents: int, requested_cents: int, p104_action: int, public: Public
) -> list[Violation]:
    """R16, R17 and amounts: operating subsidies only, never negative, never above the cost."""
    out = non_negative_amount("budget.montant_demande_eur", requested_cents)
    out += non_negative_amount("budget.cout_total_eur", total_cents)
    if nature != Nature.FONCTIONNEMENT:
        out.append(
            Violation(
                "R16_INVESTISSEMENT_EXCLU",
                "budget.nature",
                "seules les subventions de fonctionnement sont possibles : une dépense d'investissement n'est pas "
                "finançable",
            )
        )
    if requested_cents > total_cents >= 0:
        out.append(
            Violation(
                "MONTANT_SUPERIEUR_AU_COUT",
                "budget.montant_demande_eur",
                f"le montant demandé ({format_eur(requested_cents)}) dépasse le coût total du projet "
                f"({format_eur(total_cents)})",
            )
        )
    out += p104_matches_public("budget.action_p104", p104_action, public)
    return out


PERIOD_YEARS_BEFORE, PERIOD_YEARS_AFTER = 1, 3  # a project of campaign N runs within N-1 … N+3


def check_period(start: date, end: date, campaign: int) -> list[Violation]:
    out = []
    first, last = date(campaign - PERIOD_YEARS_BEFORE, 1, 1), date(campaign + PERIOD_YEARS_AFTER, 12, 31)
    for field, value in (("projet.date_debut", start), ("projet.date_fin", end)):
        if not first <= value <= last:
            out.append(
                Violation(
                    "PERIODE_HORS_CAMPAGNE",
                    field,
                    f"le projet de la campagne {campaign} se déroule entre le {first:%d/%m/%Y} et le {last:%d/%m/%Y}",
                )
            )
    if end < start:
        out.append(Violation("PERIODE_INVALIDE", "projet.date_fin", "la date de fin précède la date de début"))
    return out


def check_validated_amount(validated_cents: int, requested_cents: int) -> list[Violation]:
    """The instructeur proposes at most the amount requested."""
    out = non_negative_amount("amount_eur", validated_cents)
    if validated_cents > requested_cents:
        out.append(
            Violation(
                "MONTANT_SUPERIEUR_A_LA_DEMANDE",
                "amount_eur",
                f"le montant proposé ({format_eur(validated_cents)}) ne peut pas dépasser le montant demandé "
                f"({format_eur(requested_cents)})",
            )
        )
    return out


def check_prefet_amount(
    validated_cents: int | None,
    proposed_cents: int | None,
    requested_cents: int | None = None,
    opinion: str | None = None,
) -> list[Violation]:
    """The préfet decides after the instructeur's opinion. After a favourable one: at the amount
    proposed (``None``: that amount), or less. After an unfavourable one, overriding it: an amount
    is required, at most the amount requested (the préfet's motifs are checked by the caller)."""
    if opinion == InstructionDecision.UNFAVOURABLE:
        if validated_cents is None:
            return [
                Violation(
                    "MONTANT_A_FIXER",
                    "amount_eur",
                    "l'instruction n'a proposé aucun montant (avis défavorable) : indiquez le montant que vous validez",
                )
            ]
        out = non_negative_amount("amount_eur", validated_cents)
        if requested_cents is not None and validated_cents > requested_cents:
            out.append(
                Violation(
                    "MONTANT_SUPERIEUR_A_LA_DEMANDE",
                    "amount_eur",
                    f"le montant validé ({format_eur(validated_cents)}) "
                    f"ne peut pas dépasser le montant demandé ({format_eur(requested_cents)})",
                )
            )
        return out
    if proposed_cents is None:
        return [
            Violation(
                "MONTANT_NON_PROPOSE",
                "amount_eur",
                "aucun montant n'a été proposé par l'instruction : la demande ne peut pas être validée",
            )
        ]
    validated_cents = proposed_cents if validated_cents is None else validated_cents
    out = non_negative_amount("amount_eur", validated_cents)
    if validated_cents > proposed_cents:
        out.append(
            Violation(
                "MONTANT_SUPERIEUR_A_LA_PROPOSITION",
                "amount_eur",
                f"le montant validé ({format_eur(validated_cents)}) ne peut pas dépasser le montant proposé par "
                f"l'instruction ({format_eur(proposed_cents)})",
            )
        )
    return out
