"""Where the demo's cases stand when a newcomer opens the UI: one case or more at every stage.

The past is written as history decisions, signed "(démo)", dated as the sources date them (or
marked « date fictive ») and chained in the audit trail like any other (``demo.history``); the
present (the requests' stages, the Poitiers bilan under way) is dated the day of seeding. What is
still to be decided is left to the real flows (``territoires up --demo``
starts their runs). Each stage goes through the state machines, so the demo never holds a
state the platform could not reach.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

from sqlmodel import Session, select

from demo import history
from models.actors import Agent
from models.acts import ActSignatureDecision, ExamenDecision, LegalAct
from models.ptai import InstructionDecision, PtaiRequest, PtaiStatus, ValidationDecision
from models.types import paris_today
from services.acts.records import prepare as prepare_acts
from services.acts.records import report_of
from services.acts.reports import open_report
from services.acts.steps import ACT_MACHINE
from services.acts.workflow import seal
from services.ctai import workflow as ctai_workflow
from services.ctai.records import contract_records
from services.ctai.review import record_transmitted_review
from services.engine.audit import Actor, record_decision
from services.financial_report.records import transmit
from services.financial_report.steps import REPORT_MACHINE
from services.ptai.steps import apply_decision

# Stage of each demo request, by département of its applicant.
PTAI_STAGES = {
    "76": PtaiStatus.SUBMITTED,  # awaits the local instruction
    "37": PtaiStatus.SUBMITTED,
    "38": PtaiStatus.AWAITING_APPLICANT,  # more information asked of the applicant
    "21": PtaiStatus.PREFET_VALIDATION,  # awaits the préfet
    "63": PtaiStatus.PREFET_VALIDATION,
    "35": PtaiStatus.TRANSMITTED,  # validated: goes into the ministry's next batch
    "67": PtaiStatus.TRANSMITTED,
}
# The decisions that lead from "submitted" to each stage.
PATHS = {
    PtaiStatus.SUBMITTED: [],
    PtaiStatus.AWAITING_APPLICANT: [("instruction", InstructionDecision.REWORK)],
    PtaiStatus.PREFET_VALIDATION: [("instruction", InstructionDecision.FAVOURABLE)],
    PtaiStatus.TRANSMITTED: [
        ("instruction", InstructionDecision.FAVOURABLE),
        ("validation", ValidationDecision.VALIDATE),
    ],
}
REWORK_COMMENT = "Merci de préciser le nombre de bénéficiaires par catégorie et le calendrier des ateliers."
REWORK_DAYS = 30


def _agent(session: Session, role: str, departement: str) -> Agent:
    return session.exec(
        select(Agent).where(Agent.role == role, Agent.departement_code == departement).order_by(Agent.id)
    ).first()


def stage_request(session: Session, request: PtaiRequest, departement: str, today: date | None = None) -> None:
    """Moves a freshly submitted demo request to its demo stage."""
    today = today or paris_today()
    for step, decision in PATHS[PTAI_STAGES.get(departement, PtaiStatus.SUBMITTED)]:
        agent = _agent(session, "instructeur" if step == "instruction" else "prefet", departement)
        before = request.status
        apply_decision(request, decision)
        amount, comment = None, None
        if decision in {InstructionDecision.FAVOURABLE, ValidationDecision.VALIDATE}:
            request.proposed_cents = amount = request.requested_cents
        if decision == InstructionDecision.FAVOURABLE:
            request.instructed_by_agent_id = agent.id
            request.opinion = InstructionDecision.FAVOURABLE
        if decision == InstructionDecision.REWORK:
            request.instructed_by_agent_id = agent.id
            request.rework_deadline = today + timedelta(days=REWORK_DAYS)
            comment = REWORK_COMMENT
        session.add(request)
        record_decision(
            session,
            entity_type="ptai",
            entity_id=request.id,
            step=step,
            from_status=before,
            to_status=request.status,
            actor=Actor(f"{agent.email} (démo)", agent.id),
            decision=decision,
            comment=comment,
            amount_cents=amount,
        )


def stage_contract(session: Session, ctai_id: int) -> None:
    """The Poitiers contract is at its yearly review of 2021, the bilan transmitted by the city
    (FICTITIOUS figures: the sources give none per action): the instructeurs' conclusion awaits."""
    contract = ctai_workflow.open_yearly_review(session, ctai_id, year=2021)
    _, actions, _ = contract_records(session, contract)
    lines = [
        {
            "action_id": a.id,
            "realisee": True,
            "public_atteint": 12 + (a.id % 5) * 7,
            "consomme_eur": f"{Decimal(a.amount_cents) * Decimal('0.009'):.2f}",
        }
        for a in actions
        if a.year == 2021
    ]
    record_transmitted_review(session, contract, json.dumps({"actions": lines}))


# The history of the Poitiers contract's acts, as a préfecture would have kept it. The contract's
# signature is dated by seed 004; that its acts were signed the same day, the signatory's name and
# the dates of the comptes rendus are FICTITIOUS (the sources give none): their decisions say so.
ACTS_SIGNED_ON = date(2021, 10, 21)  # the contract's signature (seed 004)
ACTS_SIGNATORY = ("Claire Dumont (nom fictif)", "Pour la préfète et par délégation, le secrétaire général")
REPORTS_TRANSMITTED_ON = date(2022, 6, 15)
REPORTS_EXAMINED_ON = date(2022, 7, 1)


def stage_acts(session: Session, ctai_id: int) -> list[int]:
    """The acts of the contract's 2021 actions, drawn up at its signature, signed that day and
    their PDF sealed; each association's compte rendu financier then awaited."""
    signed = []
    with history.on(ACTS_SIGNED_ON):
        for act_id in prepare_acts(session, ctai_ids=[ctai_id]):
            act = session.get(LegalAct, act_id)
            before = act.status
            act.signatory_name, act.signatory_title = ACTS_SIGNATORY
            act.signed_on = ACTS_SIGNED_ON
            ACT_MACHINE.apply(act, ActSignatureDecision.SIGN)
            session.add(act)
            record_decision(
                session,
                entity_type="acte",
                entity_id=act.id,
                step="signature",
                from_status=before,
                to_status=act.status,
                actor=history.FICTIVE,
                decision=ActSignatureDecision.SIGN,
                amount_cents=act.total_cents,
                comment=history.note("acte signé le jour du contrat", False),
            )
            seal(session, act, history.FICTIVE)
            open_report(session, act)
            signed.append(act.id)
    return signed


def stage_reports(session: Session, act_ids: list[int]) -> None:
    """Each association's compte rendu financier 2021, transmitted and recognised conforme."""
    for act_id in act_ids:
        act = session.get(LegalAct, act_id)
        report = report_of(session, act.family_key)
        if report is None:
            continue  # the city's own act: no compte rendu of an association
        with history.on(REPORTS_TRANSMITTED_ON):
            transmit(
                session,
                report.id,
                transmitted_on=REPORTS_TRANSMITTED_ON,
                expenses_eur=Decimal(act.total_cents) / 100 * 2,
                used_eur=Decimal(act.total_cents) / 100,
                summary="Action réalisée (compte rendu fictif de la démonstration).",
                by=history.FICTIVE.label,
                today=REPORTS_EXAMINED_ON,
            )
        before = report.status
        REPORT_MACHINE.apply(report, ExamenDecision.COMPLIANT)
        session.add(report)
        with history.on(REPORTS_EXAMINED_ON):
            record_decision(
                session,
                entity_type="crf",
                entity_id=report.id,
                step="examen",
                from_status=before,
                to_status=report.status,
                actor=history.FICTIVE,
                decision=ExamenDecision.COMPLIANT,
                comment=history.note(None, False),
            )
