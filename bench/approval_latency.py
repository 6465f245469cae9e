"""Approval latency of a served deployment, against the cost of starting a flow process.

    python bench/approval_latency.py [--approvals 20] [--prefect-db postgresql|sqlite] [--poll 1]

For each of N contracts waiting at their first step, it resumes the run through the API the UI
uses, then times:
- ``committed``: until the decision is committed and the next step's run is created (scheduled);
- ``waiting``: until that next run is suspended on its own form, ready for the next agent.

The floor, measured in the same run, is what a served run cannot avoid: a process forked from one
that has the flow module imported (as ``territoires serve`` starts each run:
deployments/forked_runs.py) making one API call. The runner finds a resumed run when it polls
(``PREFECT_RUNNER_POLL_FREQUENCY``, ``--poll`` seconds, printed as set for ``territoires serve``),
so the ratio is also printed against the floor plus one poll interval.
Last line: ``approval_latency: ratio <p95 committed / floor>``.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import re
import statistics
import sys
import time
from pathlib import Path
from uuid import UUID

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _harness import Harness  # noqa: E402 - imported once the repository root is on sys.path

import cli  # noqa: E402,F401 - turns Prefect's usage analytics off before Prefect is imported
from models.ctai import EngagementDecision  # noqa: E402 - after the repository root is on sys.path
from services.ctai.steps import ENGAGEMENT  # noqa: E402 - after the repository root is on sys.path

TARGET = 1.5
CODE = re.compile(r"^Code d'approbation\s:\s([A-Z0-9-]+)\r?$", re.MULTILINE)  # French spacing: U+202F before « : »


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def one_api_call() -> None:
    from prefect.client.orchestration import get_client

    async def call() -> None:
        async with get_client() as client:
            await client.read_flow_runs(limit=1)

    asyncio.run(call())


def floor_seconds(harness: Harness, sink_port: int, runs: int = 5) -> float:
    os.environ.update(harness.env(sink_port))  # the fork server starts with the served runs' settings
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["__main__", "flows.ctai", "prefect.client.orchestration"])
    times = []
    for n in range(runs + 1):
        start = time.perf_counter()
        process = context.Process(target=one_api_call)
        process.start()
        process.join()
        if process.exitcode != 0:
            raise SystemExit("the floor's process failed")
        if n:  # the first one starts the fork server, which imports once (as ``territoires serve`` does)
            times.append(time.perf_counter() - start)
    return statistics.median(times)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--approvals", type=int, default=20)
    parser.add_argument("--prefect-db", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--poll", type=int, default=1, help="PREFECT_RUNNER_POLL_FREQUENCY of the runner, seconds")
    args = parser.parse_args()

    harness = Harness(args.prefect_db, poll_seconds=args.poll)
    harness.start_prefect()
    os.environ["TERRITOIRES_DATABASE_URL"] = harness.db_url
    os.environ["TERRITOIRES_DATA_DIR"] = str(harness.tmp)  # the audit key of the served flows, which seal the head
    from prefect.client.orchestration import get_client
    from prefect.flow_runs import aresume_flow_run
    from sqlmodel import Session, select

    from demo.data import fictitious_siren
    from models.actors import AgentCreate, CollectiviteCreate
    from models.approval import ApprovalAttempt, StepRun
    from notifications.sink import MailSink, SinkServer
    from services import registry
    from services.cases import kind
    from services.ctai import workflow as ctai_workflow
    from services.db import get_engine, unit_of_work
    from services.engine.launch import start_case_step
    from services.migrate import upgrade

    sink = MailSink()
    sink_server = SinkServer(sink).start()
    try:
        upgrade(harness.db_url)
        engine = get_engine(harness.db_url)
        harness.serve(sink_server.port)
        agent = "instructeur.86@prefecture-86.example"
        with unit_of_work(engine) as s:
            registry.seed_reference(s)
            registry.add_agent(
                s, AgentCreate(email=agent, name="Instructeur", role="instructeur", departement_code="86")
            )
            ids = [
                registry.add_collectivite(
                    s,
                    CollectiviteCreate(
                        name=f"Commune n° {n}",
                        type="commune",
                        siren=fictitious_siren(200 + n),
                        departement_code="86",
                        email=f"commune{n}@collectivite.example",
                    ),
                ).id
                for n in range(args.approvals)
            ]
        contracts = []
        for collectivite_id in ids:
            with unit_of_work(engine) as s:
                ctai, _ = ctai_workflow.create(s, collectivite_id=collectivite_id, first_year=2027)
            contracts.append((ctai.id, ctai.reference, await start_case_step(kind("ctai"), ctai.id, "bench")))

        async with get_client() as client:

            async def paused(run_id: str, key: str) -> bool:
                run = await client.read_flow_run(UUID(run_id))
                return run.state.is_paused() and run.state.state_details.pause_key == key

            async def wait(predicate, timeout=120):
                deadline = time.monotonic() + timeout
                while time.monotonic() < deadline:
                    value = await predicate()
                    if value:
                        return value
                    await asyncio.sleep(0.05)
                raise SystemExit("timed out: see " + str(harness.tmp / "serve.log"))

            for _, _, run_id in contracts:
                await wait(lambda run_id=run_id: paused(run_id, "engagement-1"))
            committed, waiting = [], []
            for ctai_id, reference, run_id in contracts:
                mails = [m for m in sink.received if reference in m.subject and "Décision attendue" in m.subject]
                code = CODE.search(mails[-1].text()).group(1)
                start = time.perf_counter()
                await aresume_flow_run(
                    UUID(run_id),
                    run_input={
                        "agent_email": agent,
                        "approval_code": code,
                        "decision": ENGAGEMENT.wording(EngagementDecision.RECEIVED),
                        "letter_date": "2026-12-01",
                        "signatory": "Maire",
                    },
                )

                async def next_run(ctai_id=ctai_id, run_id=run_id):
                    with Session(engine) as s:
                        judged = s.exec(select(ApprovalAttempt).where(ApprovalAttempt.flow_run_id == run_id)).first()
                        row = s.exec(
                            select(StepRun).where(StepRun.entity_id == ctai_id, StepRun.step == "echange")
                        ).first()
                    return row.flow_run_id if judged and row and row.flow_run_id else None

                next_id = await wait(next_run)
                committed.append(time.perf_counter() - start)
                await wait(lambda next_id=next_id: paused(next_id, "echange-1"))
                waiting.append(time.perf_counter() - start)
        floor = floor_seconds(harness, sink_server.port)
    finally:
        sink_server.stop()
        harness.stop()

    poll = float(harness.env(sink_server.port)["PREFECT_RUNNER_POLL_FREQUENCY"])  # as territoires serve got it
    print(f"approvals: {len(committed)}, Prefect server on {args.prefect_db}, runner poll {poll:g} s")
    print(
        f"committed (decision stored, next run created): p50 {statistics.median(committed):.2f} s, p95 "
        f"{percentile(committed, 0.95):.2f} s"
    )
    print(
        f"waiting (next run suspended on its form):      p50 {statistics.median(waiting):.2f} s, p95 "
        f"{percentile(waiting, 0.95):.2f} s"
    )
    print(
        f"floor (forked process, flows imported, one API call): {floor:.2f} s; with one poll interval "
        f"{floor + poll:.2f} s"
    )
    p95 = percentile(committed, 0.95)
    print(f"ratio against the floor plus one poll interval: {p95 / (floor + poll):.2f}")
    print(f"approval_latency: ratio {p95 / floor:.2f} (target {TARGET})")


if __name__ == "__main__":
    asyncio.run(main())
