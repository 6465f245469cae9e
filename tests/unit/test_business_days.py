from datetime import date

from models.reminders import business_days_between, is_business_day, latest_late_opening, step_action


def test_weekends_and_french_public_holidays_are_not_business_days():
    assert is_business_day(date(2026, 7, 13))  # Monday
    assert not is_business_day(date(2026, 7, 14))  # fête nationale, a Tuesday
    assert not is_business_day(date(2026, 7, 18))  # Saturday
    assert not is_business_day(date(2026, 5, 14))  # Ascension


def test_business_days_are_counted_after_the_start_up_to_the_end():
    assert business_days_between(date(2026, 7, 10), date(2026, 7, 17)) == 4  # Mon 13, Wed 15, Thu 16, Fri 17
    assert business_days_between(date(2026, 7, 17), date(2026, 7, 10)) == 0


def test_a_step_is_reminded_after_its_service_level_then_escalated_once():
    late = dict(opened_on=date(2026, 6, 1), today=date(2026, 6, 22), sla=10, before_escalation=2)
    assert step_action(**late, reminders_sent=0, escalated=False)[0] == "reminder"
    assert step_action(**late, reminders_sent=2, escalated=False)[0] == "escalation"
    assert step_action(**late, reminders_sent=2, escalated=True)[0] is None
    assert step_action(**{**late, "today": date(2026, 6, 5)}, reminders_sent=0, escalated=False)[0] is None
    assert step_action(**{**late, "today": date(2026, 6, 20)}, reminders_sent=0, escalated=False)[0] is None  # Saturday


def test_the_latest_late_opening_day_is_exactly_one_business_day_past_the_service_level():
    today = date(2026, 7, 17)
    last = latest_late_opening(today, 10)
    assert business_days_between(last, today) == 11
    assert business_days_between(last + (date(2026, 1, 2) - date(2026, 1, 1)), today) <= 10
