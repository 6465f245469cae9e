"""What people read on the terminal: dates in Paris time, amounts with their cents, written once
(``models.french``, ``models.money``) for the command line, the letters and the acts."""

from datetime import UTC, date, datetime

from models.french import NBSP, NNBSP, date_courte, date_fr, datetime_fr, horodatage, initiale
from models.money import format_eur


def test_a_time_stamp_reads_in_paris_time_with_the_short_french_month():
    assert horodatage(datetime(2026, 12, 7, 13, 5, tzinfo=UTC)) == "7 déc. 2026 14:05"  # winter: UTC+1
    assert horodatage("2026-06-30T22:30:00+00:00") == "1er juil. 2026 00:30"  # summer: the next day in Paris
    assert horodatage(None) == "—" and date_courte("") == "—"


def test_a_short_date_says_1er_for_the_first_of_the_month():
    assert date_courte(date(2026, 12, 7)) == "7 déc. 2026"
    assert date_courte("2019-01-01") == "1er janv. 2019"


def test_a_date_in_words_is_the_same_for_letters_and_acts():
    assert date_fr(date(2021, 7, 1)) == "1er juillet 2021" and date_fr("2021-10-21") == "21 octobre 2021"
    assert date_fr(datetime(2021, 10, 20, 23, 30, tzinfo=UTC)) == "21 octobre 2021"  # already the 21st in Paris
    assert datetime_fr(datetime(2021, 11, 4, 17, 0, tzinfo=UTC)) == "4 novembre 2021 à 18 h 00"


def test_an_amount_is_grouped_with_a_narrow_no_break_space_and_shows_its_cents_when_asked():
    assert format_eur(750_000, centimes=True) == f"7{NNBSP}500,00{NBSP}€"
    assert format_eur(750_000) == f"7{NNBSP}500{NBSP}€"  # the letters' form: no « ,00 »
    assert format_eur(123_450) == f"1{NNBSP}234,50{NBSP}€"
    assert format_eur(-1_200, centimes=True) == f"-12,00{NBSP}€"


def test_a_capital_first_letter_keeps_the_rest_as_written():
    assert initiale("cerfa n° 12156") == "Cerfa n° 12156" and initiale("") == ""
