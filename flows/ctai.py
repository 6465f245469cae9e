"""The CTAI contracting steps, one Prefect flow (and deployment) each."""

from __future__ import annotations

from prefect import flow

from flows.hooks import HOOKS
from flows.steps import run_step

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
    """8. Yearly review: actions prolonged, amended by an avenant, or ended."""
    return await run_step("ctai", "bilan", ctai_id, trigger)


@flow(name="ctai-elargissement", **FLOW)
async def ctai_elargissement(ctai_id: int, trigger: str | None = None) -> dict:
    """9. CTAIR → CTAI widening, signed by the préfet in place of the CTAIR."""
    return await run_step("ctai", "elargissement", ctai_id, trigger)


CTAI_FLOWS = [ctai_engagement, ctai_echange, ctai_diagnostic, ctai_coordinateur, ctai_proposition, ctai_signature,
              ctai_revue_diair, ctai_bilan, ctai_elargissement]
