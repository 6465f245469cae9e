"""Starting Prefect runs: a step's run once per (case, step), whoever asks and however often; a ministry batch."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.deployments.flow_runs import arun_deployment

from services import steps
from services.case_kinds import kind
from services.db import unit_of_work
from services.step_engine import launch_info

DEPLOYMENT_NAME = "territoires"


def deployment_for(flow_name: str) -> str:
    return f"{flow_name}/{DEPLOYMENT_NAME}"


async def start_step_run(*, entity_type: str, entity_id: int, step: str, cause: str, flow_name: str,
                         parameters: dict, run_name: str, tags: list[str], awaited_role: str | None) -> str:
    """Reserves the step in the database, creates the Prefect run with the same key, attaches it.

    Every move is idempotent: after a crash at any point, calling again with the same cause
    returns the same run; a second cause while the step is live is refused (StepAlreadyLive).
    """
    with unit_of_work() as session:
        key = steps.trigger_key(session, entity_type, entity_id, step, cause)
        row = steps.reserve(session, entity_type=entity_type, entity_id=entity_id, step=step, key=key,
                            awaited_role=awaited_role)
        if row.flow_run_id is not None:
            return row.flow_run_id
    flow_run = await arun_deployment(deployment_for(flow_name), parameters={**parameters, "trigger": key},
                                     flow_run_name=run_name, tags=tags, idempotency_key=key, timeout=0, as_subflow=False)
    with unit_of_work() as session:
        steps.attach(session, key, str(flow_run.id))
    return str(flow_run.id)


async def start_batch_run(year: int | None, idempotency_key: str | None = None) -> str:
    """A ministry batch now (the same flow as the monthly schedule); returns the run's id."""
    flow_run = await arun_deployment(deployment_for("delegation-credits"), parameters={"year": year}, timeout=0,
                                     as_subflow=False, idempotency_key=idempotency_key,
                                     tags=["lot", "dept:national", "awaiting:ministere"])
    return str(flow_run.id)


async def start_case_step(case: str, entity_id: int, cause: str) -> str | None:
    """Starts the run of the step the case is at (if that step is a flow), once: a live run of
    that step is returned as it is."""
    # flows.steps imports this module: imported when called.
    from flows.steps import FLOW_NAMES, PARAMETER

    k = kind(case)
    with unit_of_work() as session:
        current = session.get(k.model, entity_id)
        step = k.step_of(current.status)
        if step is None or step not in FLOW_NAMES[case]:
            return None
        live = steps.live_step(session, case, entity_id, step)
        if live is not None and live.flow_run_id:
            return live.flow_run_id
        cause = live.trigger_key.rsplit(":", 1)[1] if live is not None else cause
        info = launch_info(session, k, entity_id, step)
    return await start_step_run(entity_type=case, entity_id=entity_id, step=step, cause=cause,
                                flow_name=FLOW_NAMES[case][step], parameters={PARAMETER[case]: entity_id},
                                run_name=info["run_name"], tags=info["tags"], awaited_role=info["awaited_role"])


@task(name="demarrer-l-etape-suivante", cache_policy=NO_CACHE, persist_result=False, retries=3, retry_delay_seconds=5)
async def start_next_step(**kwargs) -> str:
    return await start_step_run(**kwargs)


@task(name="demarrer-l-etape-en-cours", cache_policy=NO_CACHE, persist_result=False, retries=3, retry_delay_seconds=5)
async def start_current_step(case: str, entity_id: int, cause: str) -> str | None:
    return await start_case_step(case, entity_id, cause)
