"""The daily reminders run: late steps are reminded then escalated; unanswered requests for more
information are reminded, then classées sans suite; contracts awaiting their lettre d'engagement
are reminded before the end of year N-1, and signalled to the préfecture after it; each active
contract's yearly review (bilan) is opened in January. Idempotent per item, kind and day."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, func, select

from models.acts import FinancialReport, ReportStatus, act_policy, report_action, report_deadline
from models.approval import StepRun, StepRunState
from models.ctai import Ctai, CtaiKind, CtaiStatus
from models.ptai import PtaiEvent, PtaiRequest, PtaiStatus
from models.reminders import (
    ReminderSent,
    business_days_between,
    is_business_day,
    latest_late_opening,
    letter_action,
    policy,
    review_year_due,
    step_action,
)
from models.types import PARIS, to_paris
from notifications.outbox import Email, message_key, queue_many
from services.cases import KINDS
from services.cases import kind as case_kind
from services.ctai import workflow as ctai_workflow
from services.ctai.records import reviewed_years
from services.db import unit_of_work
from services.engine import codes, mail
from services.engine.audit import SYSTEM, record_decision
from services.engine.codes import CaseRef
from services.engine.kind import machine_of
from services.engine.prefect_api import run_link


def _mark(session: Session, item: str, kind: str, day: date) -> bool:
    """Records that ``kind`` was done for ``item`` on ``day``; False if it already was."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    table = ReminderSent.__table__
    stmt = (
        dialect.insert(table)
        .values(item_key=item, kind=kind, day=day, created_at=func.now())
        .on_conflict_do_nothing(index_elements=["item_key", "kind", "day"])
        .returning(table.c.id)
    )
    return session.execute(stmt).first() is not None


def _count(session: Session, item: str, kind: str) -> int:
    return session.exec(
        select(func.count()).select_from(ReminderSent).where(ReminderSent.item_key == item, ReminderSent.kind == kind)
    ).one()


def run(today: date, engine=None, *, simulate: bool = False) -> dict:
    """``bilans_ouverts`` lists the contracts whose yearly review opened: the caller starts their
    bilan step (a Prefect run), which mails the instructeurs their codes.

    ``simulate`` (a day later than today): everything is worked out, reported, then rolled back;
    nothing is recorded, queued or started."""
    report = {
        "date": today.isoformat(),
        "simulation": simulate,
        "jour_ouvre": is_business_day(today),
        "relances": 0,
        "escalades": 0,
        "rappels_demandeurs": 0,
        "classees_sans_suite": 0,
        "lettres_rappelees": 0,
        "lettres_signalees": 0,
        "bilans_ouverts": [],
        "codes_reemis": 0,
        "comptes_rendus_rappeles": 0,
        "comptes_rendus_en_retard": 0,
        "comptes_rendus_signales": 0,
    }
    if not report["jour_ouvre"]:
        return report  # weekends and French public holidays: nothing is sent
    with unit_of_work(engine) as session:
        _late_steps(session, today, report)
        _awaiting_applicants(session, today, report)
        _engagement_letters(session, today, report)
        _yearly_reviews(session, today, report)
        _financial_reports(session, today, report)
        _missing_codes(session, report)
        if simulate:
            session.rollback()
    return report


def _missing_codes(session: Session, report: dict) -> None:
    """Every open step's entitled agents hold a code (one named since the step opened gets his)."""
    for row in session.exec(select(StepRun).where(StepRun.state == StepRunState.LIVE, StepRun.opened_at.is_not(None))):
        kind = case_kind(row.entity_type)
        case = session.get(kind.model, row.entity_id)
        if case is None or case.status != kind.steps[row.step].status:
            continue
        ref = CaseRef(row.flow_run_id, kind.entity, case.id, row.step, row.round)
        report["codes_reemis"] += mail.reissue_missing(
            session, kind, case, ref, kind.awaited_role(row.step), run_link(row.flow_run_id)
        )


def late_step_runs(session: Session, today: date) -> list:
    """The live steps past their service level: one indexed query per (case kind, step), reading
    only the columns the reminders need (Core rows, no ORM objects)."""
    p = policy()
    t = StepRun.__table__.c
    query = select(t.entity_type, t.entity_id, t.step, t.flow_run_id, t.awaited_role, t.opened_at).where(
        t.state == bindparam("state"),
        t.entity_type == bindparam("entity"),
        t.step == bindparam("step"),
        t.opened_at < bindparam("cutoff", type_=t.opened_at.type),
    )
    connection = session.connection()
    late = []
    for entity in KINDS:  # every kind of case whose steps wait for a person
        for step in case_kind(entity).steps:
            last = latest_late_opening(today, p.sla_for(entity, step))
            cutoff = datetime.combine(last + timedelta(days=1), time(0), tzinfo=PARIS)
            late += connection.execute(
                query, {"state": StepRunState.LIVE, "entity": entity, "step": step, "cutoff": cutoff}
            ).all()
    return late


def _late_steps(session: Session, today: date, report: dict) -> None:
    p = policy()
    for row in late_step_runs(session, today):
        kind = case_kind(row.entity_type)
        case = session.get(kind.model, row.entity_id)
        item = f"{row.entity_type}:{row.entity_id}:{row.step}:{row.flow_run_id}"
        sent = _count(session, item, "reminder")
        action, late = step_action(
            opened_on=to_paris(row.opened_at).date(),
            today=today,
            sla=p.sla_for(row.entity_type, row.step),
            reminders_sent=sent,
            escalated=_count(session, item, "escalation") > 0,
            before_escalation=p.reminders_before_escalation,
        )
        if action is None or not _mark(session, item, action, today):
            continue
        departement = kind.departement(session, case)
        awaited = codes.eligible_agents(session, row.awaited_role, departement)
        base = {
            "etape": kind.steps[row.step].label,
            "en_attente_depuis": to_paris(row.opened_at).date(),
            "jours_ouvres_de_retard": late,
            "lien": run_link(row.flow_run_id),
        }
        emails = []
        if action == "reminder":
            for agent in awaited:
                emails.append(
                    Email(
                        "reminder",
                        agent.email,
                        {**kind.email_base(session, case, agent.name), **base, "numero_relance": sent + 1},
                        message_key(row.entity_type, case.id, f"reminder:{row.step}:{today}", agent.email, "reminder"),
                    )
                )
            report["relances"] += 1
        else:
            for agent in codes.eligible_agents(session, p.escalate_to[row.awaited_role], departement):
                emails.append(
                    Email(
                        "escalation",
                        agent.email,
                        {
                            **kind.email_base(session, case, agent.name),
                            **base,
                            "agents_relances": [a.email for a in awaited],
                        },
                        message_key(
                            row.entity_type, case.id, f"escalation:{row.step}:{today}", agent.email, "escalation"
                        ),
                    )
                )
            report["escalades"] += 1
        queue_many(session, emails)


def _awaiting_applicants(session: Session, today: date, report: dict) -> None:
    p = policy()
    ptai = case_kind("ptai")
    for request in session.exec(select(PtaiRequest).where(PtaiRequest.status == PtaiStatus.AWAITING_APPLICANT)):
        deadline = request.rework_deadline
        if deadline is None:
            continue
        item = f"ptai:{request.id}:complement:{deadline.isoformat()}"
        parties = ptai.applicants(session, request)
        if today > deadline:
            if not _mark(session, item, "closed", today):
                continue
            before = request.status
            machine_of("ptai").apply(request, PtaiEvent.DEADLINE_PASSED)
            session.add(request)
            record_decision(
                session,
                entity_type="ptai",
                entity_id=request.id,
                step="complement",
                from_status=before,
                to_status=request.status,
                actor=SYSTEM,
                decision=PtaiEvent.DEADLINE_PASSED,
                comment=f"compléments non reçus au {deadline.isoformat()}",
            )
            queue_many(
                session,
                [
                    Email(
                        "request_closed",
                        address,
                        {
                            **ptai.email_base(session, request, name),
                            "motif": "Les compléments demandés n'ont pas été transmis dans le délai imparti.",
                            "echeance_depassee": deadline,
                            "recours": True,
                        },
                        message_key("ptai", request.id, "closed", address, "request_closed"),
                    )
                    for address, name in parties
                ],
            )
            report["classees_sans_suite"] += 1
        elif (
            business_days_between(today, deadline) <= p.applicant_days_before
            and _count(session, item, "applicant_reminder") == 0
        ):
            _mark(session, item, "applicant_reminder", today)
            queue_many(
                session,
                [
                    Email(
                        "applicant_reminder",
                        address,
                        {
                            **ptai.email_base(session, request, name),
                            "action_attendue": "Adresser à la préfecture les compléments demandés, en rappelant la "
                            "référence du dossier.",
                            "echeance": deadline,
                        },
                        message_key("ptai", request.id, f"rework-reminder:{deadline}", address, "applicant_reminder"),
                    )
                    for address, name in parties
                ],
            )
            report["rappels_demandeurs"] += 1


LETTER = "la lettre d'engagement"


def _engagement_letters(session: Session, today: date, report: dict) -> None:
    p = policy()
    ctai = case_kind("ctai")
    for contract in session.exec(select(Ctai).where(Ctai.status == CtaiStatus.AWAITING_LETTER)):
        deadline = p.letter_deadline(contract.first_year)
        item = f"ctai:{contract.id}:lettre:{deadline.isoformat()}"
        action = letter_action(
            today=today,
            deadline=deadline,
            days_before=p.letter_days_before,
            reminded=_count(session, item, "letter_reminder") > 0,
            alerted=_count(session, item, "letter_overdue") > 0,
        )
        if action is None or not _mark(session, item, action, today):
            continue
        overdue = action == "letter_overdue"
        notice = {
            "piece": LETTER,
            "echeance": deadline,
            "echeance_depassee": overdue,
            "consequence": f"Sans cette lettre, le contrat ne pourra pas être signé en {contract.first_year}.",
        }
        recipients = [
            (
                address,
                name,
                "Adresser au préfet la lettre d'engagement de la collectivité, signée par son exécutif"
                + (", sans attendre." if overdue else "."),
            )
            for address, name in ctai.applicants(session, contract)
        ]
        if overdue:
            departement = ctai.departement(session, contract)
            recipients += [
                (
                    a.email,
                    a.name,
                    "Prendre contact avec la collectivité ; enregistrer la lettre dès sa réception "
                    "(étape « lettre d'engagement »).",
                )
                for role in ("instructeur", "prefet")
                for a in codes.eligible_agents(session, role, departement)
            ]
        queue_many(
            session,
            [
                Email(
                    "deadline_notice",
                    address,
                    {**ctai.email_base(session, contract, name), **notice, "action_attendue": expected},
                    message_key("ctai", contract.id, f"{action}:{deadline}", address, "deadline_notice"),
                )
                for address, name, expected in recipients
            ],
        )
        report["lettres_signalees" if overdue else "lettres_rappelees"] += 1


def _yearly_reviews(session: Session, today: date, report: dict) -> None:
    """Opens the bilan of year Y once, from its opening date in Y+1. A review already open (opened
    by hand) counts as this year's; a contract at another step is tried again the next day."""
    p = policy()
    # A CTAIR is not reviewed here: it runs to its term, or is widened into a CTAI (which needs it in force).
    for contract in session.exec(
        select(Ctai).where(Ctai.kind == CtaiKind.CTAI, Ctai.status.in_([CtaiStatus.ACTIVE, CtaiStatus.YEARLY_REVIEW]))
    ).all():
        year = review_year_due(
            today=today, first_year=contract.first_year, last_year=contract.last_year, opens=p.review_opens
        )
        item = f"ctai:{contract.id}:bilan:{year}"
        if year is None or _count(session, item, "review_opened") or not _mark(session, item, "review_opened", today):
            continue
        if contract.status == CtaiStatus.ACTIVE and year not in reviewed_years(session, contract.id):
            ctai_workflow.open_yearly_review(session, contract.id, year, comment=f"bilan {year}")
            report["bilans_ouverts"].append(contract.id)


REPORT = "le compte rendu financier (formulaire Cerfa n° 15059)"
REPORT_COUNTERS = {
    "report_reminder": "comptes_rendus_rappeles",
    "report_overdue": "comptes_rendus_en_retard",
    "report_alert": "comptes_rendus_signales",
}


def _financial_reports(session: Session, today: date, report: dict) -> None:
    """Comptes rendus financiers awaited from the porteur (or their complements): reminded before
    the deadline, told once it has passed, then signalled to the instructeurs (R14 then applies)."""
    acts = act_policy()
    report_case = case_kind("crf")
    awaited = session.exec(
        select(FinancialReport).where(FinancialReport.status.in_([ReportStatus.EXPECTED, ReportStatus.INCOMPLETE]))
    ).all()
    for due in awaited:
        deadline = report_deadline(due.status, due.due_on, due.complement_deadline)
        item = f"crf:{due.id}:{due.status}:{deadline.isoformat()}"
        late = business_days_between(deadline, today) if today > deadline else 0
        action = report_action(
            today=today,
            deadline=deadline,
            business_days_left=business_days_between(today, deadline) if today <= deadline else 0,
            business_days_late=late,
            reminder_days_before=acts.report_reminder_business_days_before,
            alert_days_after=acts.report_alert_business_days_after,
            reminded=_count(session, item, "report_reminder") > 0,
            overdue_told=_count(session, item, "report_overdue") > 0,
            alerted=_count(session, item, "report_alert") > 0,
        )
        if action is None or not _mark(session, item, action, today):
            continue
        overdue = action != "report_reminder"
        what = (
            "Transmettre à la préfecture les compléments demandés"
            if due.status == ReportStatus.INCOMPLETE
            else "Transmettre à la préfecture le compte rendu financier de la subvention"
        )
        notice = {
            "piece": REPORT,
            "echeance": deadline,
            "echeance_depassee": overdue,
            "consequence": "Tant que ce compte rendu n'est pas reconnu conforme, aucune nouvelle demande de "
            "subvention ne peut être instruite (article 10 de la loi n° 2000-321 du 12 avril 2000).",
        }
        if action == "report_alert":
            recipients = [
                (
                    a.email,
                    a.name,
                    "Prendre contact avec l'association ; enregistrer le compte rendu dès sa "
                    "réception. Ses nouvelles demandes sont refusées entre-temps (R14).",
                )
                for a in codes.eligible_agents(session, "instructeur", due.departement_code)
            ]
        else:
            recipients = [
                (address, name, f"{what}{', sans attendre.' if overdue else '.'}")
                for address, name in report_case.applicants(session, due)
            ]
        queue_many(
            session,
            [
                Email(
                    "deadline_notice",
                    address,
                    {**report_case.email_base(session, due, name), **notice, "action_attendue": expected},
                    message_key("crf", due.id, f"{action}:{deadline}", address, "deadline_notice"),
                )
                for address, name, expected in recipients
            ],
        )
        report[REPORT_COUNTERS[action]] += 1
