"""CTAI contracting on a real Prefect server, with served deployments, approvals through the
resume API and codes read from the emails received by a real SMTP sink."""

import asyncio
import json
from collections import Counter
from datetime import date
from uuid import UUID

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
from prefect.exceptions import PrefectHTTPStatusError
from sqlmodel import Session, func, select

from models.ctai import Ctai, CtaiFunding, CtaiStatus
from models.decision import Decision
from models.french import typographie
from models.outbox import OutboxMessage, OutboxStatus
from tests.cli import run
from tests.cli import run as run_cli  # the tests below also name a run "run"
from tests.flows.helpers import code_for, decide, finished, mails_to, wait_for_mail, waiting_run
from tests.workflow import PROPOSAL, bilan_lines, poitiers

I86, P86, I37, P37 = (
    "instructeur.86@prefecture-86.example",
    "prefet.86@prefecture-86.example",
    "instructeur.37@prefecture-37.example",
    "prefet.37@prefecture-37.example",
)
DIAIR, POITIERS = "diair@interieur.example", "integration@poitiers.example"


async def cli(*args):
    result = await asyncio.to_thread(run, *args)
    assert result.exit_code == 0, result.output
    return result


async def start(platform, collectivite_id: int, *extra) -> dict:
    out = await cli("ctai", "start", "--collectivite", str(collectivite_id), "--first-year", "2021", *extra, "--json")
    return json.loads(out.stdout)


def decisions(platform, ctai_id):
    with Session(platform.engine) as s:
        return list(
            s.exec(
                select(Decision)
                .where(Decision.entity_type == "ctai", Decision.entity_id == ctai_id)
                .order_by(Decision.id)
            )
        )


async def test_poitiers_goes_from_the_letter_to_signature_and_a_yearly_avenant(platform):
    ids = poitiers(platform.engine)
    started = await start(platform, ids["poitiers"])
    cid, ref = started["ctai_id"], started["reference"]

    async def ok(step, email, decision, **fields):
        verdict = await decide(platform, step, cid, ref, email, decision, **fields)
        assert verdict.outcome == "accepted", verdict.violations
        return verdict

    await ok("engagement", I86, "received", letter_date="2020-12-15", signatory="Maire de Poitiers")
    # The scriptable twin: list the waiting run with its form, and decide through the CLI.
    run_id = await waiting_run(platform, "echange", cid)
    listed = json.loads(
        (await cli("approvals", "list", "--departement", "86", "--role", "instructeur", "--json")).stdout
    )
    mine = next(r for r in listed if r["run_id"] == run_id)
    assert mine["name"] == "CTAI Poitiers (86) — temps d'échange" and mine["step"] == "echange"
    assert {f["nom"] for f in mine["fields"]} >= {"agent_email", "approval_code", "decision", "comment", "meeting_date"}
    assert next(f for f in mine["fields"] if f["nom"] == "decision")["choix"] == ["temps d'échange tenu"]
    await wait_for_mail(platform, I86, ref, 2)
    wrong = await asyncio.to_thread(
        run_cli, "approvals", "decide", run_id, "--agent", I86, "--code", "AAAA-BBBB", "--decision", "signer", "--json"
    )
    assert wrong.exit_code == 2 and "DECISION_INCONNUE" in wrong.stdout  # refused before anything is sent
    out = await cli(
        "approvals",
        "decide",
        run_id,
        "--agent",
        I86,
        "--code",
        code_for(platform, I86, ref),
        "--decision",
        "held",
        "--field",
        "meeting_date=2021-01-20",
        "--json",
    )  # the code works too
    sent = json.loads(out.stdout)
    assert sent["verdict"]["resultat"] == "accepted" and sent["envoye"]["decision"] == "temps d'échange tenu"

    await ok("diagnostic", I86, "approve", bpi_count=229, needs_summary="logement, emploi, français")
    await ok("coordinateur", I86, "record", coordinator_name="Coordinatrice CTAI")
    await cli("ctai", "propose", str(cid), str(PROPOSAL))
    await ok("proposition", I86, "approve")

    # Signature: the wrong people and the wrong code are refused, and each attempt is audited.
    refusals = [
        (I86, None, "IDENTIFICATION_REFUSEE"),
        (P37, None, "IDENTIFICATION_REFUSEE"),
        (DIAIR, None, "IDENTIFICATION_REFUSEE"),
        (P86, "AAAA-BBBB", "IDENTIFICATION_REFUSEE"),
    ]
    for attempt, (email, code, expected) in enumerate(refusals, start=1):
        verdict = await decide(
            platform,
            "signature",
            cid,
            ref,
            email,
            "sign",
            attempt=attempt,
            code=code or "ZZZZ-ZZZZ",
            signature_date="2021-10-21",
            elu_signature_date="2021-10-21",
        )
        assert verdict.outcome == "refused" and verdict.violations[0]["code"] == expected
    async with get_client() as client:
        run = await client.read_flow_run(UUID(await waiting_run(platform, "signature", cid, attempt=5)))
        description = await client.read_flow_run_input(run.id, run.state.state_details.run_input_keyset["description"])
    assert "IDENTIFICATION_REFUSEE" in description.split("###")[0]  # the form says why, at the top
    assert set(run.tags) >= {"ctai", "dept:86", "step:signature", "awaiting:prefet"}
    assert run.name == "CTAI Poitiers (86) — validation et signature"
    verdict = await decide(
        platform,
        "signature",
        cid,
        ref,
        P86,
        "sign",
        attempt=5,
        signature_date="2021-10-21",
        elu_signature_date="2021-10-21",
    )
    assert verdict.outcome == "accepted", verdict.violations
    await finished(platform, verdict.flow_run_id)
    async with get_client() as client:  # every answer, with the code typed in it, is gone from Prefect
        for attempt in range(1, 6):
            with pytest.raises(PrefectHTTPStatusError, match="404"):
                await client.read_flow_run_input(UUID(verdict.flow_run_id), f"suspended-signature-{attempt}-response")

    await ok("revue_diair", DIAIR, "approve")
    with Session(platform.engine) as s:
        assert s.get(Ctai, cid).status == CtaiStatus.ACTIVE
    await cli("ctai", "review", str(cid))
    last = await ok(
        "bilan",
        I86,
        "prolong",
        bilan_actions=bilan_lines(platform.engine, cid, 2021),
        comment="Actions reconduites en 2022",
    )  # the instructeur decides alone; an avenant: test_ctai_procedure
    await finished(platform, last.flow_run_id)
    # The prolongation started the 2022 acts' signature runs: they wait on their forms, their
    # emails sent, before the outbox is counted.
    await asyncio.to_thread(platform.runner.settle)

    trail = decisions(platform, cid)
    accepted = [d.step for d in trail if d.decision not in {"refus"}]
    assert accepted == [
        "creation",
        "engagement",
        "echange",
        "diagnostic",
        "coordinateur",
        "proposition",
        "signature",
        "revue_diair",
        "bilan",
        "bilan",
    ]
    refused = [d for d in trail if d.decision == "refus"]
    assert len(refused) == 4
    for row, (_email, _, expected) in zip(refused, refusals, strict=True):
        assert expected in row.comment and row.actor_label == "(réponse non identifiée)"
        assert row.from_status == row.to_status == "signature"
    with Session(platform.engine) as s:
        ctai = s.get(Ctai, cid)
        funding = {f.year: f for f in s.exec(select(CtaiFunding).where(CtaiFunding.ctai_id == cid))}
        pending = s.exec(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status != OutboxStatus.SENT)
        ).one()
    assert ctai.status == CtaiStatus.ACTIVE and ctai.prefet_signed_on == date(2021, 10, 21)
    assert funding[2022].socle_cents == 15_000_000 and funding[2022].complementary_cents == 5_000_000
    assert pending == 0

    # Every expected email arrived, exactly once.
    about = [m for m in platform.sink.received if ref in m.subject]
    duplicates = [k for k, n in Counter((m.to, m.subject, m.text()) for m in about).items() if n > 1]
    assert duplicates == []
    to_collectivite = [m.subject for m in mails_to(platform, POITIERS, ref)]
    for step_label in (
        "lettre d'engagement",
        "temps d'échange",
        "diagnostic partagé",
        "validation et signature",
        "revue des actions par la Diair",
        "bilan annuel et avenant",
    ):
        assert any(step_label in s for s in to_collectivite), step_label
    assert sum(typographie("Validation et signature : contrat signé") in s for s in to_collectivite) == 1
    approvals_to_prefet = [m for m in mails_to(platform, P86, ref) if "Décision attendue" in m.subject]
    assert len(approvals_to_prefet) == 1
    assert mails_to(platform, P37, ref) == []

    shown = json.loads((await cli("ctai", "show", str(cid), "--json")).stdout)
    assert shown["statut"] == "active" and len(shown["decisions"]) == len(trail)
    async with get_client() as client:
        arts = await client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[f"ctai-{cid}"])))
    latest = max(arts, key=lambda a: a.created)
    assert "Actions reconduites en 2022" in latest.data and "en cours d'exécution" in latest.data


async def test_the_daily_reminders_run_opens_the_yearly_review_starts_its_bilan_step_and_publishes_the_audit_head(
    platform,
):
    from prefect.deployments.flow_runs import arun_deployment

    from services.ctai import workflow as ctai_workflow
    from services.db import unit_of_work

    ids = poitiers(platform.engine, "Ville de Châtellerault", "commune", 7, "integration@chatellerault.example")
    with unit_of_work(platform.engine) as s:
        ctai, _ = ctai_workflow.create(s, collectivite_id=ids["poitiers"], first_year=2025)
        ctai.status, ctai.last_year = CtaiStatus.ACTIVE, 2027  # signed and running since 2025
        s.add(ctai)
        cid, ref = ctai.id, ctai.reference

    ahead = await arun_deployment(
        "relances/territoires", parameters={"day": "2027-01-15"}, timeout=120, as_subflow=False
    )
    assert (
        ahead.state.is_completed() and decisions(platform, cid)[-1].decision == "created"
    )  # a day to come: nothing done
    daily = await arun_deployment(
        "relances/territoires", parameters={"day": "2026-01-15"}, timeout=120, as_subflow=False
    )
    assert daily.state.is_completed(), daily.state.message
    assert daily.name == "Relances du 15/01/2026"
    await waiting_run(platform, "bilan", cid)
    assert [m.subject for m in await wait_for_mail(platform, I86, ref, 1) if "Décision attendue" in m.subject] == [
        typographie(f"[{ref}] Décision attendue : bilan annuel et avenant")
    ]
    trail = decisions(platform, cid)
    assert (trail[-1].step, trail[-1].decision, trail[-1].comment) == ("bilan", "open_review", "bilan 2025")
    verified = json.loads((await cli("audit", "verify", "--json")).stdout)  # the head the run published is found
    assert verified["ok"] and verified["tetes_publiees_verifiees"] >= 1 and "avertissement" not in verified
