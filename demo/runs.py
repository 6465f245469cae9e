"""The demo's runs: every demo case waiting at a step gets its run, and the ministry gets one
batch. Safe to call at every start: a step's live run is reused, and the batch is started once
per database (its Prefect idempotency key)."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import select

from models.ctai import Ctai, CtaiStatus
from models.ptai import PtaiRequest, PtaiStatus
from services.cases import kind
from services.db import unit_of_work
from services.engine import runs
from services.engine.launch import start_batch_run, start_case_step

DEMO_CAMPAIGN = 2021  # the year of the real examples the demo is made of
P = PtaiStatus
STAGES = [
    ("contrat en bilan annuel", "ctai", CtaiStatus.YEARLY_REVIEW),
    ("demandes en instruction", "ptai", P.SUBMITTED),
    ("complément demandé au demandeur", "ptai", P.AWAITING_APPLICANT),
    ("demandes en attente du préfet", "ptai", P.PREFET_VALIDATION),
    ("demandes dans le lot du ministère", "ptai", P.IN_BATCH),
    ("demandes aux crédits délégués", "ptai", P.DELEGATED),
]


async def start_demo_runs() -> dict[str, int]:
    with unit_of_work() as session:
        contracts = session.exec(select(Ctai.id).where(Ctai.status == CtaiStatus.YEARLY_REVIEW)).all()
        requests = session.exec(
            select(PtaiRequest.id).where(PtaiRequest.status.in_([P.SUBMITTED, P.PREFET_VALIDATION]))
        ).all()
        transmitted = session.exec(
            select(func.count())
            .select_from(PtaiRequest)
            .where(PtaiRequest.status == P.TRANSMITTED, PtaiRequest.campaign_year == DEMO_CAMPAIGN)
        ).one()
        instance = runs.instance_id(session)
    for ctai_id in contracts:
        await start_case_step(kind("ctai"), ctai_id, "demo")
    for request_id in requests:
        await start_case_step(kind("ptai"), request_id, "demo")
    if transmitted:
        await start_batch_run(DEMO_CAMPAIGN, idempotency_key=f"{instance}:demo:delegation-credits")
    return _counts()


def _counts() -> dict[str, int]:
    """Where the demo's cases stand (the batch run claims its requests within seconds)."""
    with unit_of_work() as session:
        ctai = dict(session.exec(select(Ctai.status, func.count()).group_by(Ctai.status)).all())
        ptai = dict(session.exec(select(PtaiRequest.status, func.count()).group_by(PtaiRequest.status)).all())
        ptai[P.IN_BATCH] = ptai.get(P.IN_BATCH, 0) + ptai.get(P.TRANSMITTED, 0)
    return {label: (ctai if case == "ctai" else ptai).get(status, 0) for label, case, status in STAGES}
