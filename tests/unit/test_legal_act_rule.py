"""R13: the act follows the total granted to one beneficiary in one year, PTAI and CTAI alike."""

from models.rules import FundedLine, legal_acts

THRESHOLD = 2_300_000  # 23 000 €


def threshold(year: int) -> int:
    return THRESHOLD


def line(key, cents, beneficiary=("porteur", 1), year=2021, table="ptai"):
    return FundedLine((table, key), beneficiary, year, cents)


def test_a_porteur_granted_exactly_the_threshold_gets_an_arrete():
    assert legal_acts([line(1, 2_300_000)], threshold) == {("ptai", 1): "arrete"}


def test_a_porteur_granted_one_cent_above_the_threshold_gets_a_convention():
    assert legal_acts([line(1, 2_300_001)], threshold) == {("ptai", 1): "convention"}


def test_two_small_requests_of_one_porteur_in_one_year_add_up_to_a_convention():
    acts = legal_acts([line(1, 1_500_000), line(2, 1_000_000)], threshold)
    assert acts == {("ptai", 1): "convention", ("ptai", 2): "convention"}


def test_a_ctai_action_and_a_ptai_request_of_one_porteur_add_up():
    acts = legal_acts([line(1, 2_000_000), line(7, 500_000, table="action")], threshold)
    assert acts == {("ptai", 1): "convention", ("action", 7): "convention"}


def test_the_same_amounts_in_two_years_stay_below_the_threshold_each_year():
    acts = legal_acts([line(1, 2_000_000, year=2021), line(2, 2_000_000, year=2022)], threshold)
    assert set(acts.values()) == {"arrete"}


def test_two_porteurs_are_never_added_together():
    acts = legal_acts([line(1, 2_000_000, ("porteur", 1)), line(2, 2_000_000, ("porteur", 2))], threshold)
    assert set(acts.values()) == {"arrete"}


def test_the_poitiers_amounts_of_coallia_and_toit_du_monde_call_for_conventions():
    acts = legal_acts(
        [
            line(1, 4_000_000, ("porteur", 1), table="action"),
            line(2, 5_000_000, ("porteur", 2), table="action"),
            line(3, 1_500_000, ("porteur", 3), table="action"),
        ],
        threshold,
    )
    assert acts == {("action", 1): "convention", ("action", 2): "convention", ("action", 3): "arrete"}


def test_the_threshold_of_each_line_s_own_year_applies():
    def by_year(year):
        return 1_000_000 if year == 2022 else THRESHOLD

    acts = legal_acts([line(1, 2_000_000, year=2021), line(2, 2_000_000, year=2022)], by_year)
    assert acts == {("ptai", 1): "arrete", ("ptai", 2): "convention"}
