"""French texts about a compte rendu financier: run name, examination form, emails, dashboard."""

from __future__ import annotations

from sqlmodel import Session

from models.actors import Porteur
from models.acts import REPORT_STATUS_LABELS, FinancialReport, LegalAct, ReportStatus
from models.errors import Violation
from models.money import format_eur
from services.acts.records import family_paid_cents
from services.engine.texts import (
    decision_footer,
    history_lines,
    letterhead,
    md,
    refusal_banner,
    step_labels,
)
from services.financial_report import steps
from services.financial_report.records import ENTITY

# Every step a compte rendu's history names: its examination and the porteur's transmission.
REPORT_STEP_LABELS = step_labels(steps.STEPS, **steps.OTHER_STEP_LABELS)


def run_name(session: Session, report: FinancialReport, step: str | None = None) -> str:
    porteur = session.get(Porteur, report.porteur_id)
    return f"Compte rendu financier {report.reference} — {porteur.name} ({report.departement_code}) — examen"


def email_base(session: Session, report: FinancialReport, destinataire: str) -> dict:
    act = session.get(LegalAct, report.act_id)
    return {
        "reference": report.reference,
        "objet": f"Compte rendu financier de la subvention {report.year} ({act.reference})",
        "destinataire": destinataire,
        **letterhead(session, report.departement_code),
    }


def summary(session: Session, report: FinancialReport) -> str:
    porteur = session.get(Porteur, report.porteur_id)
    return (
        f"Compte rendu financier {report.year} de {porteur.name}, transmis le "
        f"{report.transmitted_on:%d/%m/%Y} : à examiner."
        if report.transmitted_on
        else f"Compte rendu financier {report.year} de {porteur.name}."
    )


def _body(session: Session, report: FinancialReport) -> list[str]:
    porteur = session.get(Porteur, report.porteur_id)
    act = session.get(LegalAct, report.act_id)
    paid = family_paid_cents(session, report.family_key)
    out = [
        f"**Porteur** : {md(porteur.name)} (SIRET {porteur.siret}) · **Acte** : {act.reference} · "
        f"**Subvention {report.year}** : {format_eur(act.total_cents)} · **Déjà payé** : {format_eur(paid)}",
        f"**Échéance** : {report.due_on:%d/%m/%Y} · **Statut** : {REPORT_STATUS_LABELS[ReportStatus(report.status)]}",
        "",
    ]
    if report.transmitted_on:
        out += [
            f"**Transmis le** {report.transmitted_on:%d/%m/%Y} (transmission n° {report.rounds}) : dépenses "
            f"réalisées {format_eur(report.expenses_cents or 0)}, subvention utilisée "
            f"{format_eur(report.used_cents or 0)}.",
            "",
        ]
        if report.summary:
            out += ["> " + md(report.summary).replace("\n", "\n> "), ""]
    return out


def form_description(
    session: Session, report: FinancialReport, step: str, role: str, refusal: list[Violation] | None
) -> str:
    lines = [f"## {md(run_name(session, report))}", "", *refusal_banner(refusal), *_body(session, report)]
    lines += history_lines(session, ENTITY, report.id, REPORT_STEP_LABELS)
    return "\n".join(lines + decision_footer(steps.EXAMEN))


def report_markdown(session: Session, entity_id: int) -> str:
    report = session.get(FinancialReport, entity_id)
    lines = [f"# Compte rendu financier {report.reference}", "", *_body(session, report)]
    return "\n".join(lines + history_lines(session, ENTITY, report.id, REPORT_STEP_LABELS))
