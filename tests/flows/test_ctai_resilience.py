"""Restarts and repeats: a waiting approval survives a SIGKILL of the serving process, and a
step started twice runs once."""

import asyncio
import json
from collections import Counter
from datetime import UTC, datetime
from uuid import UUID

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterTags
from prefect.exceptions import PrefectHTTPStatusError
from sqlmodel import Session, select

from models.decision import Decision
from models.french import typographie
from services.cases import kind
from services.engine.launch import start_step_run
from services.engine.runs import StepAlreadyLive
from tests.cli import run
from tests.flows.helpers import decide, finished, wait_for_mail, waiting_run
from tests.workflow import poitiers

I86 = "instructeur.86@prefecture-86.example"


async def start(collectivite_id: int) -> dict:
    result = await asyncio.to_thread(
        run, "ctai", "start", "--collectivite", str(collectivite_id), "--first-year", "2022", "--json"
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


async def test_a_waiting_approval_survives_a_sigkill_of_the_server_without_duplicates(served_platform):
    platform = served_platform  # served by ``territoires serve`` in a subprocess, which is killed
    ids = poitiers(platform.engine, "Ville de Châtellerault", "commune", 3, "integration@chatellerault.example")
    started = await start(ids["poitiers"])
    cid, ref = started["ctai_id"], started["reference"]
    await waiting_run(platform, "engagement", cid)
    await wait_for_mail(platform, I86, ref, 1)

    platform.kill()  # SIGKILL while the step waits: no process holds the wait
    platform.start()

    verdict = await decide(
        platform, "engagement", cid, ref, I86, "received", letter_date="2021-12-10", signatory="Maire"
    )
    assert verdict.outcome == "accepted", verdict.violations
    await finished(platform, verdict.flow_run_id)
    await waiting_run(platform, "echange", cid)
    await wait_for_mail(platform, I86, ref, 2)

    with Session(platform.engine) as s:
        rows = s.exec(select(Decision).where(Decision.entity_type == "ctai", Decision.entity_id == cid)).all()
    assert [r.step for r in rows] == ["creation", "engagement"]
    # Each run was a process of its own, forked from the serving process's preloaded fork server,
    # not a new interpreter importing Prefect and the platform again (``python -m prefect.engine``).
    assert platform.fork_server() is not None
    assert "Downloading flow code" not in platform.logs() and "Beginning flow run" in platform.logs()
    about = [(m.to, m.subject) for m in platform.sink.received if ref in m.subject]
    assert [k for k, n in Counter(about).items() if n > 1] == []
    assert sum(typographie("Décision attendue : lettre d'engagement") in s for _, s in about) == 1


async def test_starting_the_same_step_twice_gives_one_run(platform):
    ids = poitiers(platform.engine, "Ville de Loudun", "commune", 4, "integration@loudun.example")
    t0 = datetime.now(UTC)
    first = await start(ids["poitiers"])
    second = await start(ids["poitiers"])
    assert second["flow_run_id"] == first["flow_run_id"] and second["ctai_id"] == first["ctai_id"]
    assert (first["nouveau"], second["nouveau"]) == (True, False)
    with pytest.raises(StepAlreadyLive):
        await start_step_run(kind("ctai"), first["ctai_id"], "engagement", "autre")
    async with get_client() as client:
        runs = await client.read_flow_runs(
            flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=["ctai", "step:engagement"]))
        )
    mine = [r for r in runs if "Loudun" in r.name and r.created >= t0]
    assert [str(r.id) for r in mine] == [first["flow_run_id"]]


async def test_an_answer_the_server_accepts_but_the_form_refuses_is_judged_refused_and_asked_again(platform):
    """A zero-width character in a field passes Prefect's schema, not the form: the step does not
    crash; the answer is refused with its code, erased from Prefect, and the form asks again."""
    ids = poitiers(platform.engine, "Ville de Civray", "commune", 9, "integration@civray.example")
    started = await start(ids["poitiers"])
    cid, ref = started["ctai_id"], started["reference"]
    verdict = await decide(
        platform, "engagement", cid, ref, I86, "received", letter_date="2021-12-10", signatory="Maire\u200b"
    )
    assert verdict.outcome == "refused" and verdict.violations[0]["code"] == "TEXTE_CARACTERES_INTERDITS"
    async with get_client() as client:
        with pytest.raises(PrefectHTTPStatusError, match="404"):
            await client.read_flow_run_input(UUID(verdict.flow_run_id), "suspended-engagement-1-response")
    await wait_for_mail(platform, I86, ref, 2)  # the opening's code, then a new one after the spent one
    verdict = await decide(
        platform, "engagement", cid, ref, I86, "received", attempt=2, letter_date="2021-12-10", signatory="Maire"
    )
    assert verdict.outcome == "accepted", verdict.violations
