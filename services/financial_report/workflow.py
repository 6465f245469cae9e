"""The compte rendu financier as a kind of case for the step engine: the instructeur examines
what the porteur transmitted (conforme, incomplet, non conforme); the porteur learns the outcome."""

from __future__ import annotations

from sqlmodel import Session

from models.actors import Porteur
from models.acts import FinancialReport
from services.engine.kind import CaseKind, departements_by_column
from services.financial_report import steps, texts
from services.financial_report.records import ENTITY
from services.financial_report.steps import REPORT_MACHINE


class ReportCase(CaseKind[FinancialReport]):
    entity = ENTITY
    model = FinancialReport
    machine = REPORT_MACHINE
    parameter = "crf_id"
    steps = steps.STEPS_BY_NAME
    history_labels = texts.REPORT_STEP_LABELS

    run_name = staticmethod(texts.run_name)
    description = staticmethod(texts.form_description)
    email_base = staticmethod(texts.email_base)
    summary = staticmethod(texts.summary)
    dashboard = staticmethod(texts.report_markdown)

    def departement(self, session: Session, case: FinancialReport) -> str:
        return case.departement_code

    def departements(self, session: Session, ids) -> dict[int, str]:
        return departements_by_column(session, FinancialReport, ids)

    def applicants(self, session: Session, case: FinancialReport) -> list[tuple[str, str]]:
        porteur = session.get(Porteur, case.porteur_id)
        return [(porteur.email, porteur.name)]


REPORT = ReportCase()
