"""Explicit transition tables: (status, decision) -> new status. Anything else is refused.

The table is the only writer of a case's status: ``apply`` moves one record (checking the
transition's guard and stamping ``updated_at``), ``moved`` gives the column values of a bulk
``UPDATE … WHERE status = source`` for many records at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from models.actors import Role
from models.errors import TransitionNotAllowed, Violation, raise_if_any
from models.types import utcnow


@dataclass(frozen=True)
class Transition:
    step: str
    source: StrEnum
    decision: str
    target: StrEnum
    role: Role | None  # who decides; None for the system or the applicant
    label: str  # French, shown on forms and in emails
    guarded: bool = False  # applied only with the rule checks it requires, all passed


class Stateful(Protocol):
    status: str
    updated_at: datetime


class StateMachine:
    def __init__(self, entity: str, transitions: list[Transition]):
        self.entity = entity
        self._table: dict[tuple[str, str], Transition] = {}
        for t in transitions:
            key = (str(t.source), t.decision)
            if key in self._table:
                raise ValueError(f"duplicate transition {key} in {entity}")
            self._table[key] = t

    def transitions(self) -> list[Transition]:
        return list(self._table.values())

    def allowed(self, status: str) -> list[Transition]:
        return [t for (source, _), t in self._table.items() if source == str(status)]

    def transition(self, status: str, decision: str) -> Transition:
        try:
            return self._table[(str(status), decision)]
        except KeyError:
            raise TransitionNotAllowed(
                self.entity, str(status), decision, [t.decision for t in self.allowed(status)]
            ) from None

    def apply(self, record: Stateful, decision: str, *, checks: list[Violation] | None = None) -> Transition:
        """Moves ``record`` along the table. A guarded transition needs its rule ``checks``;
        any violation of the checks given refuses the change and leaves the record as it was."""
        transition = self.transition(record.status, decision)
        if transition.guarded and checks is None:
            raise ValueError(f"transition {record.status}/{decision} requires rule checks")
        raise_if_any(checks or [])
        record.status = transition.target
        record.updated_at = utcnow()
        return transition

    def moved(self, source: StrEnum, decision: str) -> tuple[Transition, dict]:
        """The transition and the column values that a bulk UPDATE of records at ``source``
        sets; the caller restricts the UPDATE to ``status = transition.source``."""
        transition = self.transition(source, decision)
        if transition.guarded:
            raise ValueError(f"transition {source}/{decision} is guarded: apply it record by record")
        return transition, {"status": transition.target, "updated_at": utcnow()}
