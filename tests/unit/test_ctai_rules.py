import json
from datetime import date
from pathlib import Path

from models.actors import CollectiviteType
from models.ctai import (
    DiairReview,
    PorteurFacts,
    ReviewProposal,
    check_action_porteurs,
    check_action_reviews,
    check_actions,
    check_contract,
    check_ctair,
    check_diagnostic,
    check_diair_review,
    check_funding,
    check_review_proposal,
    check_review_signature,
    check_review_year,
    check_signatory,
    check_signatures,
    default_review_year,
    domains_min,
    duration_years,
)
from models.money import euros_to_cents
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
    assert codes(check_funding([funding(complementary="50000")], Public.BPI, RULES)) == [
        "R4_COMPLEMENTAIRE_NON_JUSTIFIE"
    ]
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
    actions = [
        action(amount="100000"),
        action(domain=Domain.EMPLOI, public=Public.PRIMO_ARRIVANTS, p104=P104Action.PRIMO_ARRIVANTS, amount="60000"),
    ]
    assert codes(check_actions(actions, Public.PRIMO_ARRIVANTS, [funding(socle="150000")])) == [
        "R4_ACTIONS_DEPASSENT_ENVELOPPE"
    ]


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
    actions = [
        action(amount="150000"),
        action(public=Public.PRIMO_ARRIVANTS, p104=P104Action.PRIMO_ARRIVANTS, amount="50000"),
    ]
    assert (
        check_contract(
            collectivite_type=CollectiviteType.COMMUNE,
            scope=Public.PRIMO_ARRIVANTS,
            funding=[funding(socle="150000", complementary="50000")],
            actions=actions,
            diagnostic=diagnostic(),
            rules=RULES,
        )
        == []
    )


# --- R4: the complementary credits in proportion, the socle for the BPI actions ---------------

PRIMO = {"public": Public.PRIMO_ARRIVANTS, "p104": P104Action.PRIMO_ARRIVANTS}


def test_complementary_credits_up_to_the_primo_arrivants_actions_pass():
    actions = [action(amount="150000"), action(domain=Domain.FRANCAIS, amount="50000", **PRIMO)]
    assert check_actions(actions, Public.PRIMO_ARRIVANTS, [funding(complementary="50000")], RULES) == []


def test_complementary_credits_beyond_the_primo_arrivants_actions_are_refused_with_both_amounts():
    actions = [action(amount="100000"), action(domain=Domain.FRANCAIS, amount="20000", **PRIMO)]
    violations = check_actions(actions, Public.PRIMO_ARRIVANTS, [funding(complementary="50000")], RULES)
    assert codes(violations) == ["R4_COMPLEMENTAIRE_DISPROPORTIONNE"]
    assert violations[0].field == "financement[2021].complementaire"
    assert "50\u202f000\u00a0€" in violations[0].message and "20\u202f000\u00a0€" in violations[0].message


def test_complementary_credits_without_any_primo_arrivants_action_are_refused():
    violations = check_actions(
        [action(amount="150000")], Public.PRIMO_ARRIVANTS, [funding(complementary="10000")], RULES
    )
    assert codes(violations) == ["R4_COMPLEMENTAIRE_DISPROPORTIONNE"]


def test_bpi_actions_beyond_the_socle_are_refused_even_within_the_envelope():
    actions = [action(amount="160000"), action(domain=Domain.FRANCAIS, amount="20000", **PRIMO)]
    violations = check_actions(actions, Public.PRIMO_ARRIVANTS, [funding(complementary="50000")], RULES)
    assert codes(violations) == ["R4_ACTIONS_BPI_AU_DELA_DU_SOCLE", "R4_COMPLEMENTAIRE_DISPROPORTIONNE"]
    assert "160\u202f000\u00a0€" in violations[0].message


def test_bpi_actions_equal_to_the_socle_pass():
    assert check_actions([action(amount="150000")], Public.BPI, [funding()], RULES) == []


# --- R15 / R16 for a contract's porteurs and actions -----------------------------------------


def _carried(porteur_id=7, **kw):
    a = action(**kw)
    a.porteur_id = porteur_id
    return a


def test_an_action_carried_by_a_porteur_with_a_valid_siret_passes():
    from demo.data import fictitious_siret

    assert check_action_porteurs([_carried()], {7: PorteurFacts(fictitious_siret(1), False)}) == []
    assert check_action_porteurs([action()], {}) == []  # carried by the collectivité


def test_a_porteur_with_an_invalid_siret_is_refused_with_r15_on_the_action():
    violations = check_action_porteurs([action(), _carried()], {7: PorteurFacts("12345678901234", False)})
    assert codes(violations) == ["R15_SIRET_INVALIDE"] and violations[0].field == "actions[1].porteur_siret"


def test_a_cultuelle_porteur_is_refused_with_r15():
    from demo.data import fictitious_siret

    violations = check_action_porteurs([_carried()], {7: PorteurFacts(fictitious_siret(2), True)})
    assert codes(violations) == ["R15_ASSOCIATION_CULTUELLE"] and violations[0].field == "actions[0].porteur_siret"


def test_an_investment_action_is_refused_with_r16():
    invest = action()
    invest.nature = "investissement"
    violations = check_actions([invest], Public.BPI, [funding()], RULES)
    assert codes(violations) == ["R16_INVESTISSEMENT_EXCLU"] and violations[0].field == "actions[0].nature"
    assert check_actions([action()], Public.BPI, [funding()], RULES) == []  # fonctionnement by default


# --- Each funded year by its own campaign -----------------------------------------------------


def test_from_2022_each_year_needs_two_domains_one_of_them_housing():
    assert domains_min(campaign_rules(2022)) == 2
    actions = [action(year=2021, amount="150000"), action(year=2022, amount="150000")]
    violations = check_actions(actions, Public.BPI, [funding(2021), funding(2022)], campaign_rules)
    assert codes(violations) == ["R5_DOMAINES_MINIMUM"] and violations[0].field == "actions[2022]"
    no_housing = [
        action(year=2021, amount="100000"),
        action(year=2022, domain=Domain.EMPLOI, amount="50000"),
        action(year=2022, domain=Domain.SANTE, amount="50000"),
    ]
    violations = check_actions(no_housing, Public.BPI, [funding(2021), funding(2022)], campaign_rules)
    assert codes(violations) == ["R5_LOGEMENT_OBLIGATOIRE"] and violations[0].field == "actions[2022]"


def test_2021_keeps_its_own_rules_when_the_contract_runs_into_2022():
    actions = [
        action(year=2021, amount="150000"),
        action(year=2022, amount="100000"),
        action(year=2022, domain=Domain.EMPLOI, amount="50000"),
    ]
    assert check_actions(actions, Public.BPI, [funding(2021), funding(2022)], campaign_rules) == []


def test_each_year_s_socle_is_checked_against_that_year_s_bounds():
    seen = []

    def rules_of(year):
        seen.append(year)
        return (
            RULES
            if year == 2021
            else RULES.__class__(**{**RULES.__dict__, "year": year, "socle_min_cents": 20_000_000})
        )

    violations = check_funding([funding(2021), funding(2022)], Public.BPI, rules_of)
    assert seen == [2021, 2022] and codes(violations) == ["R4_SOCLE_HORS_BORNES"]
    assert violations[0].field == "financement[2022].socle"


def test_the_example_proposal_passes_every_rule():
    data = json.loads(
        (Path(__file__).resolve().parents[2] / "examples" / "ctai-proposal.json").read_text(encoding="utf-8")
    )
    funding_rows = [funding(f["annee"], f["socle_eur"], f["complementaire_eur"]) for f in data["financement"]]
    actions = [
        action(
            domain=Domain(a["domaine"]),
            public=Public(a["public"]),
            p104=a["action_p104"],
            amount=a["montant_eur"],
            year=a["annee"],
        )
        for a in data["actions"]
    ]
    assert (
        check_contract(
            collectivite_type=CollectiviteType.COMMUNE,
            scope=Public(data["public"]),
            funding=funding_rows,
            actions=actions,
            diagnostic=diagnostic(),
            rules=RULES,
            rules_of=campaign_rules,
        )
        == []
    )
    assert euros_to_cents(data["actions"][0]["montant_eur"]) == 4_000_000  # Coallia, seed 004


# --- Signatures -------------------------------------------------------------------------------


def test_a_signature_needs_the_prefet_s_and_the_elu_s_own_dates():
    assert check_signatures(prefet=date(2021, 10, 21), elu=date(2021, 10, 20), cosignatory=None, cosigned_on=None) == []
    violations = check_signatures(prefet=date(2021, 10, 21), elu=None, cosignatory=None, cosigned_on=None)
    assert codes(violations) == ["CHAMP_MANQUANT"] and violations[0].field == "elu_signature_date"
    assert codes(check_signatures(prefet=None, elu=date(2021, 10, 21), cosignatory=None, cosigned_on=None)) == [
        "CHAMP_MANQUANT"
    ]


def test_the_diair_co_signature_takes_a_name_and_a_date_or_neither():
    ok = dict(prefet=date(2021, 10, 21), elu=date(2021, 10, 21))
    assert check_signatures(**ok, cosignatory="Alain Régnier", cosigned_on=date(2021, 10, 22)) == []
    assert codes(check_signatures(**ok, cosignatory="Alain Régnier", cosigned_on=None)) == ["COSIGNATURE_INCOMPLETE"]
    assert codes(check_signatures(**ok, cosignatory="  ", cosigned_on=date(2021, 10, 22))) == ["COSIGNATURE_INCOMPLETE"]


# --- Yearly review: year, term, proposal, signature -------------------------------------------


def test_the_review_year_is_within_the_term_and_reviewed_once():
    assert check_review_year(year=2021, first_year=2021, last_year=2023, reviewed=set()) == []
    assert codes(check_review_year(year=2024, first_year=2021, last_year=2023, reviewed=set())) == [
        "BILAN_ANNEE_HORS_CONTRAT"
    ]
    assert codes(check_review_year(year=2021, first_year=2021, last_year=2023, reviewed={2021})) == ["BILAN_DEJA_FAIT"]


def test_the_default_review_year_is_the_last_funded_year_not_yet_reviewed_within_the_term():
    assert default_review_year(funded=[2021], first_year=2021, last_year=2023, reviewed=set()) == 2021
    assert default_review_year(funded=[2021, 2022], first_year=2021, last_year=2023, reviewed={2021}) == 2022
    assert default_review_year(funded=[2021, 2022, 2024], first_year=2021, last_year=2023, reviewed={2022}) == 2021
    assert default_review_year(funded=[2021], first_year=2021, last_year=2023, reviewed={2021}) is None


def test_prolonging_or_amending_past_the_term_is_refused_saying_to_renew():
    for proposal in (ReviewProposal.PROLONG, ReviewProposal.AMEND):
        assert check_review_proposal(proposal, year=2022, last_year=2023) == []
        violations = check_review_proposal(proposal, year=2023, last_year=2023)
        assert codes(violations) == ["BILAN_TERME_ATTEINT"] and "renouvellement" in violations[0].message


def test_renewing_is_only_for_the_term_s_last_year_and_ending_is_always_possible():
    assert check_review_proposal(ReviewProposal.RENEW, year=2023, last_year=2023) == []
    assert codes(check_review_proposal(ReviewProposal.RENEW, year=2021, last_year=2023)) == [
        "BILAN_RENOUVELLEMENT_PREMATURE"
    ]
    assert check_review_proposal(ReviewProposal.END, year=2021, last_year=2023) == []


def test_the_prefet_signs_what_the_instructeur_proposed():
    from services.ctai.steps import REVIEW_SIGNATURE

    wordings = {d.code: d.wording for d in REVIEW_SIGNATURE.decisions}
    assert check_review_signature("sign_amendment", ReviewProposal.AMEND, wordings) == []
    assert check_review_signature("sign_end", ReviewProposal.END, wordings) == []
    assert check_review_signature("sign_end", ReviewProposal.RENEW, wordings) == []
    assert check_review_signature("rework", ReviewProposal.AMEND, wordings) == []
    wrong = check_review_signature("sign_end", ReviewProposal.AMEND, wordings)
    assert codes(wrong) == ["BILAN_DECISION_DISCORDANTE"] and "signer l'avenant" in wrong[0].message
    assert codes(check_review_signature("sign_amendment", ReviewProposal.RENEW, wordings)) == [
        "BILAN_DECISION_DISCORDANTE"
    ]


def test_the_contract_term_is_campaign_data_with_three_years_as_fallback():
    assert duration_years(RULES) == 3
    longer = type("R", (), {"ctai_duree_annees": 4})()
    assert duration_years(longer) == 4


def _numbered(*items):
    out = {}
    for n, a in enumerate(items, start=1):
        a.id = n
        out[n] = a
    return out


def test_the_bilan_covers_every_action_of_the_year_within_its_amount():
    actions = _numbered(action(amount="40000"), action(amount="30000"), action(year=2022))
    lines = [(1, True, 25, 4_000_000), (2, False, 0, 0)]
    assert check_action_reviews(lines, actions, 2021) == []
    assert codes(check_action_reviews(lines[:1], actions, 2021)) == ["BILAN_ACTIONS_MANQUANTES"]
    over = check_action_reviews([(1, True, 25, 4_000_001), (2, False, 0, 0)], actions, 2021)
    assert codes(over) == ["BILAN_CONSOMME_SUPERIEUR"] and over[0].field == "bilan_actions[0].consomme_eur"
    assert "BILAN_ACTION_INCONNUE" in codes(check_action_reviews(lines + [(3, True, 1, 0)], actions, 2021))
    assert "BILAN_ACTION_EN_DOUBLE" in codes(check_action_reviews(lines + [(2, False, 0, 0)], actions, 2021))


# --- CTAIR registration -----------------------------------------------------------------------


def test_a_ctair_signed_in_2020_for_refugees_within_its_term_passes():
    assert (
        check_ctair(
            signature_date=date(2020, 3, 1),
            scope=Public.BPI,
            funding=[funding(2020), funding(2021)],
            actions=[action(year=2020)],
            first_year=2020,
            last_year=2022,
            already_active=None,
        )
        == []
    )


def test_a_ctair_outside_2019_2020_or_beyond_its_term_or_twice_is_refused():
    assert codes(
        check_ctair(
            signature_date=date(2021, 1, 5),
            scope=Public.BPI,
            funding=[funding(2021)],
            actions=[],
            first_year=2021,
            last_year=2023,
            already_active=None,
        )
    ) == ["CTAIR_DATE_SIGNATURE"]
    assert codes(
        check_ctair(
            signature_date=date(2020, 3, 1),
            scope=Public.BPI,
            funding=[funding(2023)],
            actions=[],
            first_year=2020,
            last_year=2022,
            already_active=None,
        )
    ) == ["CTAIR_ANNEE_HORS_TERME"]
    assert codes(
        check_ctair(
            signature_date=date(2020, 3, 1),
            scope=Public.BPI,
            funding=[],
            actions=[],
            first_year=2020,
            last_year=2022,
            already_active="CTAIR-86-2020-0001",
        )
    ) == ["CTAIR_EN_DOUBLE"]


def test_a_ctair_is_for_bpi_only_on_p104_action_15():
    primo = action(public=Public.PRIMO_ARRIVANTS, p104=P104Action.PRIMO_ARRIVANTS)
    found = codes(
        check_ctair(
            signature_date=date(2020, 3, 1),
            scope=Public.PRIMO_ARRIVANTS,
            funding=[],
            actions=[primo],
            first_year=2020,
            last_year=2022,
            already_active=None,
        )
    )
    assert found == ["R2_CTAIR_REFUGIES", "R2_CTAIR_REFUGIES", "R17_ACTION_P104"]


# --- The state machine: Diair rework, bilan and its signature ---------------------------------


def _at(status):
    from models.ctai import Ctai

    return Ctai(collectivite_id=1, first_year=2021, last_year=2023, status=status)


def test_a_diair_rework_goes_to_the_collectivite_and_back_to_the_diair():
    from models.ctai import CtaiStatus
    from services.ctai.steps import CTAI_MACHINE, apply_decision

    ctai = _at(CtaiStatus.DIAIR_REVIEW)
    apply_decision(ctai, "rework")
    assert ctai.status == CtaiStatus.DIAIR_REWORK
    assert CTAI_MACHINE.transition(CtaiStatus.DIAIR_REWORK, "reworked").role is None  # the collectivité, by command
    apply_decision(ctai, "reworked", checks=[])
    assert ctai.status == CtaiStatus.DIAIR_REVIEW


def test_reworked_actions_that_break_a_rule_do_not_go_back_to_the_diair():
    import pytest

    from models.ctai import CtaiStatus
    from models.errors import RuleViolation, Violation
    from services.ctai.steps import apply_decision

    ctai = _at(CtaiStatus.DIAIR_REWORK)
    with pytest.raises(RuleViolation):
        apply_decision(ctai, "reworked", checks=[Violation("R4_ACTIONS_DEPASSENT_ENVELOPPE", "actions[2021]", "…")])
    assert ctai.status == CtaiStatus.DIAIR_REWORK


def test_the_instructeur_prolongs_alone_and_the_prefet_signs_an_avenant_an_end_or_a_renewal():
    from models.actors import Role
    from models.ctai import CtaiStatus
    from services.ctai.steps import CTAI_MACHINE, apply_decision

    assert CTAI_MACHINE.transition(CtaiStatus.YEARLY_REVIEW, "prolong").target == CtaiStatus.ACTIVE
    for proposal in ("amend", "end", "renew"):
        t = CTAI_MACHINE.transition(CtaiStatus.YEARLY_REVIEW, proposal)
        assert (t.target, t.role) == (CtaiStatus.REVIEW_SIGNATURE, Role.INSTRUCTEUR)
    for decision, target in (
        ("sign_amendment", CtaiStatus.ACTIVE),
        ("sign_end", CtaiStatus.ENDED),
        ("rework", CtaiStatus.YEARLY_REVIEW),
    ):
        t = CTAI_MACHINE.transition(CtaiStatus.REVIEW_SIGNATURE, decision)
        assert (t.target, t.role) == (target, Role.PREFET)
    ctai = _at(CtaiStatus.REVIEW_SIGNATURE)
    apply_decision(ctai, "sign_amendment", checks=[])
    assert ctai.status == CtaiStatus.ACTIVE


def test_the_comites_are_no_longer_a_transition_of_the_contract():
    from models.ctai import CtaiStatus
    from services.ctai.steps import CTAI_MACHINE

    assert "minutes" not in [t.decision for t in CTAI_MACHINE.allowed(CtaiStatus.ACTIVE)]
    assert "pilotage" not in {t.step for t in CTAI_MACHINE.transitions()}
