"""How every approval step runs: open, notify, wait for a person, judge, notify, move on.

The run suspends while it waits (no process, no worker slot, no time-out). When someone
answers, Prefect starts the flow again from the top: every task below is idempotent in the
database, and each wait has a stable key, so an answer already given is read back, not asked
again. A run started again after an incident (``services.followup.recovery``) waits under new
keys, and first judges an answer it had received but not judged.
"""

from __future__ import annotations

from prefect.flow_runs import asuspend_flow_run
from prefect.runtime import flow_run
from pydantic import ValidationError

import liveness
from flows.forms import run_input
from services.cases import kind
from services.engine.kind import Step
from services.engine.runs import pause_key
from tasks.notify import send_outbox
from tasks.runs import start_act_signatures, start_next_step
from tasks.steps import forget_answers, judge, open_step, publish_artifact, read_answer, recover_answer


async def run_step(declared: Step, entity_id: int, trigger: str | None) -> dict:
    """Runs the step ``declared`` (its declaration, in its wing's ``steps`` module) for one case."""
    case, step = declared.case, declared.name  # the tasks take JSON-friendly names
    run_id, link = str(flow_run.get_id()), flow_run.get_flow_run_ui_url()
    ids = {"case": case, "entity_id": entity_id}
    view = open_step(**ids, step=step, flow_run_id=run_id, trigger=trigger, link=link, worker=liveness.identity())
    await send_outbox()
    pending = None
    if view["generation"] and view["state"] == "open":
        pending = await recover_answer(
            flow_run_id=run_id, step=step, attempt=view["next_attempt"], generation=view["generation"]
        )
    # Every answer stored on the run has been read by now (judged, or just recovered), but the one
    # this run was resumed with, if any, that the wait below reads back: erased.
    await forget_answers(
        flow_run_id=run_id,
        keep=pause_key(step, view["next_attempt"], view["generation"]) if view["state"] == "open" else None,
    )
    if view["state"] == "done":  # decided before a crash or a restart: just make sure the next step runs
        await _start_next(case, view["next_step"], view["closing_decision_id"], entity_id)
        await _start_signatures(case)  # and the signatures of the acts its decision may have drawn up
        return view
    await publish_artifact(**ids)
    form = run_input(declared.form)
    while True:
        attempt = view["next_attempt"]
        key = pause_key(step, attempt, view["generation"])
        if pending is not None:
            given, pending = pending, None
        else:
            try:
                answer = await asuspend_flow_run(
                    wait_for_input=form.with_initial_data(description=view["description"]), key=key, timeout=None
                )
                given = answer.model_dump(mode="json")
            except ValidationError:  # accepted by the server's schema, not by the form's own checks
                given = await read_answer(flow_run_id=run_id, pause_key=key)
        try:
            outcome = judge(**ids, step=step, flow_run_id=run_id, attempt=attempt, answer=given, link=link)
        finally:  # whatever the verdict, or a failure, the typed answer (code included) leaves Prefect
            await forget_answers(flow_run_id=run_id, pause_keys=[key])
        await send_outbox()
        await publish_artifact(**ids)
        if outcome["accepted"] and outcome["leaves_step"]:
            await _start_next(case, outcome["next_step"], outcome["decision_id"], entity_id)
            await _start_signatures(case)
            return outcome
        # Refused (the form shows why), or sent back for rework within the step (new round, new codes).
        view = open_step(**ids, step=step, flow_run_id=run_id, trigger=None, link=link)
        await send_outbox()


async def _start_next(case: str, next_step: str | None, decision_id: int, entity_id: int) -> None:
    if next_step is None or kind(case).flow_name(next_step) is None:
        return  # the case waits for something else (an applicant, a batch, a yearly review)
    await start_next_step(case=case, entity_id=entity_id, step=next_step, cause=f"d{decision_id}")


async def _start_signatures(case: str) -> None:
    """After any decision that leaves a step of a kind of case that grants money (declared ``grants``),
    start the signature run of every act drawn up and not yet on its way: this decision's, and any
    drawn up earlier whose run never started (idempotent). PTAI credits are granted by the
    delegation flow, which starts the acts itself."""
    if any(d.grants for s in kind(case).steps.values() for d in s.decisions):
        await start_act_signatures()
