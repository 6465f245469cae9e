"""The PTAI chain on a real Prefect server: submission, instruction with a rework round trip,
validation by the préfet, a ministry batch, its approval and the credits delegated."""

import asyncio
import json
from collections import Counter
from datetime import date, timedelta

from sqlmodel import Session, select

from demo.data import fictitious_siren
from models.actors import AgentCreate
from models.decision import Decision
from models.delegation import DelegationBatch
from models.french import typographie
from models.ptai import PtaiRequest, PtaiStatus
from services import registry
from services.db import unit_of_work
from tests.cli import run
from tests.factories import valid_request
from tests.flows.helpers import CODE, decide, finished, mails_to, wait_for_mail
from tests.workflow import poitiers

I86, I86B, P86, MIN = (
    "instructeur.86@prefecture-86.example",
    "instructeur2.86@prefecture-86.example",
    "prefet.86@prefecture-86.example",
    "ministere@interieur.example",
)


async def cli(*args):
    result = await asyncio.to_thread(run, *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout) if result.stdout.strip().startswith("{") else result.stdout


async def test_a_request_goes_from_submission_to_delegated_credits(platform, tmp_path):
    poitiers(platform.engine, "Ville de Montmorillon", "commune", 5, "integration@montmorillon.example")
    with unit_of_work(platform.engine) as s:
        known = {a.email for a in registry.list_agents(s)}
        for email, role, dep in [(I86B, "instructeur", "86"), (MIN, "ministere", None)]:
            if email not in known:
                registry.add_agent(
                    s, AgentCreate(email=email, name=email.split("@")[0], role=role, departement_code=dep)
                )
    data = valid_request(
        **{
            "demandeur.siren": fictitious_siren(5),
            "campagne": 2026,
            "projet.domaines": ["logement", "emploi"],
            "projet.date_debut": "2026-09-01",
            "projet.date_fin": "2027-08-31",
        }
    )
    data["porteur"]["email"] = "asso@montmorillon.example"
    path = tmp_path / "demande.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    submitted = await cli("ptai", "submit", str(path), "--json")
    rid, ref = submitted["request_id"], submitted["reference"]
    assert submitted["flow_run_id"]

    verdict = await decide(
        platform,
        "instruction",
        rid,
        ref,
        I86,
        "rework",
        entity="ptai",
        comment="Budget détaillé manquant",
        rework_deadline=(date.today() + timedelta(days=60)).isoformat(),
    )
    assert verdict.outcome == "accepted", verdict.violations
    await finished(platform, verdict.flow_run_id)
    data["budget"]["cofinancements"].append({"financeur": "Département de la Vienne", "montant_eur": "2000.00"})
    path.write_text(json.dumps(data), encoding="utf-8")
    completed = await cli("ptai", "complete", str(rid), str(path))
    assert completed["statut"] == "submitted" and completed["flow_run_id"]

    verdict = await decide(platform, "instruction", rid, ref, I86, "favourable", entity="ptai", amount_eur=16000)
    assert verdict.outcome == "accepted", verdict.violations
    # A validated amount above the instructeur's proposal (though within the request), then the
    # instructor acting as préfet, are refused; the préfet's code is spent on the first answer.
    verdict = await decide(platform, "validation", rid, ref, P86, "validate", entity="ptai", amount_eur=17000)
    assert verdict.outcome == "refused" and verdict.violations[0]["code"] == "MONTANT_SUPERIEUR_A_LA_PROPOSITION"
    verdict = await decide(
        platform, "validation", rid, ref, I86, "validate", entity="ptai", attempt=2, code="ZZZZ-ZZZZ"
    )
    assert verdict.outcome == "refused" and verdict.violations[0]["code"] == "IDENTIFICATION_REFUSEE"
    codes = [
        CODE.search(m.text()).group(1)
        for m in await wait_for_mail(platform, P86, ref, 2)
        if "Décision attendue" in m.subject
    ]
    assert len(codes) == 2 and codes[0] != codes[1]  # a new code, after the refusal that spent the first
    verdict = await decide(
        platform, "validation", rid, ref, P86, "validate", entity="ptai", attempt=3, amount_eur=15000
    )
    assert verdict.outcome == "accepted", verdict.violations
    await finished(platform, verdict.flow_run_id)
    with Session(platform.engine) as s:
        assert s.get(PtaiRequest, rid).status == PtaiStatus.TRANSMITTED

    await cli("envelope", "set", "--year", "2026", "--amount", "11000000", "--agent", MIN)
    started = await cli("delegation", "run", "--year", "2026")
    batch_id = await _batch_of(platform, rid)
    with Session(platform.engine) as s:
        batch_ref = s.get(DelegationBatch, batch_id).reference
    verdict = await decide(platform, "arbitrage", batch_id, batch_ref, MIN, "approve", entity="lot")
    assert verdict.outcome == "accepted", verdict.violations
    await finished(platform, started["flow_run_id"])

    with Session(platform.engine) as s:
        request = s.get(PtaiRequest, rid)
        trail = s.exec(
            select(Decision.decision)
            .where(Decision.entity_type == "ptai", Decision.entity_id == rid)
            .order_by(Decision.id)
        ).all()
    assert request.status == PtaiStatus.DELEGATED and request.granted_cents == 1_500_000
    assert [d for d in trail if d != "refus"] == [
        "submitted",
        "rework",
        "completed",
        "favourable",
        "validate",
        "batched",
        "delegated",
    ]
    # No letter from the ministry at delegation: the applicants' letter comes with their signed act.
    expected = Counter(
        {
            typographie(f"[{ref}] Étape ouverte : instruction locale"): 2,  # submitted, then completed
            typographie(f"[{ref}] À compléter : instruction locale"): 1,
            typographie(f"[{ref}] Instruction locale : avis favorable"): 1,
            typographie(f"[{ref}] Étape ouverte : validation par le préfet"): 1,
            typographie(f"[{ref}] Validation par le préfet : validée et transmise au ministère"): 1,
        }
    )
    for address in ("integration@montmorillon.example", "asso@montmorillon.example"):
        assert Counter(m.subject for m in mails_to(platform, address, ref)) == expected
    await wait_for_mail(platform, P86, batch_ref, 1)
    assert len([m for m in mails_to(platform, P86, batch_ref) if "Délégation de crédits" in m.subject]) == 1
    about = [(m.to, m.subject, m.text()) for m in platform.sink.received if ref in m.subject or batch_ref in m.subject]
    assert [k for k, n in Counter(about).items() if n > 1] == []


async def _batch_of(platform, request_id: int, timeout: float = 60) -> int:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        with Session(platform.engine) as s:
            batch_id = s.get(PtaiRequest, request_id).batch_id
        if batch_id:
            return batch_id
        await asyncio.sleep(0.3)
    raise AssertionError(f"request {request_id} never entered a batch\n{platform.logs()}")
