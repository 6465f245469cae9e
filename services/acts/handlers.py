"""What the préfet's answer on an act changes: its signature (name, title, date), or the refusal
with its reason. The PDF, its seal and the letters follow in ``workflow.after_decision``."""

from __future__ import annotations

from models.acts import ActSignatureDecision, LegalAct, check_signature
from models.errors import RuleViolation, Violation, raise_if_any
from models.types import paris_today
from services.acts.forms import SignatureActeForm
from services.engine.kind import Applied


def signature(session, act: LegalAct, decision: ActSignatureDecision, form: SignatureActeForm) -> Applied:
    if decision == ActSignatureDecision.REJECT:
        if not (form.comment or "").strip():
            raise RuleViolation(
                [
                    Violation(
                        "MOTIF_MANQUANT",
                        "comment",
                        "indiquez le motif du refus de signature (il est transmis à l'instruction)",
                    )
                ]
            )
        act.refusal_reason = form.comment.strip()
        return Applied()
    raise_if_any(
        check_signature(
            signatory=form.signatory_name,
            title=form.signatory_title,
            signed_on=form.signed_on,
            year=act.year,
            today=paris_today(),
        )
    )
    act.signatory_name, act.signatory_title, act.signed_on = (
        form.signatory_name.strip(),
        form.signatory_title.strip(),
        form.signed_on,
    )
    return Applied(amount_cents=act.total_cents)
