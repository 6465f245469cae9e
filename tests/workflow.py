"""Helpers to drive the CTAI workflow services as the flows do, without Prefect."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from demo.data import fictitious_siren, fictitious_siret
from models.actors import AgentCreate, CollectiviteCreate, PorteurCreate
from services import registry
from services.cases import kind
from services.ctai import proposal as ctai_proposal
from services.db import unit_of_work
from services.engine import runs as steps
from services.engine import steps as step_engine
from services.engine.kind import Outcome, StepView
from tests.codes import mailed_code

CTAI = kind("ctai")  # through services.cases, which wires the money chain

PROPOSAL = Path(__file__).resolve().parents[1] / "examples" / "ctai-proposal.json"


AGENTS = [
    ("instructeur.86@prefecture-86.example", "instructeur", "86"),
    ("prefet.86@prefecture-86.example", "prefet", "86"),
    ("instructeur.37@prefecture-37.example", "instructeur", "37"),
    ("prefet.37@prefecture-37.example", "prefet", "37"),
    ("diair@interieur.example", "diair", None),
]


def poitiers(
    engine,
    name: str = "Ville de Poitiers",
    kind: str = "commune",
    number: int = 1,
    email: str = "integration@poitiers.example",
) -> dict:
    """Vienne's agents, a collectivité (the Ville de Poitiers by default) and three porteurs;
    idempotent; returns their ids by name."""
    with unit_of_work(engine) as s:
        registry.seed_reference(s)
        ids = {a.email: a.id for a in registry.list_agents(s)}
        for address, role, dep in AGENTS:
            if address not in ids:
                ids[address] = registry.add_agent(
                    s, AgentCreate(email=address, name=address.split("@")[0], role=role, departement_code=dep)
                ).id
        known = {c.siren: c.id for c in registry.list_collectivites(s)}
        siren = fictitious_siren(number)
        ids["poitiers"] = (
            known.get(siren)
            or registry.add_collectivite(
                s, CollectiviteCreate(name=name, type=kind, siren=siren, departement_code="86", email=email)
            ).id
        )
        sirets = {p.siret for p in registry.list_porteurs(s)}
        for n, porteur in enumerate(["Coallia", "Audacia", "Toit du Monde"], start=1):
            if fictitious_siret(n) not in sirets:
                registry.add_porteur(
                    s, PorteurCreate(name=porteur, siret=fictitious_siret(n), email=f"contact{n}@porteur.example")
                )
    return ids


def proposal_text(**changes) -> str:
    data = json.loads(PROPOSAL.read_text(encoding="utf-8"))
    data.update(changes)
    return json.dumps(data)


def propose(engine, ctai_id: int, text: str | None = None):
    with unit_of_work(engine) as s:
        return ctai_proposal.propose(s, ctai_id, text or proposal_text())


class Driver:
    """Opens steps and answers their forms as the flow would, with codes read from the outbox."""

    def __init__(self, engine, ctai_id: int):
        self.engine, self.ctai_id = engine, ctai_id
        self.run_id: str | None = None
        self.attempt = 0

    def open(self, step: str) -> StepView:
        self.run_id, self.attempt = str(uuid.uuid4()), 0
        with unit_of_work(self.engine) as s:
            key = steps.trigger_key(s, "ctai", self.ctai_id, step, self.run_id)
            steps.reserve(
                s,
                entity_type="ctai",
                entity_id=self.ctai_id,
                step=step,
                key=key,
                awaited_role=CTAI.awaited_role(step),
            )
        with unit_of_work(self.engine) as s:
            return step_engine.open_step(
                s, CTAI, entity_id=self.ctai_id, step=step, flow_run_id=self.run_id, trigger=key, link="http://ui/run"
            )

    def reopen(self, step: str) -> StepView:
        with unit_of_work(self.engine) as s:
            return step_engine.open_step(
                s, CTAI, entity_id=self.ctai_id, step=step, flow_run_id=self.run_id, trigger=None, link="http://ui/run"
            )

    def code(self, email: str) -> str:
        return mailed_code(self.engine, email)

    def answer(self, step: str, email: str, decision: str, code: str | None = None, **fields) -> Outcome:
        self.attempt += 1
        answer = {"agent_email": email, "approval_code": code or self.code(email), "decision": decision, **fields}
        with unit_of_work(self.engine) as s:
            return step_engine.decide(
                s,
                CTAI,
                entity_id=self.ctai_id,
                step=step,
                flow_run_id=self.run_id,
                attempt=self.attempt,
                answer=answer,
                link="http://ui/run",
            )


SIGNED = {"signature_date": "2021-10-21", "elu_signature_date": "2021-10-21"}  # Poitiers, seed 004


def bilan_lines(engine, ctai_id: int, year: int) -> list[dict]:
    """A complete bilan of ``year``: each action carried out, half of its amount consumed."""
    from sqlmodel import Session, select

    from models.ctai import Action

    with Session(engine) as s:
        actions = s.exec(select(Action).where(Action.ctai_id == ctai_id, Action.year == year).order_by(Action.id)).all()
        return [
            {"action_id": a.id, "realisee": True, "public_atteint": 20, "consomme_eur": a.amount_cents // 200}
            for a in actions
        ]


CTAIR_FILE = {
    "public": "bpi",
    "financement": [
        {"annee": 2020, "socle_eur": "150000.00"},
        {"annee": 2021, "socle_eur": "150000.00"},
        {"annee": 2022, "socle_eur": "150000.00"},
    ],
    "actions": [
        {
            "intitule": f"Emploi des réfugiés {year}",
            "domaine": "emploi",
            "public": "bpi",
            "action_p104": 15,
            "montant_eur": "100000.00",
            "annee": year,
        }
        for year in (2020, 2021, 2022)
    ],
    "diagnostic": {"annee": 2019, "bpi": 120},
}


def register_ctair(engine, collectivite_id: int, signature_date: str = "2020-02-14", **changes) -> int:
    """A CTAIR signed in 2020 for 2020-2022 (employment actions, no housing), registered as the
    command does, to widen."""
    from datetime import date

    from services.ctai.rework import register_ctair as register

    with unit_of_work(engine) as s:
        return register(
            s,
            collectivite_id=collectivite_id,
            signature_date=date.fromisoformat(signature_date),
            text=json.dumps({**CTAIR_FILE, **changes}),
        ).id
