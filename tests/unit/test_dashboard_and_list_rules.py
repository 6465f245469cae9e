"""The pure rules behind the lists and the dashboard: a step's deadline and lateness in French
business days, the filters agents give, the territory groups, the bars and the euros axis."""

from __future__ import annotations

from datetime import date

import pytest

from demo.national import _split
from documents.charts import euros_axis
from models.dashboard import group_of, territories_text
from models.errors import RuleViolation
from models.listing import APPLICANT, ListFilter, Wait, applicant_lateness, check_filter, keep
from models.reminders import is_business_day, lateness, step_action, step_deadline

STATUSES = {"active": "en cours d'exécution", "ended": "terminé"}


def test_a_steps_deadline_skips_weekends_and_french_public_holidays():
    assert step_deadline(date(2026, 12, 4), 1) == date(2026, 12, 7)  # Friday → Monday
    assert step_deadline(date(2026, 12, 24), 1) == date(2026, 12, 28)  # 25 December is a holiday
    assert step_deadline(date(2026, 4, 30), 2) == date(2026, 5, 5)  # Friday 1 May is a holiday


@pytest.mark.parametrize("today", [date(2026, 12, d) for d in range(1, 31)])
def test_lateness_agrees_with_the_reminders_on_every_day(today):
    opened, sla = date(2026, 11, 20), 10
    action, late = step_action(
        opened_on=opened, today=today, sla=sla, reminders_sent=0, escalated=False, before_escalation=2
    )
    seen = lateness(opened, today, sla)
    assert seen.late_days == late and seen.late == (late > 0)
    if is_business_day(today):  # on a weekend after the deadline, nobody is late before Monday
        assert seen.late == (today > seen.deadline)


def test_an_applicant_is_late_once_the_date_given_has_passed():
    assert not applicant_lateness(date(2026, 11, 2), date(2026, 12, 4), date(2026, 12, 4)).late
    assert applicant_lateness(date(2026, 11, 2), date(2026, 12, 4), date(2026, 12, 7)).late_days == 1


def test_a_filter_is_normalised_and_every_bad_field_named_at_once():
    assert check_filter(statuses=STATUSES, known_departements={"2A", "86"}, departement=" 2a ") == ListFilter(
        departement="2A"
    )
    with pytest.raises(RuleViolation) as refused:
        check_filter(statuses=STATUSES, known_departements={"86"}, departement="20", status="signé", awaited="maire")
    assert [v.code for v in refused.value.violations] == ["DEPARTEMENT_INCONNU", "STATUT_INCONNU", "ATTENDU_INCONNU"]
    assert "en cours d'exécution" in refused.value.violations[1].message  # the valid choices, in French


def test_the_awaited_and_late_filters_keep_only_matching_waits():
    late = Wait("signature", "prefet", lateness(date(2026, 10, 1), date(2026, 12, 4), 10))
    fresh = Wait("complément", APPLICANT, lateness(date(2026, 12, 3), date(2026, 12, 4), 10))
    assert keep(late, ListFilter(awaited="prefet", late=True)) and not keep(fresh, ListFilter(late=True))
    assert not keep(None, ListFilter(awaited="prefet")) and keep(None, ListFilter())
    assert keep(fresh, ListFilter(awaited=APPLICANT)) and not keep(late, ListFilter(awaited=APPLICANT))


def test_territories_are_grouped_and_counted_as_the_ministry_reports_them():
    assert territories_text({"communes": 28, "metropoles_epci": 13, "departements": 2, "regions": 1}) == (
        "28 communes, 13 métropoles ou EPCI, 2 conseils départementaux, 1 conseil régional"
    )
    assert [group_of(t) for t in ("commune", "metropole", "epci", "communaute_urbaine", "departement", "region")] == [
        "communes",
        "metropoles_epci",
        "metropoles_epci",
        "metropoles_epci",
        "departements",
        "regions",
    ]


def test_the_euros_axis_reads_in_millions_thousands_and_euros():
    assert euros_axis(11_000_000_00) == "11 M€" and euros_axis(1_500_000_00) == "1,5 M€"
    assert euros_axis(250_000_00) == "250 k€" and euros_axis(900_00) == "900 €"


@pytest.mark.parametrize("weights", [[1], [5, 30, 7], [1] * 44, [3, 1, 4, 1, 5, 9, 2, 6]])
def test_a_split_adds_up_exactly_in_whole_euros(weights):
    parts = _split(11_000_000_00, weights)
    assert sum(parts) == 11_000_000_00 and all(p % 100 == 0 and p > 0 for p in parts)
