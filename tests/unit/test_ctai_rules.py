from models.actors import CollectiviteType
from models.ctai import DiairReview, check_actions, check_contract, check_diagnostic, check_diair_review, check_funding, check_signatory
from models.reference import Domain, P104Action, Public, campaign_rules
from tests.factories import action, diagnostic, funding

RULES = campaign_rules(2021)


def codes(violations):
    return [v.code for v in violations]


def test_metropoles_and_communes_may_sign_a_ctai():
    assert check_signatory(CollectiviteType.METROPOLE, RULES) == []
    assert check_signatory(CollectiviteType.COMMUNE, RULES) == []


def test_a_signatory_type_outside_the_campaign_list_is_refused():
    rules = RULES.__class__(**{**RULES.__dict__, "ctai_signataires": ("metropole",)})
    assert codes(check_signatory(CollectiviteType.COMMUNE, rules)) == ["R1_SIGNATAIRE_NON_ELIGIBLE"]


def test_a_socle_between_150k_and_300k_passes():
    assert check_funding([funding(socle="150000"), funding(year=2022, socle="300000")], Public.BPI, RULES) == []


def test_a_socle_outside_150k_300k_is_refused_with_r4():
    violations = check_funding([funding(socle="149999.99"), funding(year=2022, socle="300000.01")], Public.BPI, RULES)
    assert codes(violations) == ["R4_SOCLE_HORS_BORNES", "R4_SOCLE_HORS_BORNES"]
    assert "150\u202f000\u00a0€" in violations[0].message


def test_complementary_credits_need_the_opening_to_primo_arrivants():
    assert codes(check_funding([funding(complementary="50000")], Public.BPI, RULES)) == ["R4_COMPLEMENTAIRE_NON_JUSTIFIE"]
    assert check_funding([funding(complementary="50000")], Public.PRIMO_ARRIVANTS, RULES) == []


def test_a_negative_socle_is_refused():
    assert "MONTANT_NEGATIF" in codes(check_funding([funding(socle="-1")], Public.BPI, RULES))


def test_a_contract_without_housing_action_is_refused_with_r5():
    violations = check_actions([action(domain=Domain.EMPLOI)], Public.BPI, [funding()])
    assert codes(violations) == ["R5_LOGEMENT_OBLIGATOIRE"]
    assert "logement" in violations[0].message


def test_primo_arrivant_actions_need_a_widened_contract():
    widened = action(public=Public.PRIMO_ARRIVANTS, p104=P104Action.PRIMO_ARRIVANTS)
    assert codes(check_actions([widened], Public.BPI, [funding()])) == ["R2_PUBLIC_NON_ELARGI"]
    assert check_actions([widened], Public.PRIMO_ARRIVANTS, [funding()]) == []


def test_action_15_is_reserved_to_bpi_only_actions():
    wrong = action(public=Public.PRIMO_ARRIVANTS, p104=P104Action.REFUGIES)
    assert codes(check_actions([wrong], Public.PRIMO_ARRIVANTS, [funding()])) == ["R17_ACTION_P104"]
    assert codes(check_actions([action(p104=13)], Public.BPI, [funding()])) == ["R17_ACTION_P104"]


def test_actions_above_the_yearly_credits_are_refused():
    actions = [action(amount="100000"), action(domain=Domain.EMPLOI, amount="60000")]
    assert codes(check_actions(actions, Public.BPI, [funding(socle="150000")])) == ["R4_ACTIONS_DEPASSENT_ENVELOPPE"]


def test_actions_in_a_year_without_funding_are_refused():
    assert codes(check_actions([action(year=2023)], Public.BPI, [funding(year=2021)])) == ["R4_FINANCEMENT_ABSENT"]


def test_a_ctai_needs_a_validated_diagnostic():
    assert codes(check_diagnostic(None)) == ["R6_DIAGNOSTIC_OBLIGATOIRE"]
    assert codes(check_diagnostic(diagnostic(validated=False))) == ["R6_DIAGNOSTIC_OBLIGATOIRE"]
    assert check_diagnostic(diagnostic()) == []


def test_every_retained_action_must_be_found_compliant_by_the_diair():
    actions = [action(review=DiairReview.COMPLIANT), action(review=DiairReview.REWORK, title="Emploi")]
    violations = check_diair_review(actions)
    assert codes(violations) == ["R12_REVUE_DIAIR"] and "Emploi" in violations[0].message


def test_poitiers_2021_contract_passes_every_rule():
    actions = [action(amount="150000"),
               action(public=Public.PRIMO_ARRIVANTS, p104=P104Action.PRIMO_ARRIVANTS, amount="50000")]
    assert check_contract(collectivite_type=CollectiviteType.COMMUNE, scope=Public.PRIMO_ARRIVANTS,
                          funding=[funding(socle="150000", complementary="50000")], actions=actions,
                          diagnostic=diagnostic(), rules=RULES) == []
