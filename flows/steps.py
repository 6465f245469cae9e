"""How every approval step runs: open, notify, wait for a person, judge, notify, move on.

The run suspends while it waits (no process, no worker slot, no time-out). When someone
answers, Prefect starts the flow again from the top: every task below is idempotent in the
database, and each wait has a stable key, so an answer already given is read back, not asked
again.
"""

from __future__ import annotations

from prefect.flow_runs import asuspend_flow_run
from prefect.runtime import flow_run

from flows.forms import CTAI_FORMS
from services import ctai_workflow
from services.db import unit_of_work
from tasks.ctai import judge, open_step, publish_artifact
from tasks.notify import send_outbox
from tasks.runs import start_next_step

CTAI_FLOW_NAMES = {step: f"ctai-{step.replace('_', '-')}" for step in CTAI_FORMS}


async def run_ctai_step(step: str, ctai_id: int, trigger: str | None) -> dict:
    run_id, link = str(flow_run.get_id()), flow_run.get_flow_run_ui_url()
    view = open_step(ctai_id=ctai_id, step=step, flow_run_id=run_id, trigger=trigger, link=link)
    await send_outbox()
    if view["state"] == "done":  # decided before a crash or a restart: just make sure the next step runs
        await _start_next(view["next_step"], view["closing_decision_id"], ctai_id)
        return view
    await publish_artifact(ctai_id=ctai_id)
    form = CTAI_FORMS[step]
    while True:
        attempt = view["next_attempt"]
        answer = await asuspend_flow_run(wait_for_input=form.with_initial_data(description=view["description"]),
                                         key=pause_key(step, attempt), timeout=None)
        outcome = judge(ctai_id=ctai_id, step=step, flow_run_id=run_id, attempt=attempt,
                        answer=answer.model_dump(mode="json", exclude={"metadata"}), link=link)
        await send_outbox()
        await publish_artifact(ctai_id=ctai_id)
        if outcome["accepted"] and outcome["leaves_step"]:
            await _start_next(outcome["next_step"], outcome["decision_id"], ctai_id)
            return outcome
        # Refused (the form shows why), or sent back for rework within the step (new round, new codes).
        view = open_step(ctai_id=ctai_id, step=step, flow_run_id=run_id, trigger=None, link=link)
        await send_outbox()


def pause_key(step: str, attempt: int) -> str:
    """Prefect input keys allow lowercase letters, digits and dashes only."""
    return f"{step.replace('_', '-')}-{attempt}"


async def _start_next(next_step: str | None, decision_id: int, ctai_id: int) -> None:
    if next_step is None:
        return
    with unit_of_work() as session:
        info = ctai_workflow.launch_info(session, ctai_id, next_step)
    await start_next_step(entity_type="ctai", entity_id=ctai_id, step=next_step, cause=f"d{decision_id}",
                          flow_name=CTAI_FLOW_NAMES[next_step], parameters={"ctai_id": ctai_id},
                          run_name=info["run_name"], tags=info["tags"], awaited_role=info["awaited_role"])
