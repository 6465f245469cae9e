"""A comité de pilotage on a real Prefect server: started by hand, its compte rendu recorded by
the préfet through the resume API, the minutes received by the collectivité, an action flagged
for the yearly review; and a comité to come, scheduled for its day, then opened early."""

import asyncio
import json
from datetime import datetime, timedelta
from uuid import UUID

from prefect.client.orchestration import get_client
from sqlmodel import Session

from models.french import typographie
from models.pilotage import Comite, ComiteStatus
from models.types import PARIS, paris_today
from services.pilotage import records
from tests.cli import run
from tests.flows.helpers import decide, finished, wait_for_mail, waiting_run
from tests.integration.test_comite_pilotage import P86, POITIERS, minutes, setting


async def cli(*args) -> dict:
    result = await asyncio.to_thread(run, *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


async def test_a_local_comite_started_by_hand_is_recorded_by_the_prefet_and_its_minutes_reach_the_collectivite(
    platform,
):
    ids = setting(platform.engine)
    started = await cli(
        "comite", "start", "--niveau", "local", "--departement", "86", "--date", paris_today().isoformat()
    )
    cid, ref = started["comite_id"], started["reference"]
    assert started["planifie_pour"] is None and started["nouveau"]

    verdict = await decide(
        platform, "compte_rendu", cid, ref, P86, "record", entity="comite", **minutes(ids["actions86"])
    )
    assert verdict.outcome == "accepted", verdict.violations
    await finished(platform, started["flow_run_id"])

    received = await wait_for_mail(platform, POITIERS, ref, 2)  # the comité's date, then its minutes
    text = received[-1].text()
    assert "Compte rendu du comité de pilotage local" in received[-1].subject
    assert typographie("À revoir au bilan annuel du contrat : action la plus importante du contrat") in text
    with Session(platform.engine) as s:
        assert s.get(Comite, cid).status == ComiteStatus.HELD
        assert [r.action_id for r in records.flagged_for_review(s, ids["ctai86"])] == [ids["actions86"][0]]
    async with get_client() as client:
        run_ = await client.read_flow_run(UUID(started["flow_run_id"]))
    assert run_.name == f"Comité de pilotage local — la Vienne (86) — {paris_today():%d/%m/%Y}"


async def test_a_comite_to_come_is_scheduled_for_its_day_and_started_once(platform):
    setting(platform.engine)
    day = paris_today() + timedelta(days=30)
    started = await cli("comite", "start", "--niveau", "national", "--date", day.isoformat())
    again = await cli("comite", "start", "--niveau", "national", "--date", day.isoformat())
    assert again["flow_run_id"] == started["flow_run_id"] and not again["nouveau"]
    async with get_client() as client:
        run_ = await client.read_flow_run(UUID(started["flow_run_id"]))
    assert run_.state.is_scheduled()
    assert run_.expected_start_time == datetime(day.year, day.month, day.day, 8, 0, tzinfo=PARIS)
    assert {"comite", "dept:national", "step:compte_rendu_national", "awaiting:diair"} <= set(run_.tags)
    assert run_.name == f"Comité de pilotage national — {day:%d/%m/%Y}"
    opened = await cli("comite", "open", str(started["comite_id"]))  # brought forward: the Diair may answer now
    assert opened["ouvert"] and opened["flow_run_id"] == started["flow_run_id"]
    assert (
        await waiting_run(platform, "compte_rendu_national", started["comite_id"], entity="comite")
        == started["flow_run_id"]
    )
