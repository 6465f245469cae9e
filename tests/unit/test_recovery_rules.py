"""The sweep's rules (models/recovery.py): what brings an open step back, for every state a run
can be in."""

from __future__ import annotations

from datetime import timedelta

import pytest

from models.recovery import Action, RecoveryPolicy, StepFacts, diagnose
from services.engine.runs import pause_key
from services.engine.waiting import attempt_of

POLICY = RecoveryPolicy()
MINUTE = timedelta(minutes=1)


def facts(**changes) -> StepFacts:
    base = dict(
        has_run=True, run_state="PAUSED", state_age=MINUTE, reserved_age=timedelta(days=3), worker="alive", restarts=0
    )
    return StepFacts(**{**base, **changes})


@pytest.mark.parametrize("state", ["PAUSED", "SCHEDULED"])
def test_a_run_waiting_for_an_answer_or_for_its_worker_is_left_alone(state):
    assert diagnose(facts(run_state=state, state_age=timedelta(days=30)), POLICY).action == Action.NONE


@pytest.mark.parametrize(
    "state,words",
    [("FAILED", "en échec"), ("CRASHED", "plantée"), ("CANCELLED", "annulée"), ("CANCELLING", "annulation")],
)
def test_a_failed_crashed_or_cancelled_run_is_run_again_from_the_top(state, words):
    found = diagnose(facts(run_state=state), POLICY)
    assert found.action == Action.RESCHEDULE and words in found.reason


def test_a_run_prefect_no_longer_knows_is_replaced_by_a_new_run():
    found = diagnose(facts(run_state=None), POLICY)
    assert found.action == Action.RECREATE and "inconnue" in found.reason


def test_a_reserved_step_whose_run_was_never_created_gets_it_after_a_grace():
    young = facts(has_run=False, run_state=None, reserved_age=POLICY.starting_grace - MINUTE)
    old = facts(has_run=False, run_state=None, reserved_age=POLICY.starting_grace + MINUTE)
    assert diagnose(young, POLICY).action == Action.NONE
    assert diagnose(old, POLICY).action == Action.START


def test_a_running_run_whose_process_died_is_run_again_at_once():
    found = diagnose(facts(run_state="RUNNING", state_age=timedelta(seconds=5), worker="dead"), POLICY)
    assert found.action == Action.RESCHEDULE and "processus" in found.reason


def test_a_running_run_with_a_live_process_is_left_alone_however_long_it_runs():
    assert (
        diagnose(facts(run_state="RUNNING", state_age=timedelta(days=2), worker="alive"), POLICY).action == Action.NONE
    )


def test_a_running_run_that_never_opened_its_step_is_given_a_few_minutes():
    soon = facts(run_state="RUNNING", state_age=POLICY.unrecorded_grace - MINUTE, worker="unrecorded")
    late = facts(run_state="RUNNING", state_age=POLICY.unrecorded_grace + MINUTE, worker="unrecorded")
    assert diagnose(soon, POLICY).action == Action.NONE
    assert diagnose(late, POLICY).action == Action.RESCHEDULE


def test_a_run_executing_on_another_host_is_given_hours_before_it_is_called_dead():
    recent = facts(run_state="RUNNING", state_age=timedelta(hours=1), worker="elsewhere")
    stale = facts(run_state="RUNNING", state_age=POLICY.foreign_zombie_after + MINUTE, worker="elsewhere")
    assert diagnose(recent, POLICY).action == Action.NONE
    assert diagnose(stale, POLICY).action == Action.RESCHEDULE


def test_a_run_stuck_before_running_is_run_again_after_a_grace():
    assert diagnose(facts(run_state="PENDING", state_age=MINUTE), POLICY).action == Action.NONE
    assert (
        diagnose(facts(run_state="PENDING", state_age=POLICY.pending_grace + MINUTE), POLICY).action
        == Action.RESCHEDULE
    )


def test_a_run_completed_while_its_step_stays_open_is_run_again():
    assert diagnose(facts(run_state="COMPLETED"), POLICY).action == Action.RESCHEDULE


@pytest.mark.parametrize("state", ["FAILED", None])
def test_a_step_restarted_too_often_is_left_to_an_operator(state):
    found = diagnose(facts(run_state=state, restarts=POLICY.max_restarts), POLICY)
    assert found.action == Action.ESCALATE and f"{POLICY.max_restarts} fois" in found.reason
    forced = RecoveryPolicy(max_restarts=10**6)
    assert diagnose(facts(run_state=state, restarts=POLICY.max_restarts), forced).action in (
        Action.RESCHEDULE,
        Action.RECREATE,
    )


def test_the_keys_of_the_waits_change_with_each_restart_and_keep_their_attempt():
    assert pause_key("revue_diair", 3) == "revue-diair-3"
    assert pause_key("revue_diair", 3, 2) == "revue-diair-3-r2"
    assert attempt_of(pause_key("revue_diair", 3)) == 3
    assert attempt_of(pause_key("revue_diair", 3, 2)) == 3
    assert attempt_of("revue-diair") is None and attempt_of(None) is None
