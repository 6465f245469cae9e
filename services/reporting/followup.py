"""The follow-up table of each département, published every day: each open case, its step,
since when, its service level, its next deadline and who is awaited (the latest first: the
late ones at the top). Cases the ministry decides nationally (its batches) go to « national »."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlmodel import Session, select

from models.actors import Agent, Collectivite
from models.ctai import Ctai, CtaiStatus
from models.listing import AWAITED_LABELS, Wait
from models.ptai import PtaiRequest, PtaiStatus
from models.types import to_paris
from services.cases import KINDS
from services.cases import kind as case_kind
from services.engine.prefect_api import run_link
from services.reporting.waits import live_waits, wait_between_steps

NATURES = {
    "ctai": "contrat",
    "ptai": "demande PTAI",
    "lot": "lot de délégation",
    "comite": "comité de pilotage",
    "acte": "acte attributif",
    "crf": "compte rendu financier",
}


def tables(session: Session, today: date) -> dict[str, list[dict]]:
    """Département code (or « national ») → its rows, most late first, then by deadline. Every
    département with a collectivité or an agent has its table, empty when nothing is open (so
    that yesterday's table never stands for today's)."""
    found: dict[str, list[tuple[Wait, dict]]] = {dep: [] for dep in _followed(session)}
    found = defaultdict(list, found)
    for entity in KINDS:
        kind = case_kind(entity)
        for case_id, wait in live_waits(session, entity, today).items():
            case = session.get(kind.model, case_id)
            if case is not None:
                found[kind.departement(session, case)].append((wait, _case(entity, case)))
    for wait, dep, case in _between_steps(session, today):
        found[dep].append((wait, case))
    return {dep: [_row(wait, case) for wait, case in sorted(rows, key=_urgency)] for dep, rows in sorted(found.items())}


def _followed(session: Session) -> set[str]:
    deps = set(session.exec(select(Collectivite.departement_code).distinct()))
    deps |= {d for d in session.exec(select(Agent.departement_code).distinct()) if d is not None}
    return deps | {"national"}


def _between_steps(session: Session, today: date):
    requests = session.exec(
        select(PtaiRequest, Collectivite.departement_code)
        .join(Collectivite, Collectivite.id == PtaiRequest.collectivite_id)
        .where(PtaiRequest.status.in_([PtaiStatus.AWAITING_APPLICANT, PtaiStatus.TRANSMITTED]))
    )
    for request, dep in requests:
        yield (
            wait_between_steps(
                "ptai",
                request.status,
                since=to_paris(request.updated_at).date(),
                deadline=request.rework_deadline,
                today=today,
            ),
            dep,
            _case("ptai", request),
        )
    contracts = session.exec(
        select(Ctai, Collectivite.departement_code)
        .join(Collectivite, Collectivite.id == Ctai.collectivite_id)
        .where(Ctai.status == CtaiStatus.DIAIR_REWORK)
    )
    for ctai, dep in contracts:
        yield (
            wait_between_steps("ctai", ctai.status, since=to_paris(ctai.updated_at).date(), deadline=None, today=today),
            dep,
            _case("ctai", ctai),
        )


def _case(entity: str, case) -> dict:
    return {"nature": NATURES.get(entity, entity), "dossier": getattr(case, "reference", None) or f"n° {case.id}"}


def _urgency(item: tuple[Wait, dict]):
    wait, _ = item
    lateness = wait.lateness
    return (-(lateness.late_days if lateness else 0), lateness.deadline if lateness else date.max, wait.step_label)


def _row(wait: Wait, case: dict) -> dict:
    """One line of the table, in French, every cell a string (the Prefect UI shows them as is)."""
    lateness = wait.lateness
    return {
        "Dossier": case["dossier"],
        "Nature": case["nature"],
        "Étape": wait.step_label,
        "Attendu": AWAITED_LABELS[wait.awaited],
        "Depuis le": f"{lateness.since:%d/%m/%Y}" if lateness else "—",
        "Délai (jours ouvrés)": str(lateness.sla_days) if lateness else "—",
        "Échéance": f"{lateness.deadline:%d/%m/%Y}" if lateness else "—",
        "Retard (jours ouvrés)": str(lateness.late_days) if wait.late else "—",
        "Lien": run_link(wait.run_id) or "—",
    }
