import json

import pytest

from models.actors import Porteur
from models.cerfa import check_submission, parse_request_file
from models.errors import RuleViolation
from models.ptai import check_validated_amount
from models.reference import campaign_rules
from models.rules import legal_act_for
from tests.factories import valid_request

RULES = campaign_rules(2021)


EXAMPLE_PORTEUR = valid_request()["porteur"]


def violations_of(data, *, known=True, porteur=None, rules=RULES):
    f = parse_request_file(json.dumps(data))
    return check_submission(f, collectivite_found=known, registered_porteur=porteur, rules=rules)


def codes(data, **kw):
    return [v.code for v in violations_of(data, **kw)]


def test_the_shipped_example_passes_every_rule():
    assert violations_of(valid_request()) == []


def test_a_bpi_only_request_needs_a_justification_and_a_widening_perspective():
    data = valid_request(**{"projet.public.categories": ["refugie"]})
    assert codes(data) == ["R3_JUSTIFICATION_BPI", "R3_PERSPECTIVE_ELARGISSEMENT"]


def test_a_justified_bpi_only_request_coded_action_15_passes():
    data = valid_request(**{"projet.public.categories": ["refugie", "protection_subsidiaire"],
                            "projet.public.justification_bpi": "Public hébergé en CPH",
                            "projet.public.perspective_elargissement": "Ouverture en 2022",
                            "budget.action_p104": 15})
    assert codes(data) == []


def test_ineligible_publics_are_refused_with_r9():
    data = valid_request(**{"projet.public.categories": ["primo_arrivant", "demandeur_asile"]})
    assert codes(data) == ["R9_PUBLIC_NON_ELIGIBLE"]


def test_unknown_bpi_categories_are_refused_with_r10():
    assert codes(valid_request(**{"projet.public.categories": ["apatride"]})) == ["R10_CATEGORIE_BPI"]


def test_a_residence_longer_than_five_years_is_not_primo_arrivant():
    assert codes(valid_request(**{"projet.public.anciennete_max_annees": 8})) == ["R8_PRIMO_ARRIVANT"]


def test_the_collectivite_must_state_its_engagement():
    assert codes(valid_request(engagement_collectivite=[])) == ["R7_ENGAGEMENT_COLLECTIVITE"]
    bad = [{"type": "sponsoring", "montant_eur": "10.00"}, {"type": "salle"}]
    assert codes(valid_request(engagement_collectivite=bad)) == ["R7_ENGAGEMENT_COLLECTIVITE"] * 2


def test_the_complementarity_with_the_cir_must_be_explained():
    assert codes(valid_request(**{"projet.complementarite_cir": "  "})) == ["R11_COMPLEMENTARITE_CIR"]


def test_an_invalid_siret_is_refused_with_r15():
    assert codes(valid_request(**{"porteur.siret": "12345678901234"})) == ["R15_SIRET_INVALIDE"]


def test_a_cultuelle_association_is_refused_whether_declared_or_registered():
    assert codes(valid_request(**{"porteur.cultuelle": True})) == ["R15_ASSOCIATION_CULTUELLE"]
    registered = Porteur(name=EXAMPLE_PORTEUR["nom"], siret="x", email=EXAMPLE_PORTEUR["email"], cultuelle=True)
    assert codes(valid_request(), porteur=registered) == ["R15_ASSOCIATION_CULTUELLE"]


def test_a_porteur_with_a_missing_compte_rendu_cannot_ask_again():
    registered = Porteur(name=EXAMPLE_PORTEUR["nom"], siret="x", email=EXAMPLE_PORTEUR["email"], compte_rendu_manquant=True)
    assert codes(valid_request(), porteur=registered) == ["R14_COMPTE_RENDU_MANQUANT"]


def test_investment_is_refused_with_r16():
    assert codes(valid_request(**{"budget.nature": "investissement"})) == ["R16_INVESTISSEMENT_EXCLU"]


def test_a_negative_amount_is_refused():
    assert codes(valid_request(**{"budget.montant_demande_eur": "-500.00"})) == ["MONTANT_NEGATIF"]


def test_the_request_cannot_exceed_the_project_cost():
    assert codes(valid_request(**{"budget.montant_demande_eur": "40000.00"})) == ["MONTANT_SUPERIEUR_AU_COUT"]


def test_an_unknown_collectivite_is_refused():
    assert codes(valid_request(), known=False) == ["COLLECTIVITE_INCONNUE"]


def test_from_2022_two_domains_including_housing_are_required():
    data = valid_request(campagne=2022)
    assert codes(data, rules=campaign_rules(2022)) == ["R5_LOGEMENT_OBLIGATOIRE"]
    data = valid_request(campagne=2022, **{"projet.domaines": ["logement"]})
    assert codes(data, rules=campaign_rules(2022)) == ["R5_DOMAINES_MINIMUM"]


def test_every_broken_rule_is_reported_at_once():
    data = valid_request(**{"budget.nature": "investissement", "porteur.cultuelle": True,
                            "projet.complementarite_cir": None})
    assert set(codes(data, known=False)) == {"COLLECTIVITE_INCONNUE", "R16_INVESTISSEMENT_EXCLU",
                                             "R15_ASSOCIATION_CULTUELLE", "R11_COMPLEMENTARITE_CIR"}


def test_malformed_json_gives_its_line_and_column():
    with pytest.raises(RuleViolation) as exc:
        parse_request_file('{"campagne": 2021,\n  "demandeur": }')
    assert exc.value.codes == ["JSON_INVALIDE"]
    assert "ligne 2" in exc.value.violations[0].message


def test_schema_errors_name_the_field_in_french():
    data = valid_request(**{"budget.cout_total_eur": "beaucoup"})
    del data["projet"]["intitule"]
    data["inconnu"] = 1
    with pytest.raises(RuleViolation) as exc:
        parse_request_file(json.dumps(data))
    found = {(v.code, v.field) for v in exc.value.violations}
    assert ("CHAMP_MANQUANT", "projet.intitule") in found
    assert ("CHAMP_INVALIDE", "budget.cout_total_eur") in found
    assert ("CHAMP_INVALIDE", "inconnu") in found


def test_a_convention_is_required_above_23000_euros():
    assert legal_act_for(2_300_000, RULES) == "arrete"
    assert legal_act_for(2_300_001, RULES) == "convention"


def test_the_prefet_may_validate_at_most_the_requested_amount():
    assert check_validated_amount(1_000_000, 1_800_000) == []
    assert [v.code for v in check_validated_amount(1_800_001, 1_800_000)] == ["MONTANT_SUPERIEUR_A_LA_DEMANDE"]
