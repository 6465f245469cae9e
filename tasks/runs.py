"""Prefect tasks that start runs: a step's run once per (case, step), whoever asks and however often."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from services.acts import workflow as acts_workflow
from services.cases import kind
from services.db import unit_of_work
from services.engine import launch, runs
from services.followup import recovery
from tasks.retry import RETRY_TRANSIENT

TASK = {"cache_policy": NO_CACHE, "persist_result": False, **RETRY_TRANSIENT}


@task(name="demarrer-l-etape-suivante", **TASK)
async def start_next_step(*, case: str, entity_id: int, step: str, cause: str) -> str:
    return await launch.start_step_run(kind(case), entity_id, step, cause)


@task(name="demarrer-l-etape-en-cours", **TASK)
async def start_current_step(case: str, entity_id: int, cause: str) -> str | None:
    return await launch.start_case_step(kind(case), entity_id, cause)


@task(name="demarrer-les-signatures-d-actes", **TASK)
async def start_act_signatures() -> list[str]:
    """The signature run of every legal act drawn up and not yet started."""
    return await acts_workflow.start_signatures()


@task(name="reprendre-les-etapes-interrompues", cache_policy=NO_CACHE, persist_result=False)
async def repair_steps(dry_run: bool = False) -> dict:
    """The recovery sweep (``services.followup.recovery``), from the daily run."""
    return (await recovery.sweep(dry_run=dry_run)).as_dict()


def note_incident(flow_run_id: str, text: str) -> bool:
    """Records on the run's step what went wrong (for the flows' failure and crash hooks, which
    run outside the task engine). False when no step is inscribed for the run."""
    with unit_of_work() as session:
        row = runs.for_run(session, flow_run_id)
        if row is None:
            return False
        runs.record_incident(session, row, text)
    return True
