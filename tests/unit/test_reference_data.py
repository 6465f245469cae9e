import pytest

from models.reference import UnknownCampaign, campaign_rules, load_departements


def test_all_101_departements_are_shipped_with_their_region():
    deps = load_departements()
    assert len(deps) == 101
    assert len({d.code for d in deps}) == 101
    by_code = {d.code: d for d in deps}
    assert by_code["86"].nom == "Vienne" and by_code["86"].region == "Nouvelle-Aquitaine"
    assert by_code["2A"].region == "Corse" and by_code["976"].nom == "Mayotte"
    assert len({d.region for d in deps}) == 18


def test_campaign_rules_are_data_per_year():
    r2021, r2022 = campaign_rules(2021), campaign_rules(2022)
    assert r2021.socle_min_cents == 15_000_000 and r2021.socle_max_cents == 30_000_000
    assert r2021.seuil_convention_cents == 2_300_000
    assert r2021.domaines_min == 1 and not r2021.logement_obligatoire
    assert r2022.domaines_min == 2 and r2022.logement_obligatoire


def test_an_unknown_campaign_is_refused_with_its_code():
    with pytest.raises(UnknownCampaign, match="CAMPAGNE_INCONNUE"):
        campaign_rules(1999)
