"""The PTAI instruction chain: local instruction, then validation by the préfet. Validated
requests wait for the ministry's batch delegation (``flows/delegation.py``)."""

from __future__ import annotations

from prefect import flow

from flows.hooks import HOOKS
from flows.steps import run_step

FLOW = {"persist_result": True, "log_prints": True, **HOOKS}


@flow(name="ptai-instruction", **FLOW)
async def ptai_instruction(request_id: int, trigger: str | None = None) -> dict:
    """Local instruction by the State's services: favourable (with an amount), unfavourable, or
    more information asked of the applicant, with a deadline."""
    return await run_step("ptai", "instruction", request_id, trigger)


@flow(name="ptai-validation", **FLOW)
async def ptai_validation(request_id: int, trigger: str | None = None) -> dict:
    """Validation by the préfet, at the proposed amount or less (never the instructing agent)."""
    return await run_step("ptai", "validation", request_id, trigger)


PTAI_FLOWS = [ptai_instruction, ptai_validation]
