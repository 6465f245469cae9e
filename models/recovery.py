"""What to do with an open step, given what Prefect says of its run: the sweep's rules.

A step is open in the database (``step_run`` not done) while a Prefect run carries it. The two
can part: the run fails on a database error, its process is killed, someone cancels it, Prefect
loses it, or the process that was creating it dies first. ``diagnose`` reads the facts and says
what brings the step back: nothing, create the reserved run, run the same run again from the top
(its form, its codes and its links stay valid), or create a new run for the step (Prefect no
longer knows the old one). After ``max_restarts`` the sweep stops restarting and asks an operator.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum


class Action(StrEnum):
    NONE = "aucune"
    START = "demarrer"  # the step is reserved but its run was never created: create it (same key)
    RESCHEDULE = "relancer"  # the run is dead: run it again from the top
    RECREATE = "recreer"  # Prefect does not know the run any more: a new run for the step
    ESCALATE = "signaler"  # restarted too often: an operator looks


ACTION_LABELS = {
    Action.START: "exécution créée",
    Action.RESCHEDULE: "exécution relancée",
    Action.RECREATE: "nouvelle exécution",
    Action.ESCALATE: "intervention requise",
}

# Prefect's state types
HEALTHY_WAITING = {"PAUSED", "SCHEDULED"}
DEAD = {"FAILED": "en échec", "CRASHED": "plantée", "CANCELLED": "annulée", "CANCELLING": "en cours d'annulation"}


@dataclass(frozen=True)
class RecoveryPolicy:
    starting_grace: timedelta = timedelta(minutes=2)  # a run being created right now is left alone
    pending_grace: timedelta = timedelta(minutes=5)  # a run stuck between « scheduled » and « running »
    unrecorded_grace: timedelta = timedelta(minutes=5)  # running, but no process opened the step since it started
    foreign_zombie_after: timedelta = timedelta(hours=6)  # running on another host: no way to check its process
    max_restarts: int = 5


@dataclass(frozen=True)
class StepFacts:
    """``run_state``: Prefect's state type, None when Prefect does not know the run;
    ``worker``: the process that opened the step for the current execution of the run is
    ``alive``, ``dead``, ``elsewhere`` (another host: it cannot be checked) or ``unrecorded``
    (no process has opened the step since the run last started)."""

    has_run: bool
    run_state: str | None
    state_age: timedelta
    reserved_age: timedelta
    worker: str
    restarts: int


@dataclass(frozen=True)
class Diagnosis:
    action: Action
    reason: str  # in French, for the operators' email and ``approvals list``

    @property
    def needs_repair(self) -> bool:
        return self.action != Action.NONE


def diagnose(facts: StepFacts, policy: RecoveryPolicy = RecoveryPolicy()) -> Diagnosis:
    found = _finding(facts, policy)
    if found is None:
        return Diagnosis(Action.NONE, "")
    action, reason = found
    if action in (Action.RESCHEDULE, Action.RECREATE) and facts.restarts >= policy.max_restarts:
        return Diagnosis(
            Action.ESCALATE, f"{reason} ; déjà relancée {facts.restarts} fois, elle n'est plus relancée automatiquement"
        )
    return Diagnosis(action, reason)


def _finding(f: StepFacts, policy: RecoveryPolicy) -> tuple[Action, str] | None:
    if not f.has_run:
        if f.reserved_age < policy.starting_grace:
            return None
        return Action.START, "la création de l'exécution a été interrompue"
    state = f.run_state
    if state is None:
        return Action.RECREATE, "l'exécution est inconnue du serveur Prefect"
    if state in HEALTHY_WAITING:
        return None
    if state in DEAD:
        return Action.RESCHEDULE, f"l'exécution est {DEAD[state]}"
    if state == "PENDING":
        if f.state_age < policy.pending_grace:
            return None
        return Action.RESCHEDULE, "l'exécution est restée bloquée au démarrage"
    if state == "RUNNING":
        if f.worker == "dead":
            return Action.RESCHEDULE, "le processus qui exécutait l'étape s'est arrêté"
        limit = {"unrecorded": policy.unrecorded_grace, "elsewhere": policy.foreign_zombie_after}.get(f.worker)
        if limit is not None and f.state_age >= limit:
            return Action.RESCHEDULE, "l'exécution ne donne plus signe de vie"
        return None
    if state == "COMPLETED":
        return Action.RESCHEDULE, "l'exécution s'est terminée sans clore l'étape"
    return None
