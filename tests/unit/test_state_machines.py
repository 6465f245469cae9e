import pytest

from models.actors import Role
from models.ctai import Ctai, CtaiStatus
from models.errors import RuleViolation, TransitionNotAllowed, Violation
from models.ptai import PtaiRequest, PtaiStatus
from services.ctai.steps import CTAI_MACHINE, apply_decision
from services.ptai.steps import PTAI_MACHINE
from services.ptai.steps import apply_decision as apply_ptai


def _ctai(status):
    return Ctai(collectivite_id=1, first_year=2021, last_year=2023, status=status)


def test_ctai_steps_follow_the_procedure_from_letter_to_execution():
    ctai = _ctai(CtaiStatus.AWAITING_LETTER)
    for decision in ("received", "held", "approve", "skip"):
        apply_decision(ctai, decision)
    assert ctai.status == CtaiStatus.PROPOSAL
    apply_decision(ctai, "approve", checks=[])
    apply_decision(ctai, "sign", checks=[])
    apply_decision(ctai, "approve", checks=[])
    assert ctai.status == CtaiStatus.ACTIVE


def test_a_transition_missing_from_the_table_raises_a_typed_error():
    ctai = _ctai(CtaiStatus.AWAITING_LETTER)
    with pytest.raises(TransitionNotAllowed) as exc:
        apply_decision(ctai, "sign")
    assert exc.value.code == "TRANSITION_INTERDITE"
    assert "received" in str(exc.value)
    assert ctai.status == CtaiStatus.AWAITING_LETTER


def test_signing_with_a_broken_rule_leaves_the_contract_unchanged():
    ctai = _ctai(CtaiStatus.SIGNATURE)
    with pytest.raises(RuleViolation) as exc:
        apply_decision(ctai, "sign", checks=[Violation("R5_LOGEMENT_OBLIGATOIRE", "actions", "…")])
    assert exc.value.codes == ["R5_LOGEMENT_OBLIGATOIRE"]
    assert ctai.status == CtaiStatus.SIGNATURE


def test_guarded_transitions_cannot_be_applied_without_their_checks():
    with pytest.raises(ValueError, match="requires rule checks"):
        apply_decision(_ctai(CtaiStatus.SIGNATURE), "sign")


def test_only_the_prefet_signs_and_only_the_diair_reviews_actions():
    assert CTAI_MACHINE.transition(CtaiStatus.SIGNATURE, "sign").role == Role.PREFET
    assert CTAI_MACHINE.transition(CtaiStatus.DIAIR_REVIEW, "approve").role == Role.DIAIR


def test_terminal_ctai_statuses_allow_no_decision():
    for status in (CtaiStatus.ENDED, CtaiStatus.REFUSED, CtaiStatus.REPLACED):
        assert CTAI_MACHINE.allowed(status) == []


def test_every_ctai_status_is_reachable_from_a_letter_or_a_ctair_widening():
    reached = {CtaiStatus.AWAITING_LETTER, CtaiStatus.WIDENING}
    frontier = list(reached)
    while frontier:
        for t in CTAI_MACHINE.allowed(frontier.pop()):
            if t.target not in reached:
                reached.add(t.target)
                frontier.append(t.target)
    assert reached == set(CtaiStatus)


def test_ptai_chain_goes_from_submission_to_delegated_credits_with_a_rework_round_trip():
    request = PtaiRequest(status=PtaiStatus.SUBMITTED)
    for decision in ("rework", "completed", "favourable", "validate", "batched", "delegated"):
        apply_ptai(request, decision)
    assert request.status == PtaiStatus.DELEGATED


def test_a_delegated_request_cannot_be_delegated_again():
    with pytest.raises(TransitionNotAllowed):
        apply_ptai(PtaiRequest(status=PtaiStatus.DELEGATED), "delegated")


def test_an_unfavourable_opinion_goes_to_the_prefet_who_decides_either_way():
    for final, decision in ((PtaiStatus.TRANSMITTED, "validate"), (PtaiStatus.REJECTED, "reject")):
        request = PtaiRequest(status=PtaiStatus.SUBMITTED)
        apply_ptai(request, "unfavourable")
        assert request.status == PtaiStatus.PREFET_VALIDATION
        apply_ptai(request, decision)
        assert request.status == final
    assert PTAI_MACHINE.transition(PtaiStatus.SUBMITTED, "unfavourable").role == Role.INSTRUCTEUR
    assert {t.role for t in PTAI_MACHINE.allowed(PtaiStatus.PREFET_VALIDATION)} == {Role.PREFET}


def test_the_ministry_reduces_postpones_or_refuses_a_request_of_a_batch():
    assert PTAI_MACHINE.transition(PtaiStatus.IN_BATCH, "reduced").target == PtaiStatus.IN_BATCH
    assert PTAI_MACHINE.transition(PtaiStatus.IN_BATCH, "postponed").target == PtaiStatus.TRANSMITTED
    assert PTAI_MACHINE.transition(PtaiStatus.IN_BATCH, "refused").target == PtaiStatus.REJECTED
    for decision in ("reduced", "postponed", "refused"):
        assert PTAI_MACHINE.transition(PtaiStatus.IN_BATCH, decision).role == Role.MINISTERE
        with pytest.raises(TransitionNotAllowed):
            PTAI_MACHINE.transition(PtaiStatus.TRANSMITTED, decision)
    assert PTAI_MACHINE.transition(PtaiStatus.IN_BATCH, "delegation_failed").target == PtaiStatus.TRANSMITTED
    with pytest.raises(TransitionNotAllowed):
        PTAI_MACHINE.transition(PtaiStatus.IN_BATCH, "excluded")


def test_a_bulk_move_gives_the_target_status_and_a_fresh_timestamp_for_the_source_it_leaves():
    transition, values = PTAI_MACHINE.moved(PtaiStatus.IN_BATCH, "delegated")
    assert transition.source == PtaiStatus.IN_BATCH and values["status"] == PtaiStatus.DELEGATED
    assert values["updated_at"].tzinfo is not None
    with pytest.raises(TransitionNotAllowed):
        PTAI_MACHINE.moved(PtaiStatus.SUBMITTED, "delegated")


def test_a_guarded_transition_is_never_moved_in_bulk_and_checks_given_to_any_transition_are_enforced():
    with pytest.raises(ValueError, match="guarded"):
        CTAI_MACHINE.moved(CtaiStatus.SIGNATURE, "sign")
    request = PtaiRequest(status=PtaiStatus.PREFET_VALIDATION)
    with pytest.raises(RuleViolation):
        PTAI_MACHINE.apply(request, "validate", checks=[Violation("MONTANT_SUPERIEUR_A_LA_DEMANDE", "amount_eur", "…")])
    assert request.status == PtaiStatus.PREFET_VALIDATION


def test_a_batch_is_approved_only_with_its_envelope_check_and_delegated_only_once_approved():
    from models.delegation import BatchStatus, DelegationBatch
    from services.finance.steps import BATCH_MACHINE

    batch = DelegationBatch(year=2021)
    with pytest.raises(ValueError, match="requires rule checks"):
        BATCH_MACHINE.apply(batch, "approve")
    with pytest.raises(RuleViolation):
        BATCH_MACHINE.apply(batch, "approve", checks=[Violation("ENVELOPPE_DEPASSEE", "decision", "…")])
    with pytest.raises(TransitionNotAllowed):
        BATCH_MACHINE.apply(batch, "exclude", checks=[])  # per-request decisions are fields of the approval
    with pytest.raises(TransitionNotAllowed):
        BATCH_MACHINE.apply(batch, "delegated")
    BATCH_MACHINE.apply(batch, "approve", checks=[])
    BATCH_MACHINE.apply(batch, "delegated")
    assert batch.status == BatchStatus.DELEGATED
