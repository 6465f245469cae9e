"""The comités de pilotage (seed 003, step 7): one Prefect flow (and deployment) per comité.

Started by hand (``territoires comite start``) or scheduled for the comité's day, the run opens
the compte rendu step (the préfet of the département for a local comité, the Diair for a
national one), suspends until the organiser answers, then records the compte rendu and emails
the minutes to the parties."""

from __future__ import annotations

from prefect import flow

from flows.hooks import HOOKS
from flows.steps import run_step
from services.pilotage import steps

FLOW = {"persist_result": True, "log_prints": True, **HOOKS}


@flow(name="comite-pilotage", **FLOW)
async def comite_pilotage(comite_id: int, step: str = steps.COMPTE_RENDU.name, trigger: str | None = None) -> dict:
    """7. Comité de pilotage: its compte rendu (date, participants, actions reviewed, decisions, minutes)
    recorded by the préfet (``steps.COMPTE_RENDU``, a local comité) or the Diair
    (``steps.COMPTE_RENDU_NATIONAL``, a national one) → held; or the comité cancelled, with a reason."""
    declared = steps.STEPS_BY_NAME.get(step)
    if declared is None:
        raise ValueError(f"étape inconnue pour un comité de pilotage : {step!r}")
    return await run_step(declared, comite_id, trigger)


PILOTAGE_FLOWS = [comite_pilotage]
