"""After the decision: the legal act of each beneficiary and year (R13), its payments, and the
compte rendu financier that R14 follows. Tables, state machines and rules, as pure code.

- **The act.** One act per beneficiary (the porteur, else the collectivité), département and
  year, over the PTAI requests delegated and the CTAI actions signed: an *arrêté attributif* up
  to the year's threshold (23 000 €), a *convention* above (R13). When new lines or amounts
  reach a signed act, a new version replaces it once the préfet signs it; the acts of one
  beneficiary, département and year form a *family* (``family_key``), which the payments and
  the compte rendu follow.
- **Payments.** The schedule is data (``models/data/actes.json``): shares of the grant and the
  condition of each instalment. A payment is recorded when it is ordered, with its Chorus
  legal-commitment number (EJ); the family never pays more than the grant of its signed act.
- **Compte rendu financier** (Cerfa n° 15059). An association's grant of year Y calls for a
  compte rendu by 30 June of Y+1 (data). The instructeur records it as conforme, incomplet (back
  to the porteur with a deadline) or non conforme (with an amount to repay). R14 follows.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from importlib import resources

from sqlalchemy import BigInteger, Index, LargeBinary, String, UniqueConstraint, text
from sqlmodel import Column, Field, SQLModel

from models.errors import Violation
from models.money import format_eur
from models.types import UtcDateTime, utcnow

# --- The act ----------------------------------------------------------------------------------


class ActKind(StrEnum):
    ARRETE = "arrete"
    CONVENTION = "convention"


ACT_KIND_LABELS = {
    ActKind.ARRETE: "arrêté attributif de subvention",
    ActKind.CONVENTION: "convention attributive de subvention",
}
ACT_PREFIX = {ActKind.ARRETE: "AP", ActKind.CONVENTION: "CV"}


class ActStatus(StrEnum):
    AWAITING_SIGNATURE = "awaiting_signature"
    SIGNED = "signed"
    REPLACED = "replaced"  # a later version of the family was signed
    CANCELLED = "cancelled"  # the préfet refused to sign it


ACT_STATUS_LABELS = {
    ActStatus.AWAITING_SIGNATURE: "en attente de la signature du préfet",
    ActStatus.SIGNED: "signé",
    ActStatus.REPLACED: "remplacé par une nouvelle version",
    ActStatus.CANCELLED: "signature refusée",
}


class ActSignatureDecision(StrEnum):
    """The préfet's answer on an act (its wording and effects: ``services.acts.steps``)."""

    SIGN = "sign"
    REJECT = "reject"


class ActEvent(StrEnum):
    """The moves of an act no agent's step decides."""

    WITHDRAWN = "withdrawn"  # a draft no longer called for
    REPLACED = "replaced"  # a signed act, once the next version of its family is signed


# One live draft per family: a second draft of the same family would be signed twice.
AWAITING = "status = 'awaiting_signature'"


class LegalAct(SQLModel, table=True):
    __tablename__ = "legal_act"
    __table_args__ = (
        Index(
            "uq_legal_act_family_draft",
            "family_key",
            unique=True,
            sqlite_where=text(AWAITING),
            postgresql_where=text(AWAITING),
        ),
        UniqueConstraint("family_key", "version", name="uq_legal_act_version"),
    )

    id: int | None = Field(default=None, primary_key=True)
    reference: str | None = Field(default=None, max_length=40, unique=True)  # AP-86-2021-0001
    family_key: str = Field(max_length=60, index=True)  # "porteur:12:86:2021"
    version: int = 1
    replaces_act_id: int | None = Field(default=None, foreign_key="legal_act.id")
    kind: ActKind = Field(sa_type=String(12))
    status: ActStatus = Field(default=ActStatus.AWAITING_SIGNATURE, sa_type=String(20), index=True)
    departement_code: str = Field(max_length=3, foreign_key="departement.code", index=True)
    year: int = Field(index=True)
    porteur_id: int | None = Field(default=None, foreign_key="porteur.id", index=True)
    collectivite_id: int | None = Field(default=None, foreign_key="collectivite.id")  # the beneficiary, without porteur
    total_cents: int = Field(sa_column=Column(BigInteger, nullable=False))
    signed_on: date | None = None
    signatory_name: str | None = Field(default=None, max_length=200)
    signatory_title: str | None = Field(default=None, max_length=200)
    signed_by_agent_id: int | None = Field(default=None, foreign_key="agent.id")
    refusal_reason: str | None = None
    ej_number: str | None = Field(default=None, max_length=10)  # Chorus legal commitment, set by the first payment
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))


class LegalActLine(SQLModel, table=True):
    """A funded line of the act, as it stood when the act was drawn up."""

    __tablename__ = "legal_act_line"
    __table_args__ = (UniqueConstraint("act_id", "source", "source_id", name="uq_legal_act_line"),)

    id: int | None = Field(default=None, primary_key=True)
    act_id: int = Field(foreign_key="legal_act.id", index=True)
    source: str = Field(max_length=10)  # "ptai" or "action"
    source_id: int
    reference: str = Field(max_length=80)
    title: str = Field(max_length=300)
    collectivite_id: int = Field(foreign_key="collectivite.id")  # whose contract or request carries the line
    p104_action: int
    domain: str | None = Field(default=None, max_length=40)
    amount_cents: int = Field(sa_column=Column(BigInteger, nullable=False))
    period_start: date
    period_end: date


class LegalActDocument(SQLModel, table=True):
    """The signed PDF, as mailed; its SHA-256 is also in the audit trail."""

    __tablename__ = "legal_act_document"

    id: int | None = Field(default=None, primary_key=True)
    act_id: int = Field(foreign_key="legal_act.id", unique=True)
    filename: str = Field(max_length=80)
    sha256: str = Field(max_length=64)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))


def family_key(beneficiary: tuple[str, int], departement_code: str, year: int) -> str:
    return f"{beneficiary[0]}:{beneficiary[1]}:{departement_code}:{year}"


def act_reference(kind: ActKind | str, departement_code: str, year: int, act_id: int) -> str:
    """« AP-86-2021-0001 » (arrêté), « CV-86-2021-0002 » (convention)."""
    return f"{ACT_PREFIX[ActKind(kind)]}-{departement_code}-{year}-{act_id:04d}"


def act_kind_for(total_cents: int, threshold_cents: int) -> ActKind:
    """R13 on the family's total: a convention above the threshold, an arrêté up to it."""
    return ActKind.CONVENTION if total_cents > threshold_cents else ActKind.ARRETE


LineKey = tuple[str, int, int]  # (source, source id, amount in cents)


def needs_new_version(signed_lines: set[LineKey], current_lines: set[LineKey]) -> bool:
    """A signed act stands while its lines and amounts are the ones granted; any change (a line
    added, an amount changed, a line gone) calls for a new version."""
    return signed_lines != current_lines


def check_signature(
    *, signatory: str | None, title: str | None, signed_on: date | None, year: int, today: date
) -> list[Violation]:
    """The préfet (or a delegate) signs under a name and a title, on a day that has come, not
    before the year preceding the funded one."""
    out = []
    if not (signatory or "").strip():
        out.append(Violation("SIGNATAIRE_MANQUANT", "signatory_name", "indiquez le nom du signataire de l'acte"))
    if not (title or "").strip():
        out.append(
            Violation(
                "QUALITE_SIGNATAIRE_MANQUANTE",
                "signatory_title",
                "indiquez la qualité du signataire (« Le préfet », « Pour le préfet et par délégation, "
                "la secrétaire générale »…)",
            )
        )
    earliest = date(year - 1, 1, 1)
    if signed_on is None:
        out.append(Violation("DATE_SIGNATURE_MANQUANTE", "signed_on", "indiquez la date de signature de l'acte"))
    elif not earliest <= signed_on <= today:
        out.append(
            Violation(
                "DATE_HORS_BORNES",
                "signed_on",
                f"date de signature attendue entre le {earliest:%d/%m/%Y} et aujourd'hui ({today:%d/%m/%Y})",
            )
        )
    return out


# --- The schedule and the payments -------------------------------------------------------------


@dataclass(frozen=True)
class Instalment:
    tranche: str  # "avance", "solde"
    label: str  # French
    share: Decimal  # of the grant
    condition: str  # "signature" or "compte_rendu_conforme"
    condition_label: str  # French


@dataclass(frozen=True)
class ActPolicy:
    schedules: dict[str, list[Instalment]]  # per act kind
    report_due: tuple[int, int]  # (month, day) of year Y+1
    report_reminder_business_days_before: int
    report_alert_business_days_after: int
    complement_days: int  # default deadline of an incomplete compte rendu
    finance_laws: dict[int, str]
    budget_unit: str  # a pattern with {dep}

    def schedule(self, kind: ActKind | str) -> list[Instalment]:
        return self.schedules[str(kind)]

    def report_due_on(self, year: int) -> date:
        return date(year + 1, *self.report_due)

    def finance_law(self, year: int) -> str:
        return self.finance_laws.get(year, f"la loi de finances pour {year}")

    def budget_unit_of(self, departement_code: str) -> str:
        return self.budget_unit.format(dep=departement_code)


@lru_cache(maxsize=1)
def act_policy() -> ActPolicy:
    data = _policy_data()
    conditions = data["conditions"]
    schedules = {
        kind: [
            Instalment(i["tranche"], i["libelle"], Decimal(i["part"]), i["condition"], conditions[i["condition"]])
            for i in items
        ]
        for kind, items in data["echeancier"].items()
    }
    for kind, items in schedules.items():
        if sum(i.share for i in items) != 1:
            raise ValueError(f"actes.json : les parts de l'échéancier « {kind} » ne font pas 100 %")
    month, day = (int(x) for x in data["compte_rendu"]["echeance_annee_suivante"].split("-"))
    report = data["compte_rendu"]
    return ActPolicy(
        schedules,
        (month, day),
        report["rappel_jours_ouvres_avant"],
        report["alerte_jours_ouvres_apres"],
        report["delai_complement_jours"],
        {int(y): t for y, t in data["lois_de_finances"].items()},
        data["unite_budgetaire"],
    )


def instalment_amounts(total_cents: int, schedule: list[Instalment]) -> dict[str, int]:
    """Each instalment's amount; the last takes the rounding so the sum is the grant exactly."""
    out, left = {}, total_cents
    for i, instalment in enumerate(schedule):
        cents = left if i == len(schedule) - 1 else int((Decimal(total_cents) * instalment.share).to_integral_value())
        out[instalment.tranche] = cents
        left -= cents
    return out


EJ_PATTERN = re.compile(r"^[0-9]{10}$")  # Chorus: a legal commitment is ten digits


class Payment(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("idempotency_key", name="uq_payment_key"),)

    id: int | None = Field(default=None, primary_key=True)
    act_id: int = Field(foreign_key="legal_act.id", index=True)
    family_key: str = Field(max_length=60, index=True)
    tranche: str = Field(max_length=20)
    amount_cents: int = Field(sa_column=Column(BigInteger, nullable=False))
    ej_number: str = Field(max_length=10)
    ordered_on: date
    recorded_by_agent_id: int = Field(foreign_key="agent.id")
    idempotency_key: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))


def check_payment(
    *,
    act_status: str,
    tranche: str,
    schedule: list[Instalment],
    amount_cents: int,
    ej_number: str,
    known_ej: str | None,
    ordered_on: date,
    signed_on: date | None,
    today: date,
    granted_cents: int,
    paid_cents: int,
    paid_in_tranche_cents: int,
    condition_met: dict[str, bool],
) -> list[Violation]:
    """What a payment order must respect: a signed act, an instalment of its schedule whose
    condition is met, the act's one EJ, a date between the signature and today, and never more
    than the grant in all (nor than the instalment's share)."""
    out = []
    if act_status != ActStatus.SIGNED:
        out.append(
            Violation(
                "ACTE_NON_SIGNE",
                "acte",
                "un paiement ne peut être ordonné que sur un acte signé (et en "
                "vigueur : pas sur une version remplacée)",
            )
        )
    by_tranche = {i.tranche: i for i in schedule}
    instalment = by_tranche.get(tranche)
    if instalment is None:
        out.append(
            Violation(
                "TRANCHE_INCONNUE",
                "tranche",
                f"tranche « {tranche} » inconnue ; l'échéancier de l'acte prévoit : {', '.join(by_tranche)}",
            )
        )
    else:
        if not condition_met.get(instalment.condition, False):
            out.append(
                Violation(
                    "CONDITION_DE_VERSEMENT",
                    "tranche",
                    f"la tranche « {instalment.label} » est versée {instalment.condition_label} : "
                    "cette condition n'est pas remplie",
                )
            )
        due = instalment_amounts(granted_cents, schedule)[tranche]
        if amount_cents > 0 and paid_in_tranche_cents + amount_cents > due:
            out.append(
                Violation(
                    "TRANCHE_DEPASSEE",
                    "montant",
                    f"la tranche « {instalment.label} » est de {format_eur(due)} : "
                    f"{format_eur(paid_in_tranche_cents)} déjà payés sur cette tranche",
                )
            )
    if amount_cents <= 0:
        out.append(Violation("MONTANT_NEGATIF", "montant", "le montant d'un paiement est positif"))
    if not EJ_PATTERN.match(ej_number or ""):
        out.append(Violation("EJ_INVALIDE", "ej", "numéro d'engagement juridique Chorus attendu : 10 chiffres"))
    elif known_ej and known_ej != ej_number:
        out.append(
            Violation(
                "EJ_DISCORDANT", "ej", f"l'acte est engagé sous l'EJ {known_ej} : ses paiements portent ce numéro"
            )
        )
    if signed_on is not None and not signed_on <= ordered_on <= today:
        out.append(
            Violation(
                "DATE_HORS_BORNES",
                "date",
                f"date du paiement attendue entre la signature de l'acte "
                f"({signed_on:%d/%m/%Y}) et aujourd'hui ({today:%d/%m/%Y})",
            )
        )
    if amount_cents > 0 and paid_cents + amount_cents > granted_cents:
        out.append(
            Violation(
                "PAIEMENT_AU_DELA_DE_LA_SUBVENTION",
                "montant",
                f"{format_eur(paid_cents)} déjà payés sur {format_eur(granted_cents)} accordés : ce paiement "
                f"de {format_eur(amount_cents)} dépasserait la subvention de "
                f"{format_eur(paid_cents + amount_cents - granted_cents)}",
            )
        )
    return out


# --- The compte rendu financier ----------------------------------------------------------------


class ReportStatus(StrEnum):
    EXPECTED = "expected"
    RECEIVED = "received"  # transmitted, awaiting the instructeur's examination
    INCOMPLETE = "incomplete"  # back to the porteur, with a deadline
    COMPLIANT = "compliant"
    NON_COMPLIANT = "non_compliant"  # with an amount to repay


REPORT_STATUS_LABELS = {
    ReportStatus.EXPECTED: "attendu",
    ReportStatus.RECEIVED: "reçu, en cours d'examen",
    ReportStatus.INCOMPLETE: "incomplet, compléments attendus du porteur",
    ReportStatus.COMPLIANT: "conforme",
    ReportStatus.NON_COMPLIANT: "non conforme, reversement demandé",
}


class ExamenDecision(StrEnum):
    """The instructeur's examination of a compte rendu (its wording and effects:
    ``services.financial_report.steps``)."""

    COMPLIANT = "compliant"
    REWORK = "rework"  # incomplete: back to the porteur, with a deadline
    NON_COMPLIANT = "non_compliant"  # with an amount to repay


class ReportEvent(StrEnum):
    TRANSMITTED = "transmitted"  # by the porteur (``territoires crf transmit``)


class FinancialReport(SQLModel, table=True):
    """The compte rendu financier (Cerfa n° 15059) an association owes for a year's grant."""

    __tablename__ = "compte_rendu_financier"

    id: int | None = Field(default=None, primary_key=True)
    reference: str | None = Field(default=None, max_length=40, unique=True)  # CRF-86-2021-0001
    family_key: str = Field(max_length=60, unique=True)
    act_id: int = Field(foreign_key="legal_act.id", index=True)  # the signed act in force
    porteur_id: int = Field(foreign_key="porteur.id", index=True)
    departement_code: str = Field(max_length=3, foreign_key="departement.code")
    year: int
    due_on: date
    status: ReportStatus = Field(default=ReportStatus.EXPECTED, sa_type=String(20), index=True)
    transmitted_on: date | None = None
    expenses_cents: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    used_cents: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))  # of the grant
    summary: str | None = None  # the porteur's account of the action
    complement_deadline: date | None = None
    repay_cents: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    rounds: int = 0  # transmissions so far
    instructed_by_agent_id: int | None = Field(default=None, foreign_key="agent.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))


def report_reference(departement_code: str, year: int, report_id: int) -> str:
    return f"CRF-{departement_code}-{year}-{report_id:04d}"


def report_deadline(status: str, due_on: date, complement_deadline: date | None) -> date | None:
    """The date the porteur must act by: the due date, or the complements' deadline."""
    if status == ReportStatus.EXPECTED:
        return due_on
    if status == ReportStatus.INCOMPLETE:
        return max(due_on, complement_deadline or due_on)
    return None


def blocks_new_requests(status: str, due_on: date, today: date) -> bool:
    """R14: a compte rendu due and not conforme (missing, under examination, incomplete), or
    found non conforme, bars the porteur's new requests."""
    return status == ReportStatus.NON_COMPLIANT or (today > due_on and status != ReportStatus.COMPLIANT)


@dataclass(frozen=True)
class Blocking:
    reference: str
    year: int
    status: str
    due_on: date


def r14_violations(blocking: list[Blocking], imported_flag: bool) -> list[Violation]:
    """R14's refusal, naming each compte rendu that bars the request (or the imported flag)."""
    out = []
    for b in blocking:
        state = REPORT_STATUS_LABELS[ReportStatus(b.status)]
        out.append(
            Violation(
                "R14_COMPTE_RENDU_MANQUANT",
                "porteur.siret",
                f"le compte rendu financier (Cerfa n° 15059) {b.reference} de la subvention {b.year}, dû le "
                f"{b.due_on:%d/%m/%Y}, est {state} : aucune nouvelle demande n'est recevable avant qu'il "
                "soit reconnu conforme",
            )
        )
    if imported_flag and not out:
        out.append(
            Violation(
                "R14_COMPTE_RENDU_MANQUANT",
                "porteur.siret",
                "le compte rendu financier (Cerfa n° 15059) de la subvention précédente manque (historique "
                "importé) : il doit être transmis avant toute nouvelle demande",
            )
        )
    return out


def report_action(
    *,
    today: date,
    deadline: date,
    business_days_left: int,
    business_days_late: int,
    reminder_days_before: int,
    alert_days_after: int,
    reminded: bool,
    overdue_told: bool,
    alerted: bool,
) -> str | None:
    """What the daily run does about a compte rendu awaited from the porteur: remind the porteur
    before the deadline, tell him once it has passed, then alert the instructeurs."""
    if today <= deadline:
        return "report_reminder" if not reminded and business_days_left <= reminder_days_before else None
    if not overdue_told:
        return "report_overdue"
    if not alerted and business_days_late >= alert_days_after:
        return "report_alert"
    return None


def check_examination(
    *,
    decision: str,
    complement_deadline: date | None,
    repay_cents: int | None,
    reason: str | None,
    granted_cents: int,
    today: date,
) -> list[Violation]:
    """The instructeur's examination: for « incomplet », what is missing and a deadline to come;
    for « non conforme », the reason and an amount to repay, at most the grant."""
    out = []
    if decision in (ExamenDecision.REWORK, ExamenDecision.NON_COMPLIANT) and not (reason or "").strip():
        out.append(
            Violation(
                "MOTIF_MANQUANT",
                "comment",
                "indiquez ce qui manque ou n'est pas conforme (le motif est transmis au porteur)",
            )
        )
    if decision == ExamenDecision.REWORK:
        if complement_deadline is None:
            out.append(Violation("CHAMP_MANQUANT", "complement_deadline", "indiquez la date limite des compléments"))
        elif complement_deadline <= today:
            out.append(
                Violation("DATE_HORS_BORNES", "complement_deadline", "la date limite des compléments est à venir")
            )
    if decision == ExamenDecision.NON_COMPLIANT:
        if repay_cents is None or repay_cents <= 0:
            out.append(
                Violation("MONTANT_A_REVERSER_MANQUANT", "repay_eur", "indiquez le montant à reverser (en euros)")
            )
        elif repay_cents > granted_cents:
            out.append(
                Violation(
                    "MONTANT_A_REVERSER_EXCESSIF",
                    "repay_eur",
                    f"le reversement ({format_eur(repay_cents)}) dépasse la subvention accordée "
                    f"({format_eur(granted_cents)})",
                )
            )
    return out


def check_transmission(
    *,
    status: str,
    transmitted_on: date,
    year: int,
    today: date,
    expenses_cents: int,
    used_cents: int,
    granted_cents: int,
) -> list[Violation]:
    """A compte rendu transmitted: awaited (or its complements), dated after the funded year
    began and not in the future, with the expenses carried out and the share of the grant used
    (at most the grant, at most the expenses)."""
    out = []
    if status not in (ReportStatus.EXPECTED, ReportStatus.INCOMPLETE):
        out.append(
            Violation(
                "COMPTE_RENDU_NON_ATTENDU",
                "compte_rendu",
                f"le compte rendu est {REPORT_STATUS_LABELS[ReportStatus(status)]} : rien n'est attendu du porteur",
            )
        )
    if not date(year, 1, 1) <= transmitted_on <= today:
        out.append(
            Violation(
                "DATE_HORS_BORNES",
                "date_transmission",
                f"date de transmission attendue entre le 01/01/{year} et aujourd'hui ({today:%d/%m/%Y})",
            )
        )
    if expenses_cents < 0 or used_cents < 0:
        out.append(Violation("MONTANT_NEGATIF", "montants", "les montants du compte rendu sont positifs"))
    if used_cents > granted_cents:
        out.append(
            Violation(
                "SUBVENTION_UTILISEE_EXCESSIVE",
                "subvention_utilisee_eur",
                f"la part de subvention utilisée ({format_eur(used_cents)}) dépasse la subvention accordée "
                f"({format_eur(granted_cents)})",
            )
        )
    if used_cents > expenses_cents >= 0:
        out.append(
            Violation(
                "SUBVENTION_UTILISEE_EXCESSIVE",
                "subvention_utilisee_eur",
                "la subvention utilisée ne peut dépasser les dépenses réalisées",
            )
        )
    return out


# --- Open data ---------------------------------------------------------------------------------


def _luhn_digit(digits: str) -> str:
    """The digit that, appended, makes ``digits`` pass the Luhn check."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return str((10 - total % 10) % 10)


def prefecture_siret(departement_code: str) -> str:
    """The SIRET that identifies the préfecture as the attributing body (SCDL ``idAttribuant``):
    the one given in ``actes.json`` (``siret_prefectures``), else a FICTITIOUS one, stable per
    département, that passes the checksum and identifies nobody (the sources give none)."""
    given = _policy_data().get("siret_prefectures", {}).get(departement_code)
    if given:
        return given
    code = {"2A": "201", "2B": "202"}.get(departement_code, departement_code.zfill(3))
    siren = "199" + code + "00"
    siren += _luhn_digit(siren)
    nic = "0001"
    return siren + nic + _luhn_digit(siren + nic)


@lru_cache(maxsize=1)
def _policy_data() -> dict:
    return json.loads(resources.files("models").joinpath("data/actes.json").read_text(encoding="utf-8"))
