"""Driving served flows as agents do: find the waiting run, read the code in the email, resume."""

from __future__ import annotations

import asyncio
import re
from uuid import UUID

from prefect.client.orchestration import get_client
from prefect.flow_runs import aresume_flow_run
from sqlmodel import Session, select

from models.approval import ApprovalAttempt, StepRun, StepRunState
from services.cases import kind
from services.engine.runs import pause_key
from tests.waiting import await_until

CODE = re.compile(r"^Code d'approbation\s:\s([A-Z0-9-]+)\r?$", re.MULTILINE)


async def waiting_run(
    platform,
    step: str,
    entity_id: int,
    attempt: int = 1,
    entity: str = "ctai",
    timeout: float = 120,
    generation: int = 0,
) -> str:
    """The run id of ``step`` once Prefect shows it suspended on ``<step>-<attempt>`` (``-r<n>``
    after ``n`` restarts) with its form."""
    deadline = asyncio.get_running_loop().time() + timeout
    run_id = None
    async with get_client() as client:
        while asyncio.get_running_loop().time() < deadline:
            if run_id is None:
                with Session(platform.engine) as s:
                    row = s.exec(
                        select(StepRun).where(
                            StepRun.entity_type == entity,
                            StepRun.entity_id == entity_id,
                            StepRun.step == step,
                            StepRun.state == StepRunState.LIVE,
                        )
                    ).first()
                    run_id = row.flow_run_id if row else None
            if run_id is not None:
                run = await client.read_flow_run(UUID(run_id))
                details = run.state.state_details if run.state else None
                if (
                    run.state.is_paused()
                    and details.pause_key == pause_key(step, attempt, generation)
                    and details.run_input_keyset
                ):
                    try:
                        await client.read_flow_run_input(UUID(run_id), details.run_input_keyset["schema"])
                        return run_id
                    except Exception:
                        pass
                if run.state.is_final() and not run.state.is_completed():
                    raise AssertionError(f"run {run_id} ended {run.state.type}: {run.state.message}\n{platform.logs()}")
            await asyncio.sleep(0.3)
    raise AssertionError(f"no run waiting at {step}-{attempt} for {entity} {entity_id}\n{platform.logs()}")


def mails_to(platform, address: str, reference: str | None = None) -> list:
    return [m for m in platform.sink.received if address in m.to and (reference is None or reference in m.subject)]


def code_for(platform, address: str, reference: str, run_id: str | None = None) -> str:
    """The code of the latest approval email to ``address`` about ``reference`` (and ``run_id``)."""
    codes = [
        CODE.search(m.text())
        for m in mails_to(platform, address, reference)
        if "Décision attendue" in m.subject and (run_id is None or run_id in m.text())
    ]
    codes = [c.group(1) for c in codes if c]
    assert codes, f"no approval code mailed to {address} for {reference}"
    return codes[-1]


async def wait_for_mail(platform, address: str, reference: str, count: int, timeout: float = 60) -> list:
    return await await_until(
        lambda: (found := mails_to(platform, address, reference)) and len(found) >= count and found,
        timeout,
        lambda: f"{address} got {len(mails_to(platform, address, reference))} mails about {reference}, not {count}",
    )


async def verdict(platform, run_id: str, attempt: int, timeout: float = 120) -> ApprovalAttempt:
    def judged() -> ApprovalAttempt | None:
        with Session(platform.engine) as s:
            return s.exec(
                select(ApprovalAttempt).where(ApprovalAttempt.flow_run_id == run_id, ApprovalAttempt.attempt == attempt)
            ).first()

    try:
        return await await_until(judged, timeout, f"run {run_id} never judged attempt {attempt}")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{platform.logs()}") from None


async def decide(
    platform,
    step: str,
    entity_id: int,
    reference: str,
    email: str,
    decision: str,
    *,
    attempt: int = 1,
    code: str | None = None,
    entity: str = "ctai",
    generation: int = 0,
    **fields,
) -> ApprovalAttempt:
    """Resumes the waiting run through the API the UI uses, then returns the flow's verdict."""
    run_id = await waiting_run(platform, step, entity_id, attempt, entity, generation=generation)
    if code is None:  # the agent reads the email sent for this run
        deadline = asyncio.get_running_loop().time() + 60
        while not any(run_id in m.text() for m in mails_to(platform, email, reference)):
            assert asyncio.get_running_loop().time() < deadline, f"no approval email to {email} for run {run_id}"
            await asyncio.sleep(0.2)
    run_input = {
        "agent_email": email,
        "approval_code": code or code_for(platform, email, reference, run_id),
        "decision": kind(entity).steps[step].wording(decision),
        **fields,
    }  # the form offers French wordings
    await aresume_flow_run(UUID(run_id), run_input=run_input)
    return await verdict(platform, run_id, attempt)


async def finished(platform, run_id: str, timeout: float = 60):
    """Waits for a run to end; fails unless it completed."""
    deadline = asyncio.get_running_loop().time() + timeout
    async with get_client() as client:
        while asyncio.get_running_loop().time() < deadline:
            run = await client.read_flow_run(UUID(run_id))
            if run.state.is_final():
                assert run.state.is_completed(), f"{run.state.type}: {run.state.message}\n{platform.logs()}"
                return run
            await asyncio.sleep(0.3)
    raise AssertionError(f"run {run_id} still {run.state.type}\n{platform.logs()}")
