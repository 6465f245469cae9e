import json

import pytest

from models.actors import Porteur
from models.cerfa import check_submission, parse_request_file
from models.delegation import Arbitrage, BatchItem, Reduction, check_arbitrage, check_envelope, retained
from models.errors import RuleViolation
from models.ptai import check_prefet_amount, check_validated_amount
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
    data = valid_request(
        **{
            "projet.public.categories": ["refugie", "protection_subsidiaire"],
            "projet.public.justification_bpi": "Public hébergé en CPH",
            "projet.public.perspective_elargissement": "Ouverture en 2022",
            "budget.action_p104": 15,
        }
    )
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
    registered = Porteur(
        name=EXAMPLE_PORTEUR["nom"], siret="x", email=EXAMPLE_PORTEUR["email"], compte_rendu_manquant=True
    )
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
    data = valid_request(
        **{"budget.nature": "investissement", "porteur.cultuelle": True, "projet.complementarite_cir": None}
    )
    assert set(codes(data, known=False)) == {
        "COLLECTIVITE_INCONNUE",
        "R16_INVESTISSEMENT_EXCLU",
        "R15_ASSOCIATION_CULTUELLE",
        "R11_COMPLEMENTARITE_CIR",
    }


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


# --- Campaign years, R8 -----------------------------------------------------------------------


@pytest.mark.parametrize("year", [2019, 2020])
def test_no_ptai_is_accepted_for_2019_or_2020_when_the_instrument_did_not_exist(year):
    data = valid_request(
        campagne=year, **{"projet.date_debut": f"{year}-09-01", "projet.date_fin": f"{year + 1}-08-31"}
    )
    found = violations_of(data, rules=campaign_rules(year))
    assert [v.code for v in found] == ["CAMPAGNE_PTAI_INEXISTANTE"]
    assert f"n'existait pas en {year}" in found[0].message and found[0].field == "campagne"


def test_from_2021_the_ptai_campaigns_are_open_and_the_merged_rules_hold_from_2022():
    assert campaign_rules(2021).ptai_ouvert and not campaign_rules(2019).ptai_ouvert
    assert (campaign_rules(2021).domaines_min, campaign_rules(2021).logement_obligatoire) == (1, False)
    assert (campaign_rules(2022).domaines_min, campaign_rules(2022).logement_obligatoire) == (2, True)
    assert {campaign_rules(y).ctai_duree_annees for y in range(2019, 2028)} == {3}
    data = valid_request(campagne=2022, **{"projet.domaines": ["logement", "emploi"]})
    assert codes(data, rules=campaign_rules(2022)) == []


def test_r8_a_public_settled_up_to_five_years_passes_and_its_message_says_the_same_limit():
    assert codes(valid_request(**{"projet.public.anciennete_max_annees": 5})) == []
    found = violations_of(valid_request(**{"projet.public.anciennete_max_annees": 6}))
    assert [v.code for v in found] == ["R8_PRIMO_ARRIVANT"]
    message = found[0].message
    assert "5 ans au plus" in message and "(6 ans)" in message and "moins de" not in message


# --- The préfet decides after the instructeur's opinion ----------------------------------------


def test_after_a_favourable_opinion_the_prefet_validates_at_the_proposed_amount_or_less():
    assert check_prefet_amount(None, 1_500_000, 2_000_000, "favourable") == []  # empty: the amount proposed
    assert check_prefet_amount(1_000_000, 1_500_000, 2_000_000, "favourable") == []
    assert [v.code for v in check_prefet_amount(1_500_001, 1_500_000, 2_000_000, "favourable")] == [
        "MONTANT_SUPERIEUR_A_LA_PROPOSITION"
    ]


def test_after_an_unfavourable_opinion_the_prefet_must_fix_an_amount_within_the_request():
    assert [v.code for v in check_prefet_amount(None, None, 2_000_000, "unfavourable")] == ["MONTANT_A_FIXER"]
    assert check_prefet_amount(2_000_000, None, 2_000_000, "unfavourable") == []
    assert [v.code for v in check_prefet_amount(2_000_001, None, 2_000_000, "unfavourable")] == [
        "MONTANT_SUPERIEUR_A_LA_DEMANDE"
    ]
    assert [v.code for v in check_prefet_amount(-1, None, 2_000_000, "unfavourable")] == ["MONTANT_NEGATIF"]


# --- The ministry's decisions per request, and the envelope --------------------------------------

ITEMS = [BatchItem(1, "86", 12, 1_000_000), BatchItem(2, "86", 12, 2_000_000), BatchItem(3, "38", 15, 3_000_000)]
REFS = {1: "PTAI-86-2021-00001", 2: "PTAI-86-2021-00002", 3: "PTAI-38-2021-00003"}


def arbitrage_codes(plan, postponements=None):
    return [v.code for v in check_arbitrage(ITEMS, plan, postponements or {}, REFS)]


def test_a_batch_retains_every_request_not_listed_and_delegates_reduced_amounts():
    plan = Arbitrage(
        reductions=(Reduction(2, 1_500_000, "coût de personnel surévalué"),),
        postponed=(1,),
        postpone_reason="pièces à vérifier",
        refused=(),
        refusal_reason=None,
    )
    assert arbitrage_codes(plan) == []
    assert [(i.request_id, i.amount_cents) for i in retained(ITEMS, plan)] == [(2, 1_500_000), (3, 3_000_000)]
    assert retained(ITEMS, Arbitrage()) == ITEMS


def test_a_reduction_lowers_the_amount_above_zero_with_its_reason():
    assert arbitrage_codes(Arbitrage(reductions=(Reduction(2, 2_000_000, "motif"),))) == ["REDUCTION_NON_INFERIEURE"]
    assert arbitrage_codes(Arbitrage(reductions=(Reduction(2, 0, "motif"),))) == ["REDUCTION_INVALIDE"]
    assert arbitrage_codes(Arbitrage(reductions=(Reduction(2, 1_000, " "),))) == ["CHAMP_MANQUANT"]


def test_a_request_can_be_postponed_once_only_and_postponing_or_refusing_needs_a_reason():
    assert arbitrage_codes(Arbitrage(postponed=(1,), postpone_reason="à revoir"), {1: 1}) == ["DEMANDE_DEJA_REPORTEE"]
    assert arbitrage_codes(Arbitrage(postponed=(1,), postpone_reason="à revoir"), {1: 0}) == []
    assert arbitrage_codes(Arbitrage(postponed=(1,))) == ["CHAMP_MANQUANT"]
    assert arbitrage_codes(Arbitrage(refused=(3,))) == ["CHAMP_MANQUANT"]


def test_a_request_outside_the_batch_or_given_two_decisions_is_refused():
    assert arbitrage_codes(Arbitrage(refused=(9,), refusal_reason="hors champ")) == ["DEMANDE_HORS_LOT"]
    both = Arbitrage(postponed=(3,), postpone_reason="à revoir", refused=(3,), refusal_reason="hors champ")
    assert arbitrage_codes(both) == ["DECISIONS_CONTRADICTOIRES"]


def test_the_envelope_counts_approved_batches_not_yet_delegated_and_says_by_how_much_it_is_over():
    assert check_envelope(4_000_000, 10_000_000, 3_000_000, 2021, approved_cents=3_000_000) == []
    over = check_envelope(4_000_001, 10_000_000, 3_000_000, 2021, approved_cents=3_000_000)
    assert [v.code for v in over] == ["ENVELOPPE_DEPASSEE"]
    assert "dépasse de 0,01\u00a0€" in over[0].message and "lots approuvés en cours de délégation" in over[0].message
    assert [v.code for v in check_envelope(1, None, 0, 2021)] == ["ENVELOPPE_ABSENTE"]
