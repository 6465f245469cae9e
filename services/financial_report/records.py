"""The comptes rendus financiers: their transmission by the porteur, what R14 reads from them,
reading and listing them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlmodel import Session, select

from models.actors import Porteur
from models.acts import (
    REPORT_STATUS_LABELS,
    Blocking,
    FinancialReport,
    LegalAct,
    ReportEvent,
    ReportStatus,
    blocks_new_requests,
    check_transmission,
)
from models.errors import NotFound, raise_if_any
from models.money import cents_to_euros, euros_to_cents, format_eur
from models.types import paris_today
from services.acts.records import family_paid_cents
from services.acts.records import load as load_act
from services.engine.audit import Actor, decision_view, decisions_for, record_decision
from services.engine.forms import parse_answer
from services.engine.kind import machine_of
from services.financial_report.forms import Transmission

ENTITY = "crf"


def load(session: Session, report_id: int) -> FinancialReport:
    report = session.get(FinancialReport, report_id)
    if report is None:
        raise NotFound(f"[{NotFound.code}] aucun compte rendu financier n° {report_id}")
    return report


def granted_cents(session: Session, report: FinancialReport) -> int:
    return load_act(session, report.act_id).total_cents


def transmit(
    session: Session,
    report_id: int,
    *,
    transmitted_on: date,
    expenses_eur: Decimal | str,
    used_eur: Decimal | str,
    summary: str | None,
    by: str,
    today: date | None = None,
) -> FinancialReport:
    """The porteur's compte rendu (or its complements) received: the examination step opens."""
    given, violations = parse_answer(
        Transmission,
        {
            "transmitted_on": transmitted_on,
            "expenses_eur": expenses_eur,
            "used_eur": used_eur,
            "summary": summary,
            "by": by,
        },
    )
    raise_if_any(violations)
    report = session.exec(select(FinancialReport).where(FinancialReport.id == report_id).with_for_update()).first()
    if report is None:
        raise NotFound(f"[{NotFound.code}] aucun compte rendu financier n° {report_id}")
    expenses, used = euros_to_cents(given.expenses_eur), euros_to_cents(given.used_eur)
    summary, by = given.summary, given.by
    raise_if_any(
        check_transmission(
            status=report.status,
            transmitted_on=transmitted_on,
            year=report.year,
            today=today or paris_today(),
            expenses_cents=expenses,
            used_cents=used,
            granted_cents=granted_cents(session, report),
        )
    )
    before = report.status
    machine_of(ENTITY).apply(report, ReportEvent.TRANSMITTED)
    report.transmitted_on, report.expenses_cents, report.used_cents = transmitted_on, expenses, used
    report.summary = (summary or "").strip() or None
    report.rounds += 1
    session.add(report)
    record_decision(
        session,
        entity_type=ENTITY,
        entity_id=report.id,
        step="depot",
        from_status=before,
        to_status=report.status,
        actor=Actor(by),
        decision=ReportEvent.TRANSMITTED,
        amount_cents=used,
        comment=f"transmis le {transmitted_on:%d/%m/%Y} : dépenses {format_eur(expenses, centimes=True)}, "
        f"subvention utilisée {format_eur(used, centimes=True)}",
    )
    session.flush()
    return report


def blocking_reports(session: Session, porteur_id: int, today: date | None = None) -> list[Blocking]:
    """R14: the porteur's comptes rendus that bar a new request today."""
    today = today or paris_today()
    rows = session.exec(
        select(FinancialReport).where(
            FinancialReport.porteur_id == porteur_id, FinancialReport.status != ReportStatus.COMPLIANT
        )
    )
    return [
        Blocking(r.reference, r.year, r.status, r.due_on)
        for r in rows
        if blocks_new_requests(r.status, r.due_on, today)
    ]


def show(session: Session, report_id: int) -> dict:
    report = load(session, report_id)
    act = session.get(LegalAct, report.act_id)
    porteur = session.get(Porteur, report.porteur_id)
    cents = lambda v: None if v is None else str(cents_to_euros(v))  # noqa: E731 - a one-line formatter local to this function
    return {
        "id": report.id,
        "reference": report.reference,
        "annee": report.year,
        "departement": report.departement_code,
        "porteur": porteur.name,
        "acte": act.reference,
        "subvention_cents": act.total_cents,
        "paye_cents": family_paid_cents(session, report.family_key),
        "echeance": report.due_on.isoformat(),
        "statut": report.status,
        "statut_libelle": REPORT_STATUS_LABELS[ReportStatus(report.status)],
        "transmis_le": report.transmitted_on.isoformat() if report.transmitted_on else None,
        "depenses_eur": cents(report.expenses_cents),
        "subvention_utilisee_eur": cents(report.used_cents),
        "compte_rendu": report.summary,
        "complements_avant_le": report.complement_deadline.isoformat() if report.complement_deadline else None,
        "a_reverser_eur": cents(report.repay_cents),
        "decisions": [decision_view(d) for d in decisions_for(session, ENTITY, report.id)],
    }


def listing(session: Session, *, departement: str | None = None, year: int | None = None) -> list[dict]:
    stmt = select(FinancialReport, Porteur).join(Porteur, Porteur.id == FinancialReport.porteur_id)
    if departement:
        stmt = stmt.where(FinancialReport.departement_code == departement)
    if year:
        stmt = stmt.where(FinancialReport.year == year)
    today = paris_today()
    return [
        {
            "id": r.id,
            "reference": r.reference,
            "annee": r.year,
            "departement": r.departement_code,
            "porteur": p.name,
            "echeance": r.due_on.isoformat(),
            "statut": r.status,
            "statut_libelle": REPORT_STATUS_LABELS[ReportStatus(r.status)],
            "bloque_les_demandes": blocks_new_requests(r.status, r.due_on, today),
            "bloque": "oui" if blocks_new_requests(r.status, r.due_on, today) else "non",
        }
        for r, p in session.exec(stmt.order_by(FinancialReport.due_on, FinancialReport.id))
    ]
