"""Reminders, as pure rules: French business days, service levels, escalation."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from importlib import resources

import holidays
from sqlalchemy import UniqueConstraint
from sqlmodel import Column, Field, SQLModel

from models.types import UtcDateTime, utcnow


class ReminderSent(SQLModel, table=True):
    """One row per item, kind and day: a run repeated the same day sends nothing new."""

    __tablename__ = "reminder_sent"
    __table_args__ = (UniqueConstraint("item_key", "kind", "day", name="uq_reminder_sent"),)

    id: int | None = Field(default=None, primary_key=True)
    item_key: str = Field(max_length=120, index=True)
    kind: str = Field(max_length=30)  # reminder, escalation, applicant_reminder, closed
    day: date
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))


@dataclass(frozen=True)
class Policy:
    sla: dict[str, int]
    reminders_before_escalation: int
    escalate_to: dict[str, str]
    applicant_days_before: int
    letter_due: tuple[int, int]  # (month, day) in year N-1 of a contract starting in year N
    letter_days_before: int
    review_opens: tuple[int, int]  # (month, day) in year Y+1 for the bilan of year Y

    def sla_for(self, entity: str, step: str) -> int:
        return self.sla.get(f"{entity}:{step}", self.sla["default"])

    def letter_deadline(self, first_year: int) -> date:
        return date(first_year - 1, *self.letter_due)


@lru_cache
def policy() -> Policy:
    data = json.loads(resources.files("models").joinpath("data/reminders.json").read_text(encoding="utf-8"))
    return Policy(
        sla=data["sla_business_days"],
        reminders_before_escalation=data["reminders_before_escalation"],
        escalate_to=data["escalate_to"],
        applicant_days_before=data["applicant_reminder_business_days_before_deadline"],
        letter_due=_month_day(data["engagement_letter_due_in_year_before"]),
        letter_days_before=data["engagement_letter_reminder_business_days_before"],
        review_opens=_month_day(data["yearly_review_opens_in_following_year"]),
    )


def _month_day(text: str) -> tuple[int, int]:
    month, day = (int(x) for x in text.split("-"))
    date(2024, month, day)  # refuses an impossible date (2024 has a 29 February)
    return month, day


@lru_cache(maxsize=32)
def _holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("FR", years=[year]))


def is_business_day(day: date) -> bool:
    """Monday to Friday, and not a French public holiday (python-holidays)."""
    return day.weekday() < 5 and day not in _holidays(day.year)


def business_days_between(start: date, end: date) -> int:
    """Business days after ``start`` up to and including ``end`` (0 when end <= start)."""
    count, day = 0, start + timedelta(days=1)
    while day <= end:
        count += is_business_day(day)
        day += timedelta(days=1)
    return count


@lru_cache(maxsize=256)
def latest_late_opening(today: date, sla: int) -> date:
    """The last opening day still late today: opened on it or before, a step is past its SLA."""
    day = today
    while business_days_between(day, today) < sla + 1:
        day -= timedelta(days=1)
    return day


def step_action(
    *, opened_on: date, today: date, sla: int, reminders_sent: int, escalated: bool, before_escalation: int
) -> tuple[str | None, int]:
    """What a waiting step calls for today: None, "reminder" or "escalation"; and the number of
    business days past its service level."""
    late = business_days_between(opened_on, today) - sla
    if not is_business_day(today) or late <= 0:
        return None, max(late, 0)
    if reminders_sent < before_escalation:
        return "reminder", late
    return (None if escalated else "escalation"), late


def letter_action(*, today: date, deadline: date, days_before: int, reminded: bool, alerted: bool) -> str | None:
    """For a contract still awaiting its lettre d'engagement: "letter_reminder" to the
    collectivité when the deadline is near, "letter_overdue" once it has passed; on business days."""
    if not is_business_day(today):
        return None
    if today > deadline:
        return None if alerted else "letter_overdue"
    if business_days_between(today, deadline) <= days_before and not reminded:
        return "letter_reminder"
    return None


def review_year_due(*, today: date, first_year: int, last_year: int, opens: tuple[int, int]) -> int | None:
    """The year Y whose bilan is due for opening today, if any: from its opening date in Y+1
    (on the first business day from then), for the years the contract covers."""
    year = today.year - 1
    if not is_business_day(today) or today < date(today.year, *opens) or not first_year <= year <= last_year:
        return None
    return year


def step_deadline(opened_on: date, sla: int) -> date:
    """The last day a step opened on ``opened_on`` is on time: its ``sla``-th business day after."""
    day, counted = opened_on, 0
    while counted < sla:
        day += timedelta(days=1)
        counted += is_business_day(day)
    return day


@dataclass(frozen=True)
class Lateness:
    """Where a waiting step stands today against its service level (French business days)."""

    since: date
    sla_days: int
    deadline: date
    late_days: int  # business days past the deadline; 0 while on time

    @property
    def late(self) -> bool:
        return self.late_days > 0


def lateness(opened_on: date, today: date, sla: int) -> Lateness:
    """Late exactly when the reminders call it late (``step_action``): more than ``sla`` business
    days since it opened."""
    return Lateness(
        since=opened_on,
        sla_days=sla,
        deadline=step_deadline(opened_on, sla),
        late_days=max(business_days_between(opened_on, today) - sla, 0),
    )
