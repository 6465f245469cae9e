"""The ministry's monthly batch delegation of credits to the départements."""

from __future__ import annotations

from prefect import flow
from prefect.runtime import flow_run

from flows.hooks import HOOKS
from flows.steps import run_step
from models.delegation import BatchStatus
from models.types import paris_today
from services.finance import steps
from tasks.delegation import batch_status, delegate, finish_unfinished, publish_table, select_batch
from tasks.notify import send_outbox
from tasks.runs import start_act_signatures


def run_name() -> str:
    year = flow_run.parameters.get("year") or paris_today().year
    return f"Délégation des crédits — campagne {year}"


@flow(name="delegation-credits", flow_run_name=run_name, persist_result=True, log_prints=True, **HOOKS)
async def delegation_credits(year: int | None = None, batch_id: int | None = None) -> dict:
    """Select every transmitted request, publish the batch by département, wait for a ministry
    officer's decision (approve the batch as a whole, with a decision on each request listed:
    reduce, postpone once, refuse for good; or reject it), then delegate AE = CP one
    département at a time. Running it again after a crash finishes the interrupted batch first.
    ``batch_id``: take over that batch, whose run was lost (the recovery sweep starts it so)."""
    year = year or paris_today().year
    finish_unfinished()
    await send_outbox()
    batch = select_batch(year=year, flow_run_id=str(flow_run.get_id()), batch_id=batch_id)
    if not batch["requests"]:
        print(f"Aucune demande transmise à déléguer pour {year}.")
        return batch
    await publish_table(batch_id=batch["id"])
    # The ministry: approve (within the envelope) or reject.
    await run_step(steps.ARBITRAGE, batch["id"], batch["trigger"])
    if batch_status(batch_id=batch["id"]) == BatchStatus.APPROVED:
        batch["rapport"] = delegate(batch_id=batch["id"])
        await send_outbox()
        await start_act_signatures()  # each beneficiary's act, to be signed by the préfet
        await publish_table(batch_id=batch["id"])
    return batch
