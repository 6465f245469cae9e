"""What each case waits for now: its live step (the step engine's ``StepRun``), or, between
steps, the applicant asked for a complement. One query per kind of case, whatever the number
of cases."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlmodel import Session, select

from models.approval import StepRun, StepRunState
from models.ctai import CtaiStatus
from models.listing import APPLICANT, Wait, applicant_lateness
from models.ptai import PtaiStatus
from models.reminders import lateness, policy
from models.types import to_paris

IN_LIST_MAX = 1000  # beyond, every live step of the kind is read and filtered here (bound parameters)

# Waits with no step run: the case is back with its applicant, or queued for the ministry's
# next batch (no service level: the ministry sets its batches' calendar).
BETWEEN_STEPS = {
    ("ptai", PtaiStatus.AWAITING_APPLICANT): ("complément demandé au demandeur", APPLICANT),
    ("ctai", CtaiStatus.DIAIR_REWORK): ("actions à retravailler par la collectivité", APPLICANT),
    ("ptai", PtaiStatus.TRANSMITTED): ("inscription dans le prochain lot de délégation", "ministere"),
}


def live_waits(session: Session, entity: str, today: date, ids: Iterable[int] | None = None) -> dict[int, Wait]:
    """The wait of each case of kind ``entity`` that has a live step (the latest opened, if a
    case has several), by case id."""
    t = StepRun.__table__.c
    query = (
        select(t.entity_id, t.step, t.awaited_role, t.opened_at, t.flow_run_id)
        .where(t.entity_type == entity, t.state == StepRunState.LIVE, t.opened_at.is_not(None))
        .order_by(t.opened_at)
    )
    wanted = None if ids is None else set(ids)
    if wanted is not None and len(wanted) <= IN_LIST_MAX:
        query = query.where(t.entity_id.in_(wanted or {-1}))
    kind, sla = None, policy().sla_for
    waits = {}
    for row in session.connection().execute(query):
        if kind is None:  # the kinds (every wing, its forms) are loaded once a step is found
            from services.cases import kind as case_kind

            kind = case_kind(entity)
        step = kind.steps.get(row.step)
        awaited = row.awaited_role or (kind.awaited_role(row.step) if step else None)
        if step is None or awaited is None or (wanted is not None and row.entity_id not in wanted):
            continue
        waits[row.entity_id] = Wait(
            step.label,
            str(awaited),
            lateness(to_paris(row.opened_at).date(), today, sla(entity, row.step)),
            row.flow_run_id,
        )
    return waits


def wait_between_steps(entity: str, status: str, *, since: date, deadline: date | None, today: date) -> Wait | None:
    """The wait of a case with no live step (back with its applicant, queued), or None."""
    found = BETWEEN_STEPS.get((entity, status))
    if found is None:
        return None
    label, awaited = found
    return Wait(label, awaited, applicant_lateness(since, deadline, today) if deadline else None)
