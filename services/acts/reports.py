"""Opening the compte rendu financier that a signed act calls for (associations only: a
collectivité accounts for its actions in the contract's yearly review)."""

from __future__ import annotations

from sqlmodel import Session

from models.acts import FinancialReport, LegalAct, act_policy, report_reference
from services.acts.records import report_of
from services.engine.audit import SYSTEM, record_decision

ENTITY = "crf"


def open_report(session: Session, act: LegalAct) -> FinancialReport | None:
    """The family's compte rendu, created once (a new version of the act moves it onto the new act)."""
    if act.porteur_id is None:
        return None
    report = report_of(session, act.family_key)
    if report is not None:
        report.act_id = act.id
        session.add(report)
        return report
    report = FinancialReport(
        family_key=act.family_key,
        act_id=act.id,
        porteur_id=act.porteur_id,
        departement_code=act.departement_code,
        year=act.year,
        due_on=act_policy().report_due_on(act.year),
    )
    session.add(report)
    session.flush()
    report.reference = report_reference(act.departement_code, act.year, report.id)
    session.add(report)
    record_decision(
        session,
        entity_type=ENTITY,
        entity_id=report.id,
        step="depot",
        from_status=None,
        to_status=report.status,
        actor=SYSTEM,
        decision="report_opened",
        comment=f"compte rendu de l'acte {act.reference}, dû le {report.due_on:%d/%m/%Y}",
    )
    return report
