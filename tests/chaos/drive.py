"""Driving cases through their steps as agents do, and counting what was lost or repeated."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from uuid import UUID

from sqlmodel import Session, select

from demo.data import fictitious_siren
from models.actors import AgentCreate
from models.approval import ApprovalAttempt, AttemptOutcome, StepRun
from services import registry
from services.db import unit_of_work
from tests.cli import run
from tests.factories import valid_request
from tests.flows.helpers import decide
from tests.workflow import PROPOSAL, SIGNED, bilan_lines, poitiers, register_ctair

I86, P86, DIAIR, MIN = (
    "instructeur.86@prefecture-86.example",
    "prefet.86@prefecture-86.example",
    "diair@interieur.example",
    "ministere@interieur.example",
)
ADMIN = "exploitation@interieur.example"


async def cli(*args) -> dict | str:
    result = await asyncio.to_thread(run, *args, "--json")
    assert result.exit_code == 0, result.output
    out = result.stdout.strip()
    return json.loads(out) if out.startswith(("{", "[")) else out


@dataclass
class Step:
    name: str
    email: str
    decision: str
    fields: dict = field(default_factory=dict)
    before: tuple[tuple[str, ...], ...] = ()  # CLI commands to run before the step can wait (a proposal, a review)
    fill: Callable[[object, int], dict] | None = None  # fields known only once the step waits (stack, case id)


@dataclass
class Chain:
    """One case and the steps still ahead of it."""

    entity: str
    entity_id: int
    reference: str
    steps: list[Step]
    submitted: list[tuple[str, int, str]] = field(default_factory=list)  # (entity, id, step) answers sent

    async def prepare(self, stack) -> None:
        step = self.steps[0]
        for command in step.before:
            await cli(*(a.format(id=self.entity_id) for a in command))
        if step.name == "arbitrage":  # the batch exists only once the delegation run selected it
            self.entity, self.entity_id, self.reference = "lot", *await batch_of(stack, self.entity_id)

    async def answer(self, stack) -> None:
        step = self.steps.pop(0)
        fields = {**step.fields, **(step.fill(stack, self.entity_id) if step.fill else {})}
        self.submitted.append((self.entity, self.entity_id, step.name))  # before any verdict: lost is not the driver's
        verdict = await decide(
            stack.platform,
            step.name,
            self.entity_id,
            self.reference,
            step.email,
            step.decision,
            entity=self.entity,
            **fields,
        )
        assert verdict.outcome == "accepted", (self.reference, step.name, verdict.violations)


async def batch_of(stack, request_id: int, timeout: float = 120) -> tuple[int, str]:
    from models.delegation import DelegationBatch
    from models.ptai import PtaiRequest

    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        with Session(stack.engine) as s:
            batch_id = s.get(PtaiRequest, request_id).batch_id
            if batch_id:
                return batch_id, s.get(DelegationBatch, batch_id).reference
        await asyncio.sleep(0.3)
    raise AssertionError(f"request {request_id} never entered a batch")


def agents(stack) -> None:
    with unit_of_work(stack.engine) as s:
        known = {a.email for a in registry.list_agents(s)}
        if MIN not in known:
            registry.add_agent(s, AgentCreate(email=MIN, name="Ministère", role="ministere", departement_code=None))
        if ADMIN not in known:
            registry.add_agent(s, AgentCreate(email=ADMIN, name="Exploitation", role="admin", departement_code=None))


async def ctai_chain(stack, number: int) -> Chain:
    ids = poitiers(stack.engine, f"Commune {number}", "commune", number, f"integration@commune-{number}.example")
    started = await cli("ctai", "start", "--collectivite", str(ids["poitiers"]), "--first-year", "2021")
    review = ("ctai", "review", "{id}")
    propose = ("ctai", "propose", "{id}", str(PROPOSAL))
    return Chain(
        "ctai",
        started["ctai_id"],
        started["reference"],
        [
            Step("engagement", I86, "received", {"letter_date": "2020-12-15", "signatory": "Maire"}),
            Step("echange", I86, "held", {"meeting_date": "2021-01-20"}),
            Step("diagnostic", I86, "approve", {"bpi_count": 229, "needs_summary": "logement, emploi"}),
            Step("coordinateur", I86, "record", {"coordinator_name": "Coordinatrice CTAI"}),
            Step("proposition", I86, "approve", before=(propose,)),
            Step("signature", P86, "sign", SIGNED),
            Step("revue_diair", DIAIR, "approve"),
            Step(
                "bilan",
                I86,
                "amend",
                {"amount_eur": 250000, "complementary_eur": 50000, "comment": "Avenant n° 1"},
                before=(review,),
                fill=lambda stack, cid: {"bilan_actions": bilan_lines(stack.engine, cid, 2021)},
            ),
            Step("bilan_signature", P86, "sign_amendment", {"signature_date": "2022-01-20"}),
        ],
    )


async def widening_chain(stack, number: int) -> Chain:
    """A CTAIR signed in 2020 and registered, widened to a CTAI (the proposal funds housing: R5)."""
    ids = poitiers(
        stack.engine, f"Communauté {number}", "communaute_urbaine", number, f"ctai@communaute-{number}.example"
    )
    ctair_id = register_ctair(stack.engine, ids["poitiers"])
    started = await cli(
        "ctai", "start", "--collectivite", str(ids["poitiers"]), "--from-ctair", str(ctair_id), "--first-year", "2021"
    )
    proposal = json.loads(PROPOSAL.read_text(encoding="utf-8"))
    proposal["financement"] = [{"annee": 2021, "socle_eur": "150000.00", "complementaire_eur": "50000.00"}]
    path = stack.workdir / f"proposition-{started['ctai_id']}.json"
    path.write_text(json.dumps(proposal), encoding="utf-8")
    await cli("ctai", "propose", str(started["ctai_id"]), str(path))
    return Chain(
        "ctai",
        started["ctai_id"],
        started["reference"],
        [
            Step("elargissement", P86, "sign", {"signature_date": "2021-06-01", "elu_signature_date": "2021-06-01"}),
            Step("revue_diair", DIAIR, "approve"),
        ],
    )


async def ptai_request(stack, number: int, title: str, year: int = 2026) -> tuple[int, str]:
    ids = poitiers(stack.engine, f"Ville {number}", "commune", number, f"integration@ville-{number}.example")
    assert ids["poitiers"]
    data = valid_request(
        **{
            "demandeur.siren": fictitious_siren(number),
            "campagne": year,
            "projet.intitule": title,
            "projet.domaines": ["logement", "emploi"],
            "projet.date_debut": f"{year}-09-01",
            "projet.date_fin": f"{year + 1}-08-31",
        }
    )
    data["porteur"]["email"] = "asso@exemple-accueil.example"
    path: Path = stack.workdir / f"demande-{number}-{abs(hash(title))}.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    submitted = await cli("ptai", "submit", str(path), "--json")
    assert submitted["flow_run_id"], submitted
    return submitted["request_id"], submitted["reference"]


async def ptai_chain(stack, number: int) -> Chain:
    agents(stack)
    rid, ref = await ptai_request(stack, number, "Ateliers sociolinguistiques pour adultes")
    return Chain(
        "ptai",
        rid,
        ref,
        [
            Step("instruction", I86, "favourable", {"amount_eur": 16000}),
            Step("validation", P86, "validate", {"amount_eur": 15000}),
            Step(
                "arbitrage",
                MIN,
                "approve",
                before=(
                    ("envelope", "set", "--year", "2026", "--amount", "11000000", "--agent", MIN),
                    ("delegation", "run", "--year", "2026"),
                ),
            ),
        ],
    )


async def wait_all(chains: list[Chain], stack) -> None:
    """Until every chain with a step ahead waits on it."""
    from tests.flows.helpers import waiting_run

    await asyncio.gather(
        *(waiting_run(stack.platform, c.steps[0].name, c.entity_id, entity=c.entity) for c in chains if c.steps)
    )


async def quiescent(stack, timeout: float = 240) -> None:
    """Until nothing moves: every open step (the acts' signatures included, which a decision
    starts on its own) waits on its form, no act awaits its run and no email waits to leave.
    A kill meant to hit waiting steps must not hit a run mid-start or a message on the wire
    (that one case is the sender's documented at-most-one re-send, tested on its own)."""
    from prefect.client.orchestration import get_client

    from models.acts import ActStatus, LegalAct
    from models.approval import StepRunState
    from models.outbox import OutboxMessage

    deadline = asyncio.get_running_loop().time() + timeout
    async with get_client() as client:
        while asyncio.get_running_loop().time() < deadline:
            with Session(stack.engine) as s:
                open_rows = s.exec(select(StepRun).where(StepRun.state != StepRunState.DONE)).all()
                awaiting = set(s.exec(select(LegalAct.id).where(LegalAct.status == ActStatus.AWAITING_SIGNATURE)).all())
                unsent = s.exec(
                    select(OutboxMessage.id).where(OutboxMessage.status != "sent", OutboxMessage.status != "failed")
                ).first()
            acts_started = {r.entity_id for r in open_rows if r.entity_type == "acte" and r.flow_run_id}
            settled = unsent is None and awaiting <= acts_started and all(r.flow_run_id for r in open_rows)
            for row in open_rows if settled else ():
                run = await client.read_flow_run(UUID(row.flow_run_id))
                details = run.state.state_details if run.state else None
                if not (run.state and run.state.is_paused() and details.run_input_keyset):
                    settled = False
                    break
            if settled:
                return
            await asyncio.sleep(0.5)
    raise AssertionError(f"the platform never settled\n{stack.platform.logs()}")


def lost_and_duplicated(stack, submitted: list[tuple[str, int, str]]) -> tuple[int, int]:
    """Counted from the database, the outbox and the SMTP sink, not from what the driver saw.

    Lost: each answer submitted (``(entity, id, step)``) with no decision recorded for that step
    in the audited trail; each email the outbox holds since the case began (the decisions',
    the codes', the openings') that never reached the SMTP sink. Duplicated: decisions recorded
    twice for one submitted step, answers accepted twice, step runs started twice, emails
    received twice (by Message-ID, or the same recipient, subject and text)."""
    from models.decision import Decision
    from models.outbox import OutboxMessage

    with Session(stack.engine) as s:
        decided = Counter(
            (d.entity_type, d.entity_id, d.step)
            for d in s.exec(select(Decision).where(Decision.decision != "refus", Decision.actor_agent_id.is_not(None)))
        )
        queued = s.exec(select(OutboxMessage).where(OutboxMessage.id >= stack.first_outbox_id)).all()
        accepted = Counter(
            (a.entity_type, a.entity_id, a.step)
            for a in s.exec(select(ApprovalAttempt).where(ApprovalAttempt.outcome == AttemptOutcome.ACCEPTED))
        )
        runs = Counter(
            (r.entity_type, r.entity_id, r.step, r.round, r.closing_decision_id) for r in s.exec(select(StepRun))
        )
    received = stack.sink.message_ids()
    arrived = Counter(int(mid.split("-")[1].split(".")[0]) for mid in received for _ in range(received[mid]))
    lost_decisions = [key for key in dict.fromkeys(submitted) if decided[key] == 0]
    lost_mails = [(m.id, m.recipient, m.event, m.status) for m in queued if arrived[m.id] == 0]
    for what, items in (("decisions", lost_decisions), ("emails", lost_mails)):
        if items:
            print(f"chaos: lost {what}: {items}")
    lost = len(lost_decisions) + len(lost_mails)

    repeated = sum(n - 1 for key, n in decided.items() if key in submitted and n > 1)
    repeated += sum(n - 1 for key, n in accepted.items() if key in submitted and n > 1)
    repeated += sum(n - 1 for n in runs.values() if n > 1)
    repeated_mails = [
        key for key, n in Counter((m.to, m.subject, m.text()) for m in stack.sink.received).items() if n > 1
    ]
    repeated_ids = [mid for mid, n in received.items() if n > 1]
    repeated += stack.email_duplicates()
    repeated += sum(n - 1 for n in Counter((m.to, m.subject, m.text()) for m in stack.sink.received).values() if n > 1)
    for what, items in (
        ("decisions", [k for k, n in decided.items() if k in submitted and n > 1]),
        ("answers", [k for k, n in accepted.items() if k in submitted and n > 1]),
        ("step runs", [k for k, n in runs.items() if n > 1]),
        ("message ids", repeated_ids),
        ("mails", [(to, subject) for to, subject, _ in repeated_mails]),
    ):
        if items:
            print(f"chaos: repeated {what}: {items}")
    return lost, repeated
