"""The CTAI contracting steps, one Prefect flow (and deployment) each."""

from __future__ import annotations

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows.hooks import HOOKS
from flows.steps import run_step
from services.ctai.records import renewal_of
from services.db import unit_of_work
from tasks.retry import RETRY_TRANSIENT
from tasks.runs import start_current_step

FLOW = {"persist_result": True, "log_prints": True, **HOOKS}


@flow(name="ctai-engagement", **FLOW)
async def ctai_engagement(ctai_id: int, trigger: str | None = None) -> dict:
    """1. The collectivité's lettre d'engagement, registered by the préfecture."""
    return await run_step("ctai", "engagement", ctai_id, trigger)


@flow(name="ctai-echange", **FLOW)
async def ctai_echange(ctai_id: int, trigger: str | None = None) -> dict:
    """2. Temps d'échange between the préfecture's services and the collectivité."""
    return await run_step("ctai", "echange", ctai_id, trigger)


@flow(name="ctai-diagnostic", **FLOW)
async def ctai_diagnostic(ctai_id: int, trigger: str | None = None) -> dict:
    """3. Diagnostic territorial partagé: validated, or sent back for rework."""
    return await run_step("ctai", "diagnostic", ctai_id, trigger)


@flow(name="ctai-coordinateur", **FLOW)
async def ctai_coordinateur(ctai_id: int, trigger: str | None = None) -> dict:
    """4. The coordinator, named or recruited (optional)."""
    return await run_step("ctai", "coordinateur", ctai_id, trigger)


@flow(name="ctai-proposition", **FLOW)
async def ctai_proposition(ctai_id: int, trigger: str | None = None) -> dict:
    """5. Contract proposal and funding request, checked against the rules."""
    return await run_step("ctai", "proposition", ctai_id, trigger)


@flow(name="ctai-signature", **FLOW)
async def ctai_signature(ctai_id: int, trigger: str | None = None) -> dict:
    """6. Validation and signature by the préfet (never the instructing agent)."""
    return await run_step("ctai", "signature", ctai_id, trigger)


@flow(name="ctai-revue-diair", **FLOW)
async def ctai_revue_diair(ctai_id: int, trigger: str | None = None) -> dict:
    """7. The Diair reviews the retained actions (R12)."""
    return await run_step("ctai", "revue_diair", ctai_id, trigger)


@flow(name="ctai-bilan", **FLOW)
async def ctai_bilan(ctai_id: int, trigger: str | None = None) -> dict:
    """8. Yearly review: the instructeur records the bilan of each action and prolongs the contract,
    or proposes an avenant, its end or its renewal to the préfet."""
    return await run_step("ctai", "bilan", ctai_id, trigger)


@task(name="contrat-renouvele", cache_policy=NO_CACHE, persist_result=False, **RETRY_TRANSIENT)
def renewed_contract(ctai_id: int) -> int | None:
    with unit_of_work() as session:
        renewal = renewal_of(session, ctai_id)
        return renewal.id if renewal is not None else None


@flow(name="ctai-bilan-signature", **FLOW)
async def ctai_bilan_signature(ctai_id: int, trigger: str | None = None) -> dict:
    """8 bis. The préfet signs the avenant (the year after the one reviewed is funded), the end of
    the contract or its renewal (a new contract for the next term, at its lettre d'engagement), or
    sends the bilan back; never the instructeur who prepared it."""
    outcome = await run_step("ctai", "bilan_signature", ctai_id, trigger)
    renewal = renewed_contract(ctai_id)
    if renewal is not None:  # once: a live run of its first step is returned as it is
        await start_current_step(case="ctai", entity_id=renewal, cause=f"renouvellement-{ctai_id}")
    return outcome


@flow(name="ctai-elargissement", **FLOW)
async def ctai_elargissement(ctai_id: int, trigger: str | None = None) -> dict:
    """9. CTAIR → CTAI widening, signed by the préfet in place of the CTAIR."""
    return await run_step("ctai", "elargissement", ctai_id, trigger)


CTAI_FLOWS = [
    ctai_engagement,
    ctai_echange,
    ctai_diagnostic,
    ctai_coordinateur,
    ctai_proposition,
    ctai_signature,
    ctai_revue_diair,
    ctai_bilan,
    ctai_bilan_signature,
    ctai_elargissement,
]
