"""Helpers for what follows a decision: a request whose credits are delegated (as the delegation
does it), and any approval step driven as its flow would drive it, without Prefect."""

from __future__ import annotations

import json
import uuid
from datetime import date

from sqlmodel import Session, select

from demo.data import fictitious_siren, fictitious_siret
from models.actors import AgentCreate, CollectiviteCreate
from models.acts import FinancialReport, LegalAct
from models.money import cents_to_euros
from models.ptai import PtaiRequest, PtaiStatus
from services import registry
from services.acts.records import prepare
from services.cases import kind
from services.db import unit_of_work
from services.engine import runs, steps
from services.finance.acts import recompute_legal_acts
from services.ptai.records import submit
from tests.codes import mailed_code
from tests.factories import valid_request

INSTRUCTEUR, PREFET, MINISTERE = (
    "instructeur.86@prefecture-86.example",
    "prefet.86@prefecture-86.example",
    "ministere@interieur.example",
)
ASSOCIATION = "contact@accueil-vienne.example"
COLLECTIVITE = "integration@chatellerault.example"
SIGNED = {
    "signatory_name": "Claire Dumont",
    "signatory_title": "Pour la préfète et par délégation, le secrétaire général",
    "signed_on": "2021-10-21",
}


def vienne(engine) -> None:
    """The Vienne's agents and a collectivité (idempotent)."""
    with unit_of_work(engine) as s:
        registry.seed_reference(s)
        known = {a.email for a in registry.list_agents(s)}
        for email, role, dep in (
            (INSTRUCTEUR, "instructeur", "86"),
            (PREFET, "prefet", "86"),
            (MINISTERE, "ministere", None),
        ):
            if email not in known:
                registry.add_agent(
                    s, AgentCreate(email=email, name=email.split("@")[0], role=role, departement_code=dep)
                )
        if not any(c.siren == fictitious_siren(86) for c in registry.list_collectivites(s)):
            registry.add_collectivite(
                s,
                CollectiviteCreate(
                    name="Ville de Châtellerault",
                    type="commune",
                    siren=fictitious_siren(86),
                    departement_code="86",
                    email=COLLECTIVITE,
                ),
            )


def request_file(title: str, amount_eur: str, year: int = 2021, porteur: bool = True) -> dict:
    data = valid_request(
        **{
            "demandeur.siren": fictitious_siren(86),
            "demandeur.nom": "Ville de Châtellerault",
            "campagne": year,
            "budget.montant_demande_eur": amount_eur,
            "budget.cout_total_eur": f"{float(amount_eur) * 2:.2f}",
            "projet.intitule": title,
            "projet.date_debut": f"{year}-09-01",
            "projet.date_fin": f"{year + 1}-08-31",
            "projet.domaines": ["parentalite", "logement"],
        }
    )
    data["budget"]["cofinancements"] = [{"financeur": "Ville de Châtellerault", "montant_eur": amount_eur}]
    if porteur:
        data["porteur"].update({"siret": fictitious_siret(860), "nom": "Accueil Vienne", "email": ASSOCIATION})
    else:
        data["porteur"] = None
    return data


def delegated(engine, title: str, amount_eur: str, *, year: int = 2021, porteur: bool = True) -> int:
    """A request submitted, then its credits delegated at the amount requested, as the
    delegation's transaction does (R13, then the acts drawn up). Returns its id."""
    vienne(engine)
    with unit_of_work(engine) as s:
        request = submit(s, json.dumps(request_file(title, amount_eur, year, porteur)), today=date(year, 3, 1))
        request.status = PtaiStatus.DELEGATED
        request.proposed_cents = request.granted_cents = request.requested_cents
        s.add(request)
        recompute_legal_acts(s, ptai_request_ids=[request.id])
        prepare(s, ptai_request_ids=[request.id])
        return request.id


def act_of(engine, request_id: int) -> LegalAct:
    """The live act (draft or signed, the latest version) whose lines carry the request."""
    with Session(engine) as s:
        request = s.get(PtaiRequest, request_id)
        acts = s.exec(
            select(LegalAct)
            .where(
                LegalAct.year == request.campaign_year,
                LegalAct.porteur_id == request.porteur_id
                if request.porteur_id
                else LegalAct.collectivite_id == request.collectivite_id,
            )
            .order_by(LegalAct.version.desc())
        ).all()
        return acts[0]


def report_of(engine, act: LegalAct) -> FinancialReport:
    with Session(engine) as s:
        return s.exec(select(FinancialReport).where(FinancialReport.family_key == act.family_key)).one()


class StepDriver:
    """Opens a step and answers its form as the step's flow would, the code read from the outbox."""

    def __init__(self, engine, case: str, entity_id: int, step: str):
        self.engine, self.kind, self.entity_id, self.step = engine, kind(case), entity_id, step
        self.run_id, self.attempt = str(uuid.uuid4()), 0
        with unit_of_work(engine) as s:
            key = runs.trigger_key(s, case, entity_id, step, self.run_id)
            runs.reserve(
                s, entity_type=case, entity_id=entity_id, step=step, key=key, awaited_role=self.kind.awaited_role(step)
            )
        with unit_of_work(engine) as s:
            steps.open_step(
                s, self.kind, entity_id=entity_id, step=step, flow_run_id=self.run_id, trigger=key, link=None
            )

    def answer(self, email: str, decision: str, **fields) -> steps.Outcome:
        self.attempt += 1
        answer = {
            "agent_email": email,
            "approval_code": mailed_code(self.engine, email),
            "decision": decision,
            **fields,
        }
        with unit_of_work(self.engine) as s:
            return steps.decide(
                s,
                self.kind,
                entity_id=self.entity_id,
                step=self.step,
                flow_run_id=self.run_id,
                attempt=self.attempt,
                answer=answer,
                link=None,
            )


def sign(engine, act_id: int, **fields) -> steps.Outcome:
    outcome = StepDriver(engine, "acte", act_id, "signature").answer(PREFET, "sign", **{**SIGNED, **fields})
    assert outcome.accepted, outcome.violations
    return outcome


def transmit(engine, report_id: int, on: str = "2022-06-15", used: str | None = None, expenses: str = "40000") -> None:
    from services.financial_report.records import transmit as record

    with unit_of_work(engine) as s:
        report = s.get(FinancialReport, report_id)
        granted = cents_to_euros(s.get(LegalAct, report.act_id).total_cents)
        record(
            s,
            report_id,
            transmitted_on=date.fromisoformat(on),
            expenses_eur=expenses,
            used_eur=used or str(granted),
            summary="Ateliers tenus comme prévu.",
            by=ASSOCIATION,
        )


def examine(engine, report_id: int, decision: str, **fields) -> steps.Outcome:
    return StepDriver(engine, "crf", report_id, "examen").answer(INSTRUCTEUR, decision, **fields)
