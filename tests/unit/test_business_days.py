from datetime import date

from models.reminders import (
    business_days_between,
    is_business_day,
    latest_late_opening,
    letter_action,
    review_year_due,
    step_action,
)


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


def test_the_engagement_letter_is_reminded_fifteen_business_days_before_the_deadline_then_signalled_once_after_it():
    given = dict(deadline=date(2026, 12, 31), days_before=15, reminded=False, alerted=False)
    assert letter_action(today=date(2026, 12, 8), **given) is None  # 16 business days left
    assert letter_action(today=date(2026, 12, 9), **given) == "letter_reminder"  # 15 (25 December excluded)
    assert letter_action(today=date(2026, 12, 10), **{**given, "reminded": True}) is None
    assert letter_action(today=date(2027, 1, 1), **given) is None  # jour de l'an
    assert letter_action(today=date(2027, 1, 4), **given) == "letter_overdue"
    assert letter_action(today=date(2027, 1, 5), **{**given, "alerted": True}) is None


def test_the_bilan_of_a_year_is_due_from_mid_january_of_the_next_year_for_the_years_the_contract_covers():
    contract = dict(first_year=2026, last_year=2028, opens=(1, 15))
    assert review_year_due(today=date(2027, 1, 14), **contract) is None
    assert review_year_due(today=date(2027, 1, 15), **contract) == 2026
    assert review_year_due(today=date(2027, 1, 16), **contract) is None  # Saturday
    assert review_year_due(today=date(2029, 3, 1), **contract) == 2028
    assert review_year_due(today=date(2030, 1, 15), **contract) is None  # 2029 is not covered
    assert review_year_due(today=date(2026, 2, 2), **contract) is None  # 2025 precedes the contract
