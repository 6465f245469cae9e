"""What each PTAI step's decision changes in the request (the handlers the engine calls)."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session

from models.errors import RuleViolation, Violation, raise_if_any
from models.money import euros_to_cents
from models.ptai import PtaiRequest, check_prefet_amount, check_validated_amount
from models.types import paris_today
from services.engine.forms import dated, required

MAX_REWORK_DAYS = 365  # the applicant answers within the year
from services.engine.kind import Applied
from services.ptai.forms import InstructionForm, ValidationForm


def instruction(session: Session, request: PtaiRequest, decision: str, form: InstructionForm) -> Applied:
    if decision == "favourable":
        proposed = euros_to_cents(required(form.amount_eur, "amount_eur", "Montant proposé (euros)"))
        raise_if_any(check_validated_amount(proposed, request.requested_cents))
        request.proposed_cents = proposed
        return Applied(amount_cents=proposed)
    if decision == "unfavourable":
        required(form.comment, "comment", "Motifs de l'avis défavorable")
    if decision == "rework":
        required(form.comment, "comment", "Compléments demandés")
        deadline = required(form.rework_deadline, "rework_deadline", "Date limite de réponse")
        if deadline <= paris_today():
            raise RuleViolation([Violation("DATE_LIMITE_PASSEE", "rework_deadline", "la date limite de réponse doit être future")])
        dated(deadline, "rework_deadline", "Date limite de réponse", latest=paris_today() + timedelta(days=MAX_REWORK_DAYS))
        request.rework_deadline = deadline
        return Applied(deadline=deadline)
    return Applied()


def validation(session: Session, request: PtaiRequest, decision: str, form: ValidationForm) -> Applied:
    if decision == "reject":
        required(form.comment, "comment", "Motifs du rejet")
        return Applied()
    validated = euros_to_cents(form.amount_eur) if form.amount_eur is not None else request.proposed_cents
    raise_if_any(check_prefet_amount(validated, request.proposed_cents))
    request.proposed_cents = validated
    return Applied(amount_cents=validated)
