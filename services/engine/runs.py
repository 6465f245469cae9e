"""The registry of step runs: exactly one live Prefect run per (case, step).

Starting a step is three moves, each safe to repeat after a crash:
1. ``reserve``: a row keyed by the trigger (unique); a partial unique index refuses a second
   live row for the same case and step;
2. the Prefect run is created with the same trigger as its ``idempotency_key``;
3. ``attach``: the run's id is written on the row.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from models.approval import Installation, StepRun, StepRunState
from models.errors import DomainError
from models.types import utcnow


class StepAlreadyLive(DomainError):
    code = "ETAPE_DEJA_EN_COURS"


def trigger_key(session: Session, entity_type: str, entity_id: int, step: str, cause: str) -> str:
    """Unique across databases too: it is also the Prefect run's idempotency key."""
    return f"{instance_id(session)}:{entity_type}:{entity_id}:{step}:{cause}"


def instance_id(session: Session) -> str:
    return session.get(Installation, 1).instance_id


def reserve(session: Session, *, entity_type: str, entity_id: int, step: str, key: str,
            awaited_role: str | None) -> StepRun:
    """Returns the row for this trigger, creating it; refuses a second live run of the step."""
    existing = session.exec(select(StepRun).where(StepRun.trigger_key == key)).first()
    if existing is not None:
        return existing
    live = live_step(session, entity_type, entity_id, step)
    if live is not None:
        raise StepAlreadyLive(f"[{StepAlreadyLive.code}] l'étape « {step} » du dossier {entity_type} n° {entity_id} "
                              f"a déjà une exécution en cours ({live.flow_run_id or 'en création'})")
    row = StepRun(entity_type=entity_type, entity_id=entity_id, step=step, trigger_key=key, awaited_role=awaited_role)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        raise StepAlreadyLive(f"[{StepAlreadyLive.code}] l'étape « {step} » a déjà une exécution en cours") from None
    return row


def attach(session: Session, key: str, flow_run_id: str) -> StepRun:
    row = session.exec(select(StepRun).where(StepRun.trigger_key == key)).one()
    if row.flow_run_id is None:
        row.flow_run_id, row.state = flow_run_id, StepRunState.LIVE
        session.add(row)
    return row


def live_step(session: Session, entity_type: str, entity_id: int, step: str | None = None) -> StepRun | None:
    stmt = select(StepRun).where(StepRun.entity_type == entity_type, StepRun.entity_id == entity_id,
                                 StepRun.state != StepRunState.DONE)
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
    return session.exec(select(StepRun.id).where(
        StepRun.entity_type == entity_type, StepRun.entity_id == entity_id, StepRun.step == step,
        StepRun.state == StepRunState.DONE, StepRun.flow_run_id != flow_run_id)).first() is not None
