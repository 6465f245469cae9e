"""Prefect tasks of the batch delegation: each is one or a few transactions, all idempotent."""

from __future__ import annotations

from prefect import task
from prefect.artifacts import acreate_table_artifact
from prefect.cache_policies import NO_CACHE

from models.delegation import DelegationBatch
from services.db import unit_of_work
from services.engine import runs
from services.finance import batches, delegation
from services.finance.steps import ARBITRAGE

TASK = {"cache_policy": NO_CACHE, "persist_result": False}


@task(name="terminer-les-lots-interrompus", **TASK)
def finish_unfinished() -> list[dict]:
    """What a crash interrupted: approved batches with départements not yet delegated."""
    with unit_of_work() as session:
        pending = delegation.unfinished_batches(session)
    return [delegation.delegate(batch_id) for batch_id in pending]


@task(name="constituer-le-lot", **TASK)
def select_batch(*, year: int, flow_run_id: str, batch_id: int | None = None) -> dict:
    """This run's batch: selected once, or, for a run that replaces a lost one, the batch it carried."""
    with unit_of_work() as session:
        if batch_id is not None:
            batch = batches.resume_batch(session, batch_id=batch_id, flow_run_id=flow_run_id)
        else:
            batch = batches.select_batch(session, year=year, flow_run_id=flow_run_id)
        result = {
            "id": batch.id,
            "reference": batch.reference,
            "status": batch.status,
            "requests": batch.requests_count,
            "total_cents": batch.total_cents,
        }
        if batch.requests_count:
            live = runs.live_step(session, ARBITRAGE.case, batch.id, ARBITRAGE.name)
            key = (
                live.trigger_key
                if live is not None
                else runs.trigger_key(session, ARBITRAGE.case, batch.id, ARBITRAGE.name, flow_run_id)
            )
            if live is None:
                runs.reserve(
                    session,
                    entity_type=ARBITRAGE.case,
                    entity_id=batch.id,
                    step=ARBITRAGE.name,
                    key=key,
                    awaited_role=str(ARBITRAGE.role),
                )
            result["trigger"] = key
    return result


@task(name="publier-le-tableau-du-lot", **TASK)
async def publish_table(*, batch_id: int) -> None:
    with unit_of_work() as session:
        batch = session.get(DelegationBatch, batch_id)
        rows = batches.table(session, batch)
    await acreate_table_artifact(
        key=f"lot-{batch_id}", table=rows, description=f"Lot {batch.reference} : demandes et montants par département"
    )


@task(name="etat-du-lot", **TASK)
def batch_status(*, batch_id: int) -> str:
    with unit_of_work() as session:
        return str(session.get(DelegationBatch, batch_id).status)


@task(name="deleguer-les-credits", **TASK)
def delegate(*, batch_id: int) -> dict:
    """One transaction per département; a failing département is reported, the others stand."""
    return delegation.delegate(batch_id)
