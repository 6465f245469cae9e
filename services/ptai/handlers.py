"""What each PTAI step's decision changes in the request (the handlers the engine calls).

The instructeur gives an opinion (favourable with a proposed amount, unfavourable with its
motifs) or asks for complements; the préfet decides, whatever the opinion. The legal acts (R13)
are recomputed after each decision, once its status is applied (``PtaiCase.after_decision``)."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session

from models.errors import RuleViolation, Violation, raise_if_any
from models.money import euros_to_cents
from models.ptai import (
    InstructionDecision,
    PtaiRequest,
    ValidationDecision,
    check_prefet_amount,
    check_validated_amount,
)
from models.types import paris_today
from services.engine.forms import dated, required
from services.engine.kind import Applied
from services.ptai.forms import InstructionForm, ValidationForm

MAX_REWORK_DAYS = 365  # the applicant answers within the year


def instruction(
    session: Session, request: PtaiRequest, decision: InstructionDecision, form: InstructionForm
) -> Applied:
    if decision == InstructionDecision.FAVOURABLE:
        proposed = euros_to_cents(required(form.amount_eur, "amount_eur", "Montant proposé (euros)"))
        raise_if_any(check_validated_amount(proposed, request.requested_cents))
        request.proposed_cents = proposed
        request.opinion, request.opinion_reasons = InstructionDecision.FAVOURABLE, (form.comment or None)
        return Applied(amount_cents=proposed)
    if decision == InstructionDecision.UNFAVOURABLE:
        reasons = required(form.comment, "comment", "Motifs de l'avis défavorable")
        if form.amount_eur is not None:
            raise RuleViolation(
                [
                    Violation(
                        "MONTANT_SANS_OBJET",
                        "amount_eur",
                        "un avis défavorable ne propose pas de montant : laissez ce champ vide",
                    )
                ]
            )
        request.proposed_cents = None
        request.opinion, request.opinion_reasons = InstructionDecision.UNFAVOURABLE, reasons
        return Applied()
    if decision == InstructionDecision.REWORK:
        required(form.comment, "comment", "Compléments demandés")
        deadline = required(form.rework_deadline, "rework_deadline", "Date limite de réponse")
        if deadline <= paris_today():
            raise RuleViolation(
                [Violation("DATE_LIMITE_PASSEE", "rework_deadline", "la date limite de réponse doit être future")]
            )
        dated(
            deadline,
            "rework_deadline",
            "Date limite de réponse",
            latest=paris_today() + timedelta(days=MAX_REWORK_DAYS),
        )
        request.rework_deadline = deadline
        request.opinion = request.opinion_reasons = None
        return Applied(deadline=deadline)
    return Applied()


def validation(session: Session, request: PtaiRequest, decision: ValidationDecision, form: ValidationForm) -> Applied:
    if decision == ValidationDecision.REJECT:
        required(form.comment, "comment", "Motifs du rejet")
        return Applied()
    validated = euros_to_cents(form.amount_eur) if form.amount_eur is not None else None
    if request.opinion == InstructionDecision.UNFAVOURABLE:
        validated = euros_to_cents(
            required(form.amount_eur, "amount_eur", "Montant validé (euros) : l'avis de l'instruction est défavorable")
        )
        required(form.comment, "comment", "Motifs de la validation malgré l'avis défavorable de l'instruction")
    raise_if_any(check_prefet_amount(validated, request.proposed_cents, request.requested_cents, request.opinion))
    request.proposed_cents = validated if validated is not None else request.proposed_cents
    return Applied(amount_cents=request.proposed_cents)
