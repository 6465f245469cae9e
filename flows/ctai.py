"""The CTAI contracting steps, one Prefect flow (and deployment) each, in the order of the
procedure. Each step is declared once in ``services.ctai.steps`` (who decides it, each decision's
wording and where it leads); « go to definition » on a step below reaches it, and from it its form
and its handler.

    engagement ─▶ echange ─▶ diagnostic ─▶ coordinateur ─▶ proposition ─▶ signature ─▶ revue_diair
    ─▶ (execution) ─▶ bilan ─▶ bilan_signature;   a CTAIR: elargissement ─▶ revue_diair
"""

from __future__ import annotations

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows.hooks import HOOKS
from flows.steps import run_step
from services.ctai import steps
from services.ctai.records import renewal_of
from services.db import unit_of_work
from tasks.retry import RETRY_TRANSIENT
from tasks.runs import start_current_step

FLOW = {"persist_result": True, "log_prints": True, **HOOKS}


@flow(name="ctai-engagement", **FLOW)
async def ctai_engagement(ctai_id: int, trigger: str | None = None) -> dict:
    """1. The collectivité's lettre d'engagement, registered by the instructeur: received → echange."""
    return await run_step(steps.ENGAGEMENT, ctai_id, trigger)


@flow(name="ctai-echange", **FLOW)
async def ctai_echange(ctai_id: int, trigger: str | None = None) -> dict:
    """2. Temps d'échange between the préfecture's services and the collectivité, recorded by the
    instructeur: held → diagnostic."""
    return await run_step(steps.ECHANGE, ctai_id, trigger)


@flow(name="ctai-diagnostic", **FLOW)
async def ctai_diagnostic(ctai_id: int, trigger: str | None = None) -> dict:
    """3. Diagnostic territorial partagé, by the instructeur: validated → coordinateur, or sent back
    for rework (stays at the diagnostic)."""
    return await run_step(steps.DIAGNOSTIC, ctai_id, trigger)


@flow(name="ctai-coordinateur", **FLOW)
async def ctai_coordinateur(ctai_id: int, trigger: str | None = None) -> dict:
    """4. The coordinator, named or recruited (optional), by the instructeur: recorded or none →
    proposition."""
    return await run_step(steps.COORDINATEUR, ctai_id, trigger)


@flow(name="ctai-proposition", **FLOW)
async def ctai_proposition(ctai_id: int, trigger: str | None = None) -> dict:
    """5. Contract proposal and funding request, checked against the rules by the instructeur:
    complete (every rule passes) → signature, or sent back for rework."""
    return await run_step(steps.PROPOSITION, ctai_id, trigger)


@flow(name="ctai-signature", **FLOW)
async def ctai_signature(ctai_id: int, trigger: str | None = None) -> dict:
    """6. Validation and signature by the préfet (never the instructing agent): signed (it grants the
    contract's funding: its legal acts are drawn up) → revue_diair; sent back → proposition;
    refused (end, with recourse)."""
    return await run_step(steps.SIGNATURE, ctai_id, trigger)


@flow(name="ctai-revue-diair", **FLOW)
async def ctai_revue_diair(ctai_id: int, trigger: str | None = None) -> dict:
    """7. The Diair reviews the retained actions (R12): compliant → execution; actions to rework →
    back to the collectivité (``ctai rework``), then reviewed again."""
    return await run_step(steps.REVUE_DIAIR, ctai_id, trigger)


@flow(name="ctai-bilan", **FLOW)
async def ctai_bilan(ctai_id: int, trigger: str | None = None) -> dict:
    """8. Yearly review, by the instructeur: the bilan of each action, then prolong (grants the next
    year → execution), or propose an avenant, the end or the renewal → bilan_signature."""
    return await run_step(steps.YEARLY_REVIEW, ctai_id, trigger)


@task(name="contrat-renouvele", cache_policy=NO_CACHE, persist_result=False, **RETRY_TRANSIENT)
def renewed_contract(ctai_id: int) -> int | None:
    with unit_of_work() as session:
        renewal = renewal_of(session, ctai_id)
        return renewal.id if renewal is not None else None


@flow(name="ctai-bilan-signature", **FLOW)
async def ctai_bilan_signature(ctai_id: int, trigger: str | None = None) -> dict:
    """8 bis. The préfet signs the avenant (grants the year after the one reviewed → execution), the
    end of the contract (ended, with recourse) or its renewal (a new contract for the next term, at
    its lettre d'engagement), or sends the bilan back → bilan; never the instructeur who prepared it."""
    outcome = await run_step(steps.REVIEW_SIGNATURE, ctai_id, trigger)
    renewal = renewed_contract(ctai_id)
    if renewal is not None:  # once: a live run of its first step is returned as it is
        await start_current_step(case=steps.CASE, entity_id=renewal, cause=f"renouvellement-{ctai_id}")
    return outcome


@flow(name="ctai-elargissement", **FLOW)
async def ctai_elargissement(ctai_id: int, trigger: str | None = None) -> dict:
    """9. CTAIR → CTAI widening, signed by the préfet in place of the CTAIR (grants) → revue_diair;
    or refused (with recourse)."""
    return await run_step(steps.ELARGISSEMENT, ctai_id, trigger)


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
