"""The PTAI instruction chain: local instruction, then validation by the préfet. Validated
requests wait for the ministry's batch delegation (``flows/delegation.py``)."""

from __future__ import annotations

from prefect import flow

from flows.hooks import HOOKS
from flows.steps import run_step
from services.ptai import steps

FLOW = {"persist_result": True, "log_prints": True, **HOOKS}


@flow(name="ptai-instruction", **FLOW)
async def ptai_instruction(request_id: int, trigger: str | None = None) -> dict:
    """1. Local instruction by the instructeur gives an opinion: favourable (with a proposed amount)
    or unfavourable (with its motifs), both → validation by the préfet; or complements asked of
    the applicant, with a deadline (``ptai complete``, then instruction again)."""
    return await run_step(steps.INSTRUCTION, request_id, trigger)


@flow(name="ptai-validation", **FLOW)
async def ptai_validation(request_id: int, trigger: str | None = None) -> dict:
    """2. The préfet decides, whatever the opinion (never the instructing agent): validates at the
    proposed amount or less (after an unfavourable opinion: an amount at most the one requested,
    and the motifs of overriding it) → transmitted to the ministry's next batch; or rejects with
    motifs (with recourse)."""
    return await run_step(steps.VALIDATION, request_id, trigger)


PTAI_FLOWS = [ptai_instruction, ptai_validation]
