"""Starting runs: a step's run once per (case, step), whoever asks and however often; a ministry batch."""

from __future__ import annotations

from services.db import unit_of_work
from services.engine import prefect_api, runs
from services.engine.kind import CaseKind
from services.engine.steps import NotAtStep, launch_info


async def start_step_run(kind: CaseKind, entity_id: int, step: str, cause: str) -> str:
    """Reserves the step in the database, creates the Prefect run with the same key, attaches it.

    Every move is idempotent: after a crash at any point, calling again with the same cause
    returns the same run; a second cause while the step is live is refused (StepAlreadyLive).
    """
    with unit_of_work() as session:
        key = runs.trigger_key(session, kind.entity, entity_id, step, cause)
        row = runs.reserve(
            session,
            entity_type=kind.entity,
            entity_id=entity_id,
            step=step,
            key=key,
            awaited_role=kind.awaited_role(step),
        )
        if row.flow_run_id is not None:
            return row.flow_run_id
    return await create_reserved_run(kind, entity_id, step, key)


async def create_reserved_run(kind: CaseKind, entity_id: int, step: str, key: str) -> str:
    """The Prefect run of a reserved row (created with the row's key: a second call returns the
    same run), attached to the row."""
    with unit_of_work() as session:
        info = launch_info(session, kind, entity_id, step)
        request = kind.run_request(session, session.get(kind.model, entity_id), step, key)
    if request is None:
        raise NotAtStep(f"[{NotAtStep.code}] l'étape « {step} » n'a pas d'exécution propre")
    flow_name, parameters = request
    run_id = await prefect_api.start_run(
        flow_name, parameters=parameters, run_name=info["run_name"], tags=info["tags"], idempotency_key=key
    )
    with unit_of_work() as session:
        runs.attach(session, key, run_id)
    return run_id


async def start_batch_run(year: int | None, idempotency_key: str | None = None) -> str:
    """A ministry batch now (the same flow as the monthly schedule); returns the run's id."""
    return await prefect_api.start_run(
        "delegation-credits",
        parameters={"year": year},
        idempotency_key=idempotency_key,
        tags=["lot", "dept:national", "awaiting:ministere"],
    )


async def start_case_step(kind: CaseKind, entity_id: int, cause: str) -> str | None:
    """Starts the run of the step the case is at (if that step is a flow), once: a live run of
    that step is returned as it is (``recovery.resume_case`` also restarts a dead one)."""
    with unit_of_work() as session:
        current = session.get(kind.model, entity_id)
        step = kind.step_of(current.status)
        if step is None or kind.flow_name(step) is None:
            return None
        live = runs.live_step(session, kind.entity, entity_id, step)
        if live is not None and live.flow_run_id:
            return live.flow_run_id
        key = live.trigger_key if live is not None else None
    if key is not None:
        return await create_reserved_run(kind, entity_id, step, key)
    return await start_step_run(kind, entity_id, step, cause)
