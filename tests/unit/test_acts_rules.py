"""The rules that follow a decision: which act, its schedule, the payments it allows, the compte
rendu financier's deadlines and R14 — pure functions of ``models.acts``."""

from datetime import date
from decimal import Decimal

import pytest
from stdnum.fr import siret

from models.acts import (
    ActKind,
    Blocking,
    Instalment,
    ReportStatus,
    act_kind_for,
    act_policy,
    act_reference,
    blocks_new_requests,
    check_examination,
    check_payment,
    check_signature,
    check_transmission,
    instalment_amounts,
    needs_new_version,
    prefecture_siret,
    r14_violations,
    report_action,
    report_deadline,
)

SCHEDULE = [
    Instalment("avance", "avance", Decimal("0.5"), "signature", "à la signature"),
    Instalment("solde", "solde", Decimal("0.5"), "compte_rendu_conforme", "après le compte rendu"),
]
TODAY = date(2022, 7, 15)


def codes(violations) -> list[str]:
    return [v.code for v in violations]


def payment(**changes) -> list:
    values = dict(
        act_status="signed",
        tranche="avance",
        schedule=SCHEDULE,
        amount_cents=1_000_000,
        ej_number="2100123456",
        known_ej=None,
        ordered_on=date(2021, 11, 2),
        signed_on=date(2021, 10, 21),
        today=TODAY,
        granted_cents=2_000_000,
        paid_cents=0,
        paid_in_tranche_cents=0,
        condition_met={"signature": True, "compte_rendu_conforme": False},
    )
    values.update(changes)
    return codes(check_payment(**values))


def test_an_act_up_to_the_threshold_is_an_arrete_and_above_it_a_convention():
    assert act_kind_for(2_300_000, 2_300_000) == ActKind.ARRETE
    assert act_kind_for(2_300_001, 2_300_000) == ActKind.CONVENTION


def test_an_act_number_names_its_kind_departement_year_and_sequence():
    assert act_reference("arrete", "86", 2021, 1) == "AP-86-2021-0001"
    assert act_reference(ActKind.CONVENTION, "2A", 2022, 37) == "CV-2A-2022-0037"


def test_the_instalments_add_up_to_the_grant_to_the_cent():
    schedule = [
        Instalment("a", "a", Decimal("0.6"), "signature", ""),
        Instalment("b", "b", Decimal("0.4"), "signature", ""),
    ]
    amounts = instalment_amounts(3_333_333, schedule)
    assert sum(amounts.values()) == 3_333_333 and amounts["a"] == 2_000_000


def test_the_schedules_of_the_data_each_share_out_the_whole_grant():
    policy = act_policy()
    for kind in ("arrete", "convention"):
        assert sum(i.share for i in policy.schedule(kind)) == 1
    assert policy.report_due_on(2021) == date(2022, 6, 30)
    assert "2020-1721" in policy.finance_law(2021) and "2031" in policy.finance_law(2031)


def test_an_advance_on_a_signed_act_within_its_share_is_accepted():
    assert payment() == []


def test_a_payment_beyond_the_grant_is_refused_with_the_amount_over():
    found = check_payment(
        act_status="signed",
        tranche="solde",
        schedule=SCHEDULE,
        amount_cents=500_000,
        ej_number="2100123456",
        known_ej="2100123456",
        ordered_on=date(2022, 7, 1),
        signed_on=date(2021, 10, 21),
        today=TODAY,
        granted_cents=2_000_000,
        paid_cents=2_000_000,
        paid_in_tranche_cents=1_000_000,
        condition_met={"signature": True, "compte_rendu_conforme": True},
    )
    assert "PAIEMENT_AU_DELA_DE_LA_SUBVENTION" in codes(found)
    assert "de 5\u202f000\xa0€" in next(v.message for v in found if v.code == "PAIEMENT_AU_DELA_DE_LA_SUBVENTION")


@pytest.mark.parametrize(
    "changes, code",
    [
        ({"act_status": "awaiting_signature"}, "ACTE_NON_SIGNE"),
        ({"act_status": "replaced"}, "ACTE_NON_SIGNE"),
        ({"tranche": "acompte"}, "TRANCHE_INCONNUE"),
        ({"tranche": "solde"}, "CONDITION_DE_VERSEMENT"),
        ({"amount_cents": 0}, "MONTANT_NEGATIF"),
        ({"amount_cents": -5}, "MONTANT_NEGATIF"),
        ({"ej_number": "21001234"}, "EJ_INVALIDE"),
        ({"ej_number": "21001234AB"}, "EJ_INVALIDE"),
        ({"known_ej": "2100999999"}, "EJ_DISCORDANT"),
        ({"ordered_on": date(2021, 10, 20)}, "DATE_HORS_BORNES"),
        ({"ordered_on": date(2022, 7, 16)}, "DATE_HORS_BORNES"),
        ({"amount_cents": 1_000_001}, "TRANCHE_DEPASSEE"),
    ],
)
def test_a_payment_order_that_breaks_a_rule_is_refused_with_its_code(changes, code):
    assert code in payment(**changes)


def test_a_signed_act_stands_while_its_lines_and_amounts_are_unchanged():
    lines = {("ptai", 1, 2_000_000), ("action", 4, 500_000)}
    assert not needs_new_version(lines, set(lines))
    assert needs_new_version(lines, {("ptai", 1, 1_800_000), ("action", 4, 500_000)})
    assert needs_new_version(lines, lines | {("ptai", 9, 100)})


def test_the_signature_needs_a_name_a_title_and_a_plausible_date():
    assert (
        check_signature(
            signatory="Claire Dumont", title="Le préfet", signed_on=date(2021, 10, 21), year=2021, today=TODAY
        )
        == []
    )
    assert set(codes(check_signature(signatory=" ", title=None, signed_on=None, year=2021, today=TODAY))) == {
        "SIGNATAIRE_MANQUANT",
        "QUALITE_SIGNATAIRE_MANQUANTE",
        "DATE_SIGNATURE_MANQUANTE",
    }
    assert codes(
        check_signature(signatory="A B", title="Le préfet", signed_on=date(2022, 7, 16), year=2021, today=TODAY)
    ) == ["DATE_HORS_BORNES"]
    assert codes(
        check_signature(signatory="A B", title="Le préfet", signed_on=date(2019, 12, 31), year=2021, today=TODAY)
    ) == ["DATE_HORS_BORNES"]


def test_r14_bars_a_porteur_whose_due_compte_rendu_is_not_conforme():
    due = date(2022, 6, 30)
    assert not blocks_new_requests(ReportStatus.EXPECTED, due, date(2022, 6, 30))
    assert blocks_new_requests(ReportStatus.EXPECTED, due, date(2022, 7, 1))
    assert blocks_new_requests(ReportStatus.RECEIVED, due, date(2022, 7, 1))
    assert blocks_new_requests(ReportStatus.INCOMPLETE, due, date(2022, 7, 1))
    assert blocks_new_requests(ReportStatus.NON_COMPLIANT, due, date(2022, 1, 1))
    assert not blocks_new_requests(ReportStatus.COMPLIANT, due, date(2030, 1, 1))


def test_r14_refusal_names_each_compte_rendu_and_falls_back_on_the_imported_flag():
    found = r14_violations([Blocking("CRF-86-2021-0001", 2021, "expected", date(2022, 6, 30))], imported_flag=True)
    assert codes(found) == ["R14_COMPTE_RENDU_MANQUANT"] and "CRF-86-2021-0001" in found[0].message
    assert "30/06/2022" in found[0].message
    assert codes(r14_violations([], imported_flag=True)) == ["R14_COMPTE_RENDU_MANQUANT"]
    assert r14_violations([], imported_flag=False) == []


def test_the_porteur_must_act_by_the_due_date_or_by_the_complements_deadline():
    assert report_deadline("expected", date(2022, 6, 30), None) == date(2022, 6, 30)
    assert report_deadline("incomplete", date(2022, 6, 30), date(2022, 9, 15)) == date(2022, 9, 15)
    assert report_deadline("compliant", date(2022, 6, 30), None) is None


@pytest.mark.parametrize(
    "today, left, late, state, expected",
    [
        (date(2022, 5, 1), 40, 0, {}, None),  # too early
        (date(2022, 6, 1), 20, 0, {}, "report_reminder"),
        (date(2022, 6, 2), 19, 0, {"reminded": True}, None),  # reminded once
        (date(2022, 7, 1), 0, 1, {"reminded": True}, "report_overdue"),
        (date(2022, 7, 4), 0, 2, {"reminded": True, "overdue_told": True}, None),  # the instructeurs wait
        (date(2022, 7, 14), 0, 10, {"reminded": True, "overdue_told": True}, "report_alert"),
        (date(2022, 9, 1), 0, 45, {"reminded": True, "overdue_told": True, "alerted": True}, None),
    ],
)
def test_the_daily_run_reminds_before_the_deadline_tells_after_it_then_alerts(today, left, late, state, expected):
    flags = {"reminded": False, "overdue_told": False, "alerted": False, **state}
    assert (
        report_action(
            today=today,
            deadline=date(2022, 6, 30),
            business_days_left=left,
            business_days_late=late,
            reminder_days_before=20,
            alert_days_after=10,
            **flags,
        )
        == expected
    )


def test_the_examination_asks_what_each_decision_needs():
    base = dict(complement_deadline=None, repay_cents=None, reason=None, granted_cents=2_000_000, today=TODAY)
    assert check_examination(decision="compliant", **base) == []
    assert set(codes(check_examination(decision="rework", **base))) == {"MOTIF_MANQUANT", "CHAMP_MANQUANT"}
    assert codes(
        check_examination(decision="rework", **{**base, "reason": "Bilan manquant", "complement_deadline": TODAY})
    ) == ["DATE_HORS_BORNES"]
    assert set(codes(check_examination(decision="non_compliant", **base))) == {
        "MOTIF_MANQUANT",
        "MONTANT_A_REVERSER_MANQUANT",
    }
    assert codes(
        check_examination(
            decision="non_compliant", **{**base, "reason": "Dépenses hors objet", "repay_cents": 2_000_001}
        )
    ) == ["MONTANT_A_REVERSER_EXCESSIF"]


def test_a_transmitted_compte_rendu_is_awaited_dated_and_within_the_grant():
    base = dict(
        status="expected",
        transmitted_on=date(2022, 6, 15),
        year=2021,
        today=TODAY,
        expenses_cents=4_000_000,
        used_cents=2_000_000,
        granted_cents=2_000_000,
    )
    assert check_transmission(**base) == []
    assert codes(check_transmission(**{**base, "status": "compliant"})) == ["COMPTE_RENDU_NON_ATTENDU"]
    assert codes(check_transmission(**{**base, "transmitted_on": date(2022, 7, 16)})) == ["DATE_HORS_BORNES"]
    assert "SUBVENTION_UTILISEE_EXCESSIVE" in codes(check_transmission(**{**base, "used_cents": 2_000_001}))
    assert "SUBVENTION_UTILISEE_EXCESSIVE" in codes(check_transmission(**{**base, "expenses_cents": 1_000_000}))
    assert codes(check_transmission(**{**base, "expenses_cents": -1, "used_cents": 0})) == ["MONTANT_NEGATIF"]


@pytest.mark.parametrize("code", ["01", "2A", "2B", "21", "75", "86", "971", "976"])
def test_every_prefecture_has_a_valid_and_distinct_siret(code):
    assert siret.is_valid(prefecture_siret(code))
    assert prefecture_siret("2B") != prefecture_siret("21")
