"""Explicit transition tables: (status, decision) -> new status. Anything else is refused."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from models.actors import Role
from models.errors import TransitionNotAllowed


@dataclass(frozen=True)
class Transition:
    step: str
    source: StrEnum
    decision: str
    target: StrEnum
    role: Role | None  # who decides; None for the system or the applicant
    label: str  # French, shown on forms and in emails


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

    def step_of(self, status: str) -> str | None:
        steps = {t.step for t in self.allowed(status)}
        return steps.pop() if len(steps) == 1 else None
