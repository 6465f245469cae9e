"""Typed errors carrying stable codes (for scripts) and French messages (for people)."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Violation:
    """One broken rule: ``code`` is stable, ``message`` is French and says how to fix it."""

    code: str
    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)

    def __str__(self) -> str:
        return f"[{self.code}] {self.field} : {self.message}"


class DomainError(Exception):
    """Base for every refusal the domain can give."""

    code = "ERREUR_METIER"

    @property
    def message(self) -> str:
        """The French message without its ``[CODE]`` prefix (the code travels apart)."""
        return str(self).removeprefix(f"[{self.code}] ")


class NotFound(DomainError):
    """A record asked for by its number does not exist."""

    code = "INTROUVABLE"


class RuleViolation(DomainError):
    """One or more business rules are broken; nothing may be stored."""

    code = "REGLES_NON_RESPECTEES"

    def __init__(self, violations: list[Violation]):
        if not violations:
            raise ValueError("RuleViolation needs at least one violation")
        self.violations = list(violations)
        super().__init__("; ".join(str(v) for v in self.violations))

    @property
    def codes(self) -> list[str]:
        return [v.code for v in self.violations]


class TransitionNotAllowed(DomainError):
    """A transition that the state machine's table does not contain."""

    code = "TRANSITION_INTERDITE"

    def __init__(self, entity: str, status: str, decision: str, allowed: list[str]):
        self.entity, self.status, self.decision, self.allowed = entity, status, decision, allowed
        choices = ", ".join(allowed) if allowed else "aucune"
        super().__init__(
            f"[{self.code}] {entity} au statut « {status} » : la décision « {decision} » "
            f"n'est pas possible (décisions possibles : {choices})"
        )


def raise_if_any(violations: list[Violation]) -> None:
    if violations:
        raise RuleViolation(violations)
