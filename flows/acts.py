"""After the decision: the préfet signs each legal act (then the PDF is sealed and mailed), and
the instructeur examines each compte rendu financier the porteur transmits."""

from __future__ import annotations

from prefect import flow

from flows.hooks import HOOKS
from flows.steps import run_step
from services.acts import steps as act_steps
from services.financial_report import steps as report_steps

FLOW = {"persist_result": True, "log_prints": True, **HOOKS}


@flow(name="acte-signature", **FLOW)
async def acte_signature(acte_id: int, trigger: str | None = None) -> dict:
    """The préfet (or a delegate) signs the arrêté attributif or the convention (R13), or refuses
    to sign it with a reason. Once signed: the PDF stamped with the signatory and the date, its
    SHA-256 in the audit trail, the act mailed to the beneficiary and the collectivité."""
    return await run_step(act_steps.SIGNATURE, acte_id, trigger)


@flow(name="crf-examen", **FLOW)
async def crf_examen(crf_id: int, trigger: str | None = None) -> dict:
    """The instructeur examines the compte rendu financier (Cerfa n° 15059) the porteur
    transmitted: conforme; incomplet, back to the porteur with a deadline; or non conforme,
    with an amount to repay (R14 follows)."""
    return await run_step(report_steps.EXAMEN, crf_id, trigger)


ACT_FLOWS = [acte_signature, crf_examen]
