"""What the lists and follow-up tables show, as pure rules: who can be awaited, the filters an
agent may give (checked, with a French message and a stable code each), and how a case's wait
reads against its service level."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from models.actors import ROLE_LABELS, Role
from models.errors import RuleViolation, Violation
from models.reminders import Lateness, business_days_between

# Who a case can be waiting for: the State's agents by role, or the applicants themselves.
APPLICANT = "demandeur"  # the collectivité or association asked for a document or a complement
AWAITED_LABELS: dict[str, str] = {
    **{role.value: label for role, label in ROLE_LABELS.items() if role != Role.ADMIN},
    APPLICANT: "le demandeur (collectivité ou association)",
}
DEPARTEMENT_CODE = re.compile(r"^(?:[0-9]{2}|2[AB]|97[1-6])$")


@dataclass(frozen=True)
class ListFilter:
    """What an agent narrows a list to; None or False: no narrowing."""

    departement: str | None = None
    status: str | None = None
    year: int | None = None
    awaited: str | None = None
    late: bool = False


def check_filter(
    *,
    statuses: Mapping[str, str],
    known_departements: set[str],
    departement: str | None = None,
    status: str | None = None,
    year: int | None = None,
    awaited: str | None = None,
    late: bool = False,
) -> ListFilter:
    """The filter, or RuleViolation naming every bad field: an unknown département, a status the
    kind of case does not have (``statuses``: code → French label), an unknown awaited party."""
    problems = []
    dep = None if departement is None else departement.strip().upper()
    if dep is not None and (not DEPARTEMENT_CODE.match(dep) or dep not in known_departements):
        problems.append(
            Violation(
                "DEPARTEMENT_INCONNU",
                "departement",
                f"« {departement[:10]} » n'est pas un département connu (ex. : 86, 2A, 974)",
            )
        )
    if status is not None and status not in statuses:
        choices = ", ".join(f"{code} ({label})" for code, label in statuses.items())
        problems.append(
            Violation("STATUT_INCONNU", "statut", f"« {status[:40]} » : statut inconnu ; valeurs possibles : {choices}")
        )
    if awaited is not None and awaited not in AWAITED_LABELS:
        choices = ", ".join(f"{code} ({label})" for code, label in AWAITED_LABELS.items())
        problems.append(Violation("ATTENDU_INCONNU", "attendu", f"« {awaited[:40]} » : valeurs possibles : {choices}"))
    if problems:
        raise RuleViolation(problems)
    return ListFilter(departement=dep, status=status, year=year, awaited=awaited, late=late)


@dataclass(frozen=True)
class Wait:
    """What a case waits for now: its step, who is awaited, and where it stands against its
    service level (``lateness``; None: no service level, e.g. a request queued for the next batch)."""

    step_label: str
    awaited: str
    lateness: Lateness | None = None
    run_id: str | None = None

    @property
    def late(self) -> bool:
        return self.lateness is not None and self.lateness.late

    def columns(self) -> dict:
        """The list columns every kind of case shares (French keys, ISO dates)."""
        lateness = self.lateness
        return {
            "etape_en_cours": self.step_label,
            "attendu": self.awaited,
            "attendu_libelle": AWAITED_LABELS[self.awaited],
            "depuis": lateness.since.isoformat() if lateness else None,
            "delai_jours_ouvres": lateness.sla_days if lateness else None,
            "echeance": lateness.deadline.isoformat() if lateness else None,
            "retard_jours_ouvres": lateness.late_days if lateness else 0,
            "en_retard": self.late,
        }


NO_WAIT = {
    "etape_en_cours": None,
    "attendu": None,
    "attendu_libelle": None,
    "depuis": None,
    "delai_jours_ouvres": None,
    "echeance": None,
    "retard_jours_ouvres": 0,
    "en_retard": False,
}


def applicant_lateness(asked_on: date, deadline: date, today: date) -> Lateness:
    """An applicant asked for a complement by a given date: late once that date has passed."""
    return Lateness(
        since=asked_on,
        sla_days=business_days_between(asked_on, deadline),
        deadline=deadline,
        late_days=business_days_between(deadline, today),
    )


def keep(wait: Wait | None, flt: ListFilter) -> bool:
    """Whether a case's wait passes the « awaited » and « en retard » filters."""
    if flt.awaited is not None and (wait is None or wait.awaited != flt.awaited):
        return False
    return not flt.late or (wait is not None and wait.late)
