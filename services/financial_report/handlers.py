"""What the instructeur's examination changes: conforme; incomplet, back to the porteur with a
deadline (the engine mails it as a rework); non conforme, with the amount to repay."""

from __future__ import annotations

from models.acts import ExamenDecision, FinancialReport, check_examination
from models.errors import raise_if_any
from models.money import euros_to_cents
from models.types import paris_today
from services.engine.kind import Applied
from services.financial_report.forms import ExamenForm
from services.financial_report.records import granted_cents


def examen(session, report: FinancialReport, decision: ExamenDecision, form: ExamenForm) -> Applied:
    repay = euros_to_cents(form.repay_eur) if form.repay_eur is not None else None
    raise_if_any(
        check_examination(
            decision=decision,
            complement_deadline=form.complement_deadline,
            repay_cents=repay,
            reason=form.comment,
            granted_cents=granted_cents(session, report),
            today=paris_today(),
        )
    )
    if decision == ExamenDecision.REWORK:
        report.complement_deadline = form.complement_deadline
        return Applied(deadline=form.complement_deadline)
    if decision == ExamenDecision.NON_COMPLIANT:
        report.repay_cents = repay
        return Applied(amount_cents=repay)
    return Applied(amount_cents=report.used_cents)
