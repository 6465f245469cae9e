"""The compte rendu financier as a kind of case for the step engine: the instructeur examines
what the porteur transmitted (conforme, incomplet, non conforme); the porteur learns the outcome."""

from __future__ import annotations

from sqlmodel import Session

from models.actors import Porteur
from models.acts import REPORT_MACHINE, FinancialReport, ReportStatus
from services.crf import forms, handlers, texts
from services.crf.records import ENTITY
from services.engine.kind import CaseKind, Step, departements_by_column

TRANSMIT_AGAIN = (
    "Transmettre à la préfecture, avant la date limite indiquée, les éléments manquants du compte rendu "
    "financier (formulaire Cerfa n° 15059) : sans compte rendu conforme, aucune nouvelle demande de "
    "subvention ne peut être instruite."
)


class ReportCase(CaseKind[FinancialReport]):
    entity = ENTITY
    model = FinancialReport
    machine = REPORT_MACHINE
    parameter = "crf_id"
    steps = {
        "examen": Step(
            "examen",
            ReportStatus.RECEIVED,
            "examen du compte rendu financier",
            forms.ExamenForm,
            handlers.examen,
            expectation="Aucune démarche de votre part : la préfecture examine votre compte rendu financier.",
            expectation_rework=TRANSMIT_AGAIN,
        )
    }

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


CRF = ReportCase()
