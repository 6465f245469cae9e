"""The registry of step runs: exactly one live Prefect run per (case, step).

Starting a step is three moves, each safe to repeat after a crash:
1. ``reserve``: a row keyed by the trigger (unique); a partial unique index refuses a second
   live row for the same case and step;
2. the Prefect run is created with the same trigger as its ``idempotency_key``;
3. ``attach``: the run's id is written on the row.

A step whose run died is started again (``services/followup/recovery.py``): the same run from the
top (``restart_same``), or, when Prefect no longer knows it, a new run under a new key
(``restart_new``); either way the row stays the step's one live row.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from models.approval import ApprovalCode, ApprovalGuard, Installation, StepRun, StepRunState
from models.errors import DomainError
from models.types import utcnow

INCIDENT_LENGTH = 500


class StepAlreadyLive(DomainError):
    code = "ETAPE_DEJA_EN_COURS"


def trigger_key(session: Session, entity_type: str, entity_id: int, step: str, cause: str) -> str:
    """Unique across databases too: it is also the Prefect run's idempotency key."""
    return f"{instance_id(session)}:{entity_type}:{entity_id}:{step}:{cause}"


def instance_id(session: Session) -> str:
    return session.get(Installation, 1).instance_id


def reserve(
    session: Session, *, entity_type: str, entity_id: int, step: str, key: str, awaited_role: str | None
) -> StepRun:
    """Returns the row for this trigger, creating it; refuses a second live run of the step."""
    existing = session.exec(select(StepRun).where(StepRun.trigger_key == key)).first()
    if existing is not None:
        return existing
    live = live_step(session, entity_type, entity_id, step)
    if live is not None:
        raise StepAlreadyLive(
            f"[{StepAlreadyLive.code}] l'étape « {step} » du dossier {entity_type} n° {entity_id} "
            f"a déjà une exécution en cours ({live.flow_run_id or 'en création'})"
        )
    row = StepRun(entity_type=entity_type, entity_id=entity_id, step=step, trigger_key=key, awaited_role=awaited_role)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        raise StepAlreadyLive(f"[{StepAlreadyLive.code}] l'étape « {step} » a déjà une exécution en cours") from None
    return row


def attach(session: Session, key: str, flow_run_id: str) -> StepRun | None:
    """Writes the run's id on its row, once. A run that replaces a lost one takes over its
    wrong-code counts and lock-outs (a restart must not clear them); the lost run's codes are
    revoked (they named a run nobody can answer any more)."""
    row = session.exec(select(StepRun).where(StepRun.trigger_key == key)).first()
    if row is not None and row.flow_run_id is None:
        row.flow_run_id, row.state = flow_run_id, StepRunState.LIVE
        session.add(row)
        if row.previous_run_id:
            session.execute(
                update(ApprovalGuard)
                .where(ApprovalGuard.flow_run_id == row.previous_run_id)
                .values(flow_run_id=flow_run_id)
            )
            session.execute(
                update(ApprovalCode)
                .where(ApprovalCode.flow_run_id == row.previous_run_id, ApprovalCode.revoked_at.is_(None))
                .values(revoked_at=utcnow())
            )
    return row


def live_step(session: Session, entity_type: str, entity_id: int, step: str | None = None) -> StepRun | None:
    stmt = select(StepRun).where(
        StepRun.entity_type == entity_type, StepRun.entity_id == entity_id, StepRun.state != StepRunState.DONE
    )
    if step is not None:
        stmt = stmt.where(StepRun.step == step)
    return session.exec(stmt).first()


def for_run(session: Session, flow_run_id: str) -> StepRun | None:
    return session.exec(select(StepRun).where(StepRun.flow_run_id == flow_run_id)).first()


def mark_opened(session: Session, row: StepRun) -> None:
    if row.opened_at is None:
        row.opened_at = utcnow()
        session.add(row)


def close(session: Session, row: StepRun, decision_id: int) -> None:
    row.state, row.closing_decision_id = StepRunState.DONE, decision_id
    session.add(row)


def opened_before(session: Session, entity_type: str, entity_id: int, step: str, flow_run_id: str) -> bool:
    """Whether an earlier run already carried this step (the case came back to it)."""
    return (
        session.exec(
            select(StepRun.id).where(
                StepRun.entity_type == entity_type,
                StepRun.entity_id == entity_id,
                StepRun.step == step,
                StepRun.state == StepRunState.DONE,
                StepRun.flow_run_id != flow_run_id,
            )
        ).first()
        is not None
    )


def pause_key(step: str, attempt: int, generation: int = 0) -> str:
    """The key of a form's wait: ``<step>-<attempt>``, then ``-r<n>`` once the run was started
    again ``n`` times (a key Prefect saw fire cannot wait again). Prefect allows lowercase
    letters, digits and dashes only."""
    key = f"{step.replace('_', '-')}-{attempt}"
    return f"{key}-r{generation}" if generation else key


def record_worker(session: Session, row: StepRun, worker: str) -> None:
    """The process executing the run now (see ``liveness``), written each time the flow opens the
    step: its time tells the sweep that this execution of the run has a process."""
    row.worker, row.worker_at = worker[:120], utcnow()
    session.add(row)


def record_incident(session: Session, row: StepRun, text: str) -> None:
    row.incident, row.incident_at = text[:INCIDENT_LENGTH], utcnow()
    session.add(row)


def restart_same(session: Session, row: StepRun, reason: str) -> None:
    """The same Prefect run will execute the step again from the top: its form, its codes and
    the links already mailed stay valid; the next waits take new keys."""
    row.restarts += 1
    row.worker = None
    record_incident(session, row, reason)


def restart_new(session: Session, row: StepRun, reason: str) -> str:
    """Prefect lost the run: the row is reserved again under a new key (the new run's
    idempotency key), to be attached to the run created with it. Returns the key."""
    base = row.trigger_key.split(":reprise-")[0]
    row.restarts += 1
    row.previous_run_id, row.first_run_id = row.flow_run_id, row.first_run_id or row.flow_run_id
    row.flow_run_id, row.state, row.worker = None, StepRunState.STARTING, None
    row.trigger_key = f"{base}:reprise-{row.restarts}"
    record_incident(session, row, reason)
    return row.trigger_key


def open_rows(session: Session) -> list[StepRun]:
    return list(session.exec(select(StepRun).where(StepRun.state != StepRunState.DONE).order_by(StepRun.id)))


def rows_for_runs(session: Session, flow_run_ids: list[str]) -> list[StepRun]:
    return list(session.exec(select(StepRun).where(StepRun.flow_run_id.in_(flow_run_ids)))) if flow_run_ids else []
