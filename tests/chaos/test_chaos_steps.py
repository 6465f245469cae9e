"""Chaos on the steps: the serving process killed while steps wait and while one is judged, the
SMTP server down, a step failing on a database error, the Prefect server restarted with a dozen
runs suspended. Nothing may be lost, nothing decided, started or mailed twice."""

from __future__ import annotations

import asyncio
import subprocess
from datetime import date, timedelta
from pathlib import Path
from uuid import UUID

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterTags
from prefect.flow_runs import aresume_flow_run
from prefect.states import Cancelled
from sqlmodel import Session, select

from models.approval import StepRun, StepRunState
from models.ctai import Ctai, CtaiStatus, EngagementDecision
from models.outbox import OutboxMessage
from models.types import utcnow
from notifications.sender import OutboxSender
from notifications.smtp import smtp_target
from services.ctai import steps as ctai_steps
from tests.chaos.conftest import report
from tests.chaos.drive import (
    ADMIN,
    I86,
    agents,
    cli,
    ctai_chain,
    lost_and_duplicated,
    ptai_chain,
    ptai_request,
    quiescent,
    wait_all,
    widening_chain,
)
from tests.flows.helpers import code_for, decide, mails_to, wait_for_mail, waiting_run
from tests.waiting import await_until

pytestmark = pytest.mark.chaos


async def test_killing_the_serving_process_while_steps_wait_loses_and_repeats_nothing(stack):
    """Three cases through their 14 steps; at every other round of steps (the first, the third…,
    the last), once each waits on its form, the serving process is killed with SIGKILL and started
    again: the steps of every kind (CTAI, widening, PTAI, the ministry's batch) are killed while
    waiting, in half the platform restarts a kill at each of the 9 rounds would cost."""
    chains = [await ctai_chain(stack, 31), await widening_chain(stack, 32), await ptai_chain(stack, 33)]
    rounds = kills = 0
    while any(c.steps for c in chains):
        for chain in chains:
            if chain.steps:
                await chain.prepare(stack)
        await wait_all(chains, stack)
        rounds += 1
        if rounds % 2 == 1:
            await quiescent(stack)  # the acts a decision started wait too, and no email is on the wire
            stack.platform.kill()  # SIGKILL to the serving process and anything it runs
            kills += 1
            stack.platform.start()
        await asyncio.gather(*(c.answer(stack) for c in chains if c.steps))
    answered = [key for c in chains for key in c.submitted]
    assert len(answered) == 14 and (rounds, kills) == (9, 5)
    for chain in chains:
        await _settled(stack, chain.entity, chain.entity_id)
    lost, duplicated = lost_and_duplicated(stack, answered)
    report(
        "kill -9 du service pendant les étapes en attente (un tour sur deux)",
        lost,
        duplicated,
        database=stack.engine.dialect.name,
    )
    assert (lost, duplicated) == (0, 0)


async def _settled(stack, entity: str, entity_id: int) -> None:
    """Until the case's last run is over, the runs it started (its acts) wait, and the emails are out."""
    await quiescent(stack)


async def _runs_of(stack, entity: str, entity_id: int, step: str) -> list:
    async with get_client() as client:
        found = await client.read_flow_runs(
            flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=[entity, f"step:{step}"])), limit=200
        )
    return [r for r in found if r.parameters.get(f"{entity}_id") == entity_id]


async def test_killing_the_serving_process_while_a_step_is_judged_starts_the_next_step_exactly_once(stack):
    chain = await ctai_chain(stack, 34)
    run_id = await waiting_run(stack.platform, "engagement", chain.entity_id)
    stack.sink.hold, stack.sink.accept_held = (lambda envelope: True), False
    stack.sink.holding.clear()
    stack.sink.release.clear()
    answer = asyncio.create_task(chain.answer(stack))
    assert await asyncio.to_thread(stack.sink.holding.wait, 90), "the decision's email never left"
    # The decision is recorded, its email is being sent, the next step is not started: kill now.
    stack.platform.kill()
    stack.sink.release.set()
    await answer
    with Session(stack.engine) as s:
        assert s.get(Ctai, chain.entity_id).status == CtaiStatus.EXCHANGE
        assert (
            s.exec(select(StepRun).where(StepRun.entity_id == chain.entity_id, StepRun.step == "echange")).all() == []
        )

    stack.platform.start()  # its start-up sweep finds the case at a step with no run
    await waiting_run(stack.platform, "echange", chain.entity_id)
    await chain.answer(stack)
    await _settled(stack, "ctai", chain.entity_id)
    with Session(stack.engine) as s:
        rows = s.exec(select(StepRun).where(StepRun.entity_id == chain.entity_id, StepRun.step == "echange")).all()
    runs = await _runs_of(stack, "ctai", chain.entity_id, "echange")
    async with get_client() as client:
        judged = await client.read_flow_run(UUID(run_id))
    assert judged.state.type.value == "CRASHED"  # shown as what it is, not running forever
    lost, duplicated = lost_and_duplicated(stack, chain.submitted)
    duplicated += (len(rows) - 1) + (len(runs) - 1)
    report("kill -9 du service pendant le jugement d'une étape", lost, duplicated, database=stack.engine.dialect.name)
    assert (len(rows), len(runs), lost, duplicated) == (1, 1, 0, 0)


async def test_the_smtp_server_down_for_a_while_delays_the_emails_without_losing_or_repeating_one(stack):
    chain = await ctai_chain(stack, 35)
    await waiting_run(stack.platform, "engagement", chain.entity_id)
    await wait_for_mail(stack.platform, I86, chain.reference, 1)
    before = set(stack.sink.message_ids())
    stack.stop_sink()
    try:
        await chain.answer(stack)  # judged, mailed in vain, next step started
        await waiting_run(stack.platform, "echange", chain.entity_id)
        with Session(stack.engine) as s:
            waiting = s.exec(
                select(OutboxMessage).where(OutboxMessage.status == "pending", OutboxMessage.attempts > 0)
            ).all()
        assert waiting, "the emails should wait while the SMTP server is down"
    finally:
        stack.start_sink()
    # Back: the next sending (the daily run, a step) delivers what waited, once its delay has come.
    await OutboxSender(stack.engine, smtp_target()).send_pending(now=utcnow() + timedelta(hours=2))
    await OutboxSender(stack.engine, smtp_target()).send_pending(now=utcnow() + timedelta(hours=3))
    with Session(stack.engine) as s:
        rows = s.exec(
            select(OutboxMessage).where(OutboxMessage.idempotency_key.like(f"ctai:{chain.entity_id}:%"))
        ).all()
    received = stack.sink.message_ids()
    ids = {f"<outbox-{r.id}." for r in rows}
    delivered = {mid for mid in received if mid not in before}
    lost = sum(1 for r in rows if not any(mid.startswith(f"<outbox-{r.id}.") for mid in received))
    duplicated = sum(n - 1 for mid, n in received.items() if any(mid.startswith(p) for p in ids) and n > 1)
    report("serveur SMTP arrêté puis revenu", lost, duplicated, database=stack.engine.dialect.name)
    assert delivered and all(r.status == "sent" for r in rows)
    assert (lost, duplicated) == (0, 0)


FAILURE = {
    "sqlite": ["CREATE TRIGGER chaos_panne BEFORE INSERT ON decision BEGIN SELECT RAISE(ABORT, 'panne simulée'); END"],
    "postgresql": [
        "CREATE FUNCTION chaos_panne() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'panne simulée'; END $$ "
        "LANGUAGE plpgsql",
        "CREATE TRIGGER chaos_panne BEFORE INSERT ON decision FOR EACH ROW EXECUTE FUNCTION chaos_panne()",
    ],
}
REPAIRED = {
    "sqlite": ["DROP TRIGGER chaos_panne"],
    "postgresql": ["DROP TRIGGER chaos_panne ON decision", "DROP FUNCTION chaos_panne()"],
}


def _execute(stack, statements: list[str]) -> None:
    with stack.engine.begin() as conn:
        for statement in statements:
            conn.exec_driver_sql(statement)


async def test_a_step_that_fails_on_a_database_error_is_restarted_by_the_sweep_and_completes(stack):
    agents(stack)
    chain = await ctai_chain(stack, 36)
    run_id = await waiting_run(stack.platform, "engagement", chain.entity_id)
    dialect = stack.engine.dialect.name
    _execute(stack, FAILURE[dialect])
    try:
        step = chain.steps[0]
        code = code_for(stack.platform, step.email, chain.reference, run_id)
        await aresume_flow_run(
            UUID(run_id),
            run_input={
                "agent_email": step.email,
                "approval_code": code,
                "decision": ctai_steps.ENGAGEMENT.wording(EngagementDecision.RECEIVED),
                **step.fields,
            },
        )
        await _until_failed(run_id)
    finally:
        _execute(stack, REPAIRED[dialect])
    row = await _incident_written(stack, run_id)  # the failure hook writes it once the run is FAILED
    assert row.state == StepRunState.LIVE and "en échec" in row.incident and "panne simulée" in row.incident
    listed = await cli("approvals", "list", "--json")
    assert any(r["run_id"] == run_id and r["etat"] == "interrompue" for r in listed)

    operators = len(mails_to(stack.platform, ADMIN, "REPRISE-"))  # earlier cases' sweeps may have told them
    simulated = await cli("steps", "repair", "--dry-run", "--json")
    assert simulated["simulation"] and [r["action"] for r in simulated["reprises"]] == ["relancer"]
    with Session(stack.engine) as s:
        assert s.get(StepRun, row.id).restarts == 0  # a simulation changes nothing and tells nobody

    repaired = await cli("steps", "repair", "--json")
    assert [(r["reference"], r["action"]) for r in repaired["reprises"]] == [(chain.reference, "relancer")]
    told = await wait_for_mail(stack.platform, ADMIN, "REPRISE-", operators + 1)
    assert len(told) == operators + 1 and chain.reference in told[-1].text()
    # The answer was lost with the failure: the awaited agents get a new code, with the reason.
    renewed = await wait_for_mail(stack.platform, I86, chain.reference, 2)
    assert "n'a pas pu être enregistrée" in renewed[-1].text()
    chain.submitted.append(("ctai", chain.entity_id, "engagement"))
    result = await decide(
        stack.platform,
        "engagement",
        chain.entity_id,
        chain.reference,
        I86,
        "received",
        generation=1,
        code=code_for(stack.platform, I86, chain.reference, run_id),
        **step.fields,
    )
    assert result.outcome == "accepted", result.violations
    chain.steps.pop(0)
    await waiting_run(stack.platform, "echange", chain.entity_id)
    await _settled(stack, "ctai", chain.entity_id)
    lost, duplicated = lost_and_duplicated(stack, chain.submitted)
    report(
        "étape en échec sur une erreur de base, relancée par le contrôle",
        lost,
        duplicated,
        database=stack.engine.dialect.name,
    )
    assert (lost, duplicated) == (0, 0)


async def _until_failed(run_id: str, timeout: float = 90) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    async with get_client() as client:
        while asyncio.get_running_loop().time() < deadline:
            run = await client.read_flow_run(UUID(run_id))
            if run.state.is_failed():
                return
            await asyncio.sleep(0.3)
    raise AssertionError(f"run {run_id} did not fail")


async def _incident_written(stack, run_id: str, timeout: float = 30) -> StepRun:
    """The step's row once its run's failure hook has run (it runs after the FAILED state is set)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        with Session(stack.engine) as s:
            row = s.exec(select(StepRun).where(StepRun.flow_run_id == run_id)).one()
        if row.incident is not None or asyncio.get_running_loop().time() > deadline:
            return row
        await asyncio.sleep(0.3)


SUSPENDED = 8  # runs waiting across the restart: enough to overlap the server's start, within the suite's time


async def test_a_dozen_runs_suspended_across_a_prefect_server_restart_all_resume_when_answered(stack):
    requests = [await ptai_request(stack, 40 + n % 4, f"Projet d'accueil n° {n}") for n in range(SUSPENDED)]
    runs = await asyncio.gather(
        *(waiting_run(stack.platform, "instruction", rid, entity="ptai", timeout=240) for rid, _ in requests)
    )
    assert len(set(runs)) == SUSPENDED
    stack.stop_prefect()
    stack.start_prefect()  # the serving process stays up and finds it again
    deadline = (date.today() + timedelta(days=60)).isoformat()
    verdicts = await asyncio.gather(
        *(
            decide(
                stack.platform,
                "instruction",
                rid,
                ref,
                I86,
                "rework",
                entity="ptai",
                comment="Budget détaillé manquant",
                rework_deadline=deadline,
            )
            for rid, ref in requests
        )
    )
    answered = [("ptai", rid, "instruction") for rid, _ in requests]
    accepted = sum(v.outcome == "accepted" for v in verdicts)
    await quiescent(stack)  # the decisions' emails are out before they are counted
    lost, duplicated = lost_and_duplicated(stack, answered)
    report(
        f"serveur Prefect redémarré avec {SUSPENDED} exécutions suspendues",
        lost + SUSPENDED - accepted,
        duplicated,
        database=stack.engine.dialect.name,
    )
    assert (accepted, lost, duplicated) == (SUSPENDED, 0, 0)


async def test_resume_restarts_a_cancelled_run_and_replaces_a_run_prefect_lost(stack):
    """The other ways a run dies, repaired by ``ptai resume`` / ``ctai resume``: cancelled by
    mistake (the same run again, same codes), deleted from Prefect (a new run, new codes mailed
    with the reason, the old ones refused)."""
    agents(stack)
    request_id, request_ref = await ptai_request(stack, 45, "Cours de français pour parents d'élèves")
    chain = await ctai_chain(stack, 38)
    cancelled = await waiting_run(stack.platform, "instruction", request_id, entity="ptai")
    lost = await waiting_run(stack.platform, "engagement", chain.entity_id)
    await wait_for_mail(stack.platform, I86, chain.reference, 1)
    old_code = code_for(stack.platform, I86, chain.reference, lost)
    async with get_client() as client:
        await client.set_flow_run_state(UUID(cancelled), Cancelled(message="annulée par erreur"), force=True)
        await client.delete_flow_run(UUID(lost))

    again = await cli("ptai", "resume", str(request_id))
    assert (again["flow_run_id"], again["reprise"]) == (cancelled, "exécution relancée")
    replaced = await cli("ctai", "resume", str(chain.entity_id))
    assert replaced["flow_run_id"] != lost and replaced["reprise"] == "nouvelle exécution"
    await waiting_run(stack.platform, "engagement", chain.entity_id, generation=1)
    assert (await cli("ctai", "resume", str(chain.entity_id)))["reprise"] is None  # repaired once

    renewed = await wait_for_mail(stack.platform, I86, chain.reference, 2)
    assert replaced["flow_run_id"] in renewed[-1].text() and "remplacée par celle-ci" in renewed[-1].text()
    stale = await decide(
        stack.platform,
        "engagement",
        chain.entity_id,
        chain.reference,
        I86,
        "received",
        generation=1,
        code=old_code,
        **chain.steps[0].fields,
    )
    assert stale.outcome != "accepted"
    fresh = await decide(
        stack.platform,
        "engagement",
        chain.entity_id,
        chain.reference,
        I86,
        "received",
        attempt=2,
        generation=1,
        **chain.steps[0].fields,
    )
    assert fresh.outcome == "accepted", fresh.violations
    done = [("ctai", chain.entity_id, "engagement"), ("ptai", request_id, "instruction")]
    verdict = await decide(
        stack.platform,
        "instruction",
        request_id,
        request_ref,
        I86,
        "favourable",
        entity="ptai",
        generation=1,
        amount_eur=16000,
    )
    assert verdict.outcome == "accepted", verdict.violations
    await waiting_run(stack.platform, "echange", chain.entity_id)
    await _settled(stack, "ctai", chain.entity_id)
    lost_answers, duplicated = lost_and_duplicated(stack, done)
    report(
        "exécutions annulée et supprimée, reprises par resume",
        lost_answers,
        duplicated,
        database=stack.engine.dialect.name,
    )
    assert (lost_answers, duplicated) == (0, 0)


def _postgresql(action: str) -> None:
    version = sorted(p.name for p in Path("/etc/postgresql").iterdir())[-1]
    command = ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action]
    result = subprocess.run(
        command + (["--", "-m", "fast"] if action == "stop" else []), capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, f"{' '.join(command)}: {result.stdout}{result.stderr}"


@pytest.mark.parametrize("stack", ["postgresql"], indirect=True)
@pytest.mark.exclusive  # it stops PostgreSQL: no other test may run meanwhile (see the Makefile)
async def test_postgresql_restarted_while_a_decision_is_mailed_the_step_completes_once_it_is_back(stack):
    chain = await ctai_chain(stack, 37)
    await waiting_run(stack.platform, "engagement", chain.entity_id)
    await wait_for_mail(stack.platform, I86, chain.reference, 1)
    stack.sink.hold, stack.sink.accept_held = (lambda envelope: True), True
    stack.sink.holding.clear()
    stack.sink.release.clear()
    answer = asyncio.create_task(chain.answer(stack))
    assert await asyncio.to_thread(stack.sink.holding.wait, 90), "the decision's email never left"
    await answer  # the decision is recorded, its email is on the wire
    # The database goes away under the flow, which must mark the email sent and start the next
    # step once it is back.
    _postgresql("stop")
    try:
        stack.sink.release.set()
        await await_until(  # the sender met the outage when it came to mark the email sent
            lambda: any("base de données indisponible" in p.read_text() for p in stack.workdir.glob("serve-*.log")),
            60,
            "the flow never met the database's outage",
        )
    finally:
        _postgresql("start")
    await waiting_run(stack.platform, "echange", chain.entity_id, timeout=180)
    await chain.answer(stack)
    await waiting_run(stack.platform, "diagnostic", chain.entity_id)
    await _settled(stack, "ctai", chain.entity_id)
    with Session(stack.engine) as s:
        rows = s.exec(
            select(StepRun)
            .where(StepRun.entity_type == "ctai", StepRun.entity_id == chain.entity_id)
            .order_by(StepRun.id)
        ).all()
    assert [r.step for r in rows] == ["engagement", "echange", "diagnostic"]
    lost, duplicated = lost_and_duplicated(stack, chain.submitted)
    report(
        "PostgreSQL de l'application redémarré pendant l'envoi d'une décision",
        lost,
        duplicated,
        database=stack.engine.dialect.name,
    )
    assert (lost, duplicated) == (0, 0)
