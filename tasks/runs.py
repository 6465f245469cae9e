"""Prefect tasks that start runs: a step's run once per (case, step), whoever asks and however often."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from services.cases import kind
from services.engine import launch

TASK = {"cache_policy": NO_CACHE, "persist_result": False, "retries": 3, "retry_delay_seconds": 5}


@task(name="demarrer-l-etape-suivante", **TASK)
async def start_next_step(*, case: str, entity_id: int, step: str, cause: str) -> str:
    return await launch.start_step_run(kind(case), entity_id, step, cause)


@task(name="demarrer-l-etape-en-cours", **TASK)
async def start_current_step(case: str, entity_id: int, cause: str) -> str | None:
    return await launch.start_case_step(kind(case), entity_id, cause)
