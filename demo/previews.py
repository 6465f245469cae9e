"""Every email the platform sends, produced as a real send produces it (``territoires mail preview``).

In a throwaway SQLite database, the demo's cases (``demo.data``) are driven through the services
the flows call: steps opened and decided with the codes their emails carry, wrong codes typed
until a lock-out, the daily run on the days its reminders fall, a ministry batch arbitrated and
delegated, an act signed and sealed, a comité's compte rendu recorded, a repair reported to the
operators. What that queues is then delivered by the platform's own sender, through SMTP, to a
local sink that writes each message as ``.eml``: the previews are what a recipient would read.

Only the Prefect server is left out: a step's run id is made up, as a flow's would be.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import tempfile
import uuid
from datetime import date, timedelta
from email import message_from_bytes, policy
from pathlib import Path

from sqlmodel import Session, select

from models.types import paris_today

ANSWERED_LINK = "http://127.0.0.1:4200/runs/flow-run/{run}"
CODE = re.compile(r"(?:Code d'approbation|Code de déblocage)\s:\s([A-Z0-9]{4}-[A-Z0-9]{4})")


class Previewer:
    """Opens and answers steps the way a step's flow does (``services.engine.steps``)."""

    def __init__(self, engine):
        self.engine = engine
        self.runs: dict[tuple[str, int, str], str] = {}
        self.attempts: dict[str, int] = {}

    def open(self, entity: str, entity_id: int, step: str, run_id: str | None = None) -> str:
        """Opens the step in a run of its own, or in ``run_id`` (a batch's arbitrage lives in the
        delegation run that selected it)."""
        from services.cases import kind as case_kind
        from services.db import unit_of_work
        from services.engine import runs, steps

        kind = case_kind(entity)
        run_id = run_id or str(uuid.uuid4())
        with unit_of_work(self.engine) as s:
            key = runs.trigger_key(s, kind.entity, entity_id, step, run_id)
            runs.reserve(
                s,
                entity_type=kind.entity,
                entity_id=entity_id,
                step=step,
                key=key,
                awaited_role=kind.awaited_role(step),
            )
        with unit_of_work(self.engine) as s:
            steps.open_step(
                s,
                kind,
                entity_id=entity_id,
                step=step,
                flow_run_id=run_id,
                trigger=key,
                link=ANSWERED_LINK.format(run=run_id),
            )
        self.runs[(entity, entity_id, step)] = run_id
        return run_id

    def code(self, email: str) -> str:
        """The code the agent reads in the latest email that carries one (rendered as it is sent)."""
        from models.outbox import OutboxMessage
        from notifications.render import render_parts

        with Session(self.engine) as s:
            row = s.exec(
                select(OutboxMessage)
                .where(OutboxMessage.recipient == email, OutboxMessage.event == "approval_requested")
                .order_by(OutboxMessage.id.desc())
            ).first()
        return CODE.search(render_parts(row.event, row.context)[1]).group(1)

    def answer(
        self, entity: str, entity_id: int, step: str, email: str, decision: str, *, code: str | None = None, **fields
    ):
        from services.cases import kind as case_kind
        from services.db import unit_of_work
        from services.engine import steps

        run_id = self.runs[(entity, entity_id, step)]
        self.attempts[run_id] = self.attempts.get(run_id, 0) + 1
        answer = {"agent_email": email, "approval_code": code or self.code(email), "decision": decision, **fields}
        with unit_of_work(self.engine) as s:
            return steps.decide(
                s,
                case_kind(entity),
                entity_id=entity_id,
                step=step,
                flow_run_id=run_id,
                attempt=self.attempts[run_id],
                answer=answer,
                link=ANSWERED_LINK.format(run=run_id),
            )


def _request(session: Session, departement: str):
    from models.actors import Collectivite
    from models.ptai import PtaiRequest

    return session.exec(
        select(PtaiRequest)
        .join(Collectivite, Collectivite.id == PtaiRequest.collectivite_id)
        .where(Collectivite.departement_code == departement)
    ).first()


def _agent(departement: str | None, role: str) -> str:
    return f"{role}.{departement}@prefecture-{departement}.example" if departement else f"{role}@interieur.example"


def drive(engine) -> None:
    """The scenario: each event of ``notifications.events`` queued at least once, for real cases."""
    from models.actors import Collectivite
    from models.acts import ActSignatureDecision, LegalAct
    from models.approval import MAX_WRONG_CODES
    from models.ctai import Ctai, EngagementDecision
    from models.delegation import ArbitrageDecision
    from models.pilotage import ComiteDecision
    from models.ptai import InstructionDecision, ValidationDecision
    from services.ctai import workflow as ctai_workflow
    from services.db import unit_of_work
    from services.finance import batches, delegation
    from services.finance.envelope import set_envelope
    from services.followup import reminders
    from services.followup.recovery import Repair, SweepReport, notify_operators
    from services.pilotage import workflow as pilotage

    p = Previewer(engine)
    with Session(engine) as s:
        ids = {dep: _request(s, dep).id for dep in ("76", "37", "38", "21", "63", "35", "67")}

    # A contract opens (step_started, approval_requested) and its first step is decided (step_decided).
    with unit_of_work(engine) as s:
        tours = s.exec(select(Collectivite).where(Collectivite.departement_code == "37")).first()
        contract, _ = ctai_workflow.create(s, collectivite_id=tours.id, first_year=paris_today().year + 1)
        contract_id = contract.id
    p.open("ctai", contract_id, "engagement")
    p.answer(
        "ctai",
        contract_id,
        "engagement",
        _agent("37", "instructeur"),
        EngagementDecision.RECEIVED,
        letter_date=paris_today().isoformat(),
        signatory="Emmanuel Denis, maire",
    )

    # A request sent back to its applicant (step_rework), another favourably instructed.
    p.open("ptai", ids["76"], "instruction")
    p.answer(
        "ptai",
        ids["76"],
        "instruction",
        _agent("76", "instructeur"),
        InstructionDecision.REWORK,
        comment="Merci de préciser le calendrier des ateliers et le nombre de familles accompagnées.",
        rework_deadline=(paris_today() + timedelta(days=30)).isoformat(),
    )
    p.open("ptai", ids["37"], "instruction")
    p.answer(
        "ptai", ids["37"], "instruction", _agent("37", "instructeur"), InstructionDecision.FAVOURABLE, amount_eur=20000
    )
    p.open("ptai", ids["37"], "validation")  # left waiting: the daily run reminds, then escalates

    # Wrong codes until the préfet's answers are blocked (responses_blocked, lockout_alert).
    p.open("ptai", ids["21"], "validation")
    for _ in range(MAX_WRONG_CODES):
        p.answer("ptai", ids["21"], "validation", _agent("21", "prefet"), ValidationDecision.VALIDATE, code="AAAA-AAAA")

    # A préfet's refusal: the applicant's letter carries the voies et délais de recours.
    p.open("ptai", ids["63"], "validation")
    p.answer(
        "ptai",
        ids["63"],
        "validation",
        _agent("63", "prefet"),
        ValidationDecision.REJECT,
        comment="Le projet relève des crédits de droit commun de la politique de la ville.",
    )

    # The ministry's batch: one request refused for good (request_refused_ministry), the rest delegated
    # (credits_delegated_prefecture), and their acts prepared.
    with unit_of_work(engine) as s:
        set_envelope(s, 2021, 1_100_000_000, _agent(None, "ministere"))
        batch = batches.select_batch(s, year=2021, flow_run_id=str(uuid.uuid4()))
        batch_id, batch_run = batch.id, batch.flow_run_id
    p.open("lot", batch_id, "arbitrage", run_id=batch_run)
    p.answer(
        "lot",
        batch_id,
        "arbitrage",
        _agent(None, "ministere"),
        ArbitrageDecision.APPROVE,
        refused_request_ids=[ids["67"]],
        refusal_reason="Le projet finance un équipement (véhicules) : les crédits d'intégration ne financent "
        "que des frais de fonctionnement.",
    )
    delegation.delegate(batch_id, engine=engine)

    # The préfet signs the act of Rennes' association (act_signed, with its PDF).
    with Session(engine) as s:
        act_id = s.exec(select(LegalAct.id).where(LegalAct.departement_code == "35")).first()
    p.open("acte", act_id, "signature")
    p.answer(
        "acte",
        act_id,
        "signature",
        _agent("35", "prefet"),
        ActSignatureDecision.SIGN,
        signatory_name="Nathalie Martin (nom fictif)",
        signatory_title="Pour le préfet et par délégation, la secrétaire générale",
        signed_on=paris_today().isoformat(),
    )

    # A local comité de pilotage: its compte rendu to the parties (comite_minutes).
    with unit_of_work(engine) as s:
        poitiers = s.exec(select(Ctai.id).where(Ctai.reference.like("CTAI-86-%"))).first()
        comite, _ = pilotage.plan(
            s, level="local", departement_code="86", planned_on=paris_today(), ctai_ids=[poitiers]
        )
        comite_id = comite.id
    p.open("comite", comite_id, "compte_rendu")
    p.answer(
        "comite",
        comite_id,
        "compte_rendu",
        _agent("86", "prefet"),
        ComiteDecision.RECORD,
        held_on=paris_today().isoformat(),
        participants=[{"name": "Adjointe au maire de Poitiers", "function": "chargée de l'intégration"}],
        minutes="Le comité a fait le point sur l'exécution 2021 du contrat.",
    )

    # The daily run on the days its messages fall: reminders and escalation of a waiting step, the
    # applicant's reminder and the request closed, the engagement letter and the compte rendu due.
    policy_days = [paris_today() + timedelta(days=n) for n in range(1, 45)]
    with Session(engine) as s:
        contract = s.get(Ctai, contract_id)
        letter_year = contract.first_year
    _awaiting_letter(engine, letter_year)
    for day in sorted(set(policy_days + _letter_days(letter_year) + _report_days(engine))):
        reminders.run(day, engine)

    # What the recovery sweep reports to the operators (steps_repaired).
    with unit_of_work(engine) as s:
        notify_operators(
            s,
            SweepReport(
                checked=3,
                repairs=[
                    Repair(
                        "ptai",
                        ids["37"],
                        "PTAI-37-2021-00002",
                        "validation par le préfet",
                        "relancer",
                        "le processus qui exécutait l'étape s'est arrêté",
                        p.runs[("ptai", ids["37"], "validation")],
                    )
                ],
            ),
        )


def _awaiting_letter(engine, year: int) -> int:
    """A contract of Le Havre waiting for its engagement letter (the deadline notices)."""
    from models.actors import Collectivite
    from services.ctai import workflow as ctai_workflow
    from services.db import unit_of_work

    with unit_of_work(engine) as s:
        havre = s.exec(select(Collectivite).where(Collectivite.departement_code == "76")).first()
        contract, _ = ctai_workflow.create(s, collectivite_id=havre.id, first_year=year)
        return contract.id


def _letter_days(year: int) -> list[date]:
    from models.reminders import policy

    deadline = policy().letter_deadline(year)
    return [deadline + timedelta(days=n) for n in range(-12, 12)]


def _report_days(engine) -> list[date]:
    from models.acts import FinancialReport, ReportStatus

    with Session(engine) as s:
        due = s.exec(select(FinancialReport.due_on).where(FinancialReport.status == ReportStatus.EXPECTED)).all()
    return sorted({d + timedelta(days=n) for d in due for n in range(-12, 30)})


def deliver(engine, to_dir: Path) -> list[dict]:
    """The platform's sender, through SMTP, to a local sink; each message saved as
    ``<n>-<event>-<lettre|avis>.eml`` (with its text and HTML beside it)."""
    from models.outbox import OutboxMessage
    from models.types import utcnow
    from notifications.sender import OutboxSender
    from notifications.sink import MailSink, SinkServer
    from notifications.smtp import SmtpTarget

    raw_dir = to_dir / ".reçus"
    sink = SinkServer(MailSink(raw_dir)).start()
    try:
        target = SmtpTarget(host="127.0.0.1", port=sink.port, is_local_sink=True)
        for _ in range(3):
            asyncio.run(OutboxSender(engine, target).send_pending(now=utcnow() + timedelta(days=400)))
    finally:
        sink.stop()
    with Session(engine) as s:
        rows = {r.id: r for r in s.exec(select(OutboxMessage))}
    written = []
    for n, path in enumerate(sorted(raw_dir.glob("*.eml")), start=1):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        outbox_id = int(re.search(r"<outbox-(\d+)\.", str(message["Message-ID"])).group(1))
        row = rows[outbox_id]
        name = f"{n:03d}-{row.event}-{row.context.get('registre', 'lettre')}"
        (to_dir / f"{name}.eml").write_bytes(path.read_bytes())
        (to_dir / f"{name}.txt").write_text(message.get_body(("plain",)).get_content(), encoding="utf-8")
        (to_dir / f"{name}.html").write_text(message.get_body(("html",)).get_content(), encoding="utf-8")
        written.append(
            {
                "fichier": f"{name}.eml",
                "evenement": row.event,
                "registre": row.context.get("registre"),
                "destinataire": row.recipient,
                "objet": str(message["Subject"]),
            }
        )
    shutil.rmtree(raw_dir)
    return written


def form_descriptions(engine, to_dir: Path) -> list[str]:
    """Every approval form's text (the Markdown above the form's fields in the Prefect UI), for a
    real case of its kind, written as ``formulaires/<case>-<step>.md``."""
    from models.acts import FinancialReport, LegalAct
    from models.ctai import Ctai
    from models.delegation import DelegationBatch
    from models.pilotage import Comite
    from services.cases import KINDS

    out_dir = to_dir / "formulaires"
    out_dir.mkdir(exist_ok=True)
    written = []
    with Session(engine) as s:
        cases = {
            "ctai": s.exec(select(Ctai).where(Ctai.reference.like("CTAI-86-%"))).first(),
            "ptai": _request(s, "37"),
            "lot": s.exec(select(DelegationBatch)).first(),
            "acte": s.exec(select(LegalAct).where(LegalAct.departement_code == "35")).first(),
            "crf": s.exec(select(FinancialReport).where(FinancialReport.departement_code == "35")).first(),
            "comite": s.exec(select(Comite)).first(),
        }
        for entity, kind in KINDS.items():
            case = cases.get(entity)
            for step in kind.steps if case is not None else ():
                if entity == "comite" and step != kind.step_of(case.status) and not step.startswith("compte_rendu"):
                    continue
                text = kind.description(s, case, step, kind.awaited_role(step), None)
                name = f"{entity}-{step}.md"
                (out_dir / name).write_text(text, encoding="utf-8")
                written.append(name)
    return written


def previews(to_dir: Path) -> list[dict]:
    """The whole preview: a fresh database, the demo, the scenario, the delivery."""
    import os

    from settings import get_settings

    to_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="territoires-apercus-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'apercus.db'}"
        old = os.environ.get("TERRITOIRES_DATABASE_URL")
        os.environ["TERRITOIRES_DATABASE_URL"] = url
        get_settings.cache_clear()
        try:
            from demo.data import seed_demo
            from services.db import get_engine, unit_of_work
            from services.migrate import upgrade

            upgrade(url)
            engine = get_engine(url)
            with unit_of_work(engine) as s:
                seed_demo(s)
            drive(engine)
            written = deliver(engine, to_dir)
            form_descriptions(engine, to_dir)
            engine.dispose()
        finally:
            if old is None:
                os.environ.pop("TERRITOIRES_DATABASE_URL", None)
            else:
                os.environ["TERRITOIRES_DATABASE_URL"] = old
            get_settings.cache_clear()
    return written


if __name__ == "__main__":  # pragma: no cover - ``python -m demo previews DIR`` is the entry point
    import sys

    print(json.dumps(previews(Path(sys.argv[1])), ensure_ascii=False))
