"""What the compte rendu of a comité changes: the date held, the participants, the actions
reviewed with the comité's decision on each (and its flags for the yearly review), the minutes;
or the comité's cancellation with its reason. The engine runs the handler in a savepoint: a
refused compte rendu leaves nothing behind."""

from __future__ import annotations

from models.errors import RuleViolation, raise_if_any
from models.pilotage import (
    ActionDecisionInput,
    Comite,
    ComiteActionReview,
    ComiteDecision,
    ComiteParticipant,
    check_cancel,
    check_minutes,
    reviewed_actions,
)
from models.types import paris_today
from services.engine.forms import required
from services.engine.kind import Applied
from services.pilotage import records
from services.pilotage.forms import CompteRenduForm


def decisions_of(form: CompteRenduForm) -> list[ActionDecisionInput]:
    return [
        ActionDecisionInput(d.action_id, d.decision or None, d.flag_for_review, d.reason or None)
        for d in form.decisions
    ]


def compte_rendu(session, comite: Comite, decision: ComiteDecision, form: CompteRenduForm) -> Applied:
    if decision == ComiteDecision.CANCEL:
        raise_if_any(check_cancel(form.comment))
        comite.cancel_reason = form.comment.strip()
        return Applied()
    today = paris_today()
    held_on = required(form.held_on, "held_on", "Date de tenue du comité")  # its bounds: check_minutes
    choices = decisions_of(form)
    allowed = {a.id: a for a in records.actions(session, comite)}
    violations = check_minutes(
        held_on=held_on,
        planned_on=comite.planned_on,
        today=today,
        participants=len(form.participants),
        reviewed_ids=list(form.reviewed_action_ids),
        decisions=choices,
        allowed_action_ids=set(allowed),
    )
    if violations:
        raise RuleViolation(violations)
    comite.held_on = held_on
    comite.minutes = (form.minutes or "").strip() or None
    for position, p in enumerate(form.participants, start=1):
        session.add(ComiteParticipant(comite_id=comite.id, position=position, name=p.name, function=p.function or None))
    by_action = {d.action_id: d for d in choices}
    for action_id in reviewed_actions(list(form.reviewed_action_ids), choices):
        d = by_action.get(action_id)
        session.add(
            ComiteActionReview(
                comite_id=comite.id,
                ctai_id=allowed[action_id].ctai_id,
                action_id=action_id,
                decision=d.decision.strip() if d and d.decision else None,
                flag_for_review=bool(d and d.flag_for_review),
                reason=d.reason.strip() if d and d.flag_for_review and d.reason else None,
            )
        )
    session.flush()
    return Applied()
