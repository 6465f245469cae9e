"""Payments and the compte rendu financier, on both databases: an advance and a balance recorded,
never beyond the grant; the compte rendu reminded with simulated dates, sent back incomplete then
found conforme; R14 following from these records."""

import json
from datetime import date

import pytest
from sqlmodel import Session, select

from models.acts import FinancialReport, Payment
from models.errors import RuleViolation
from models.outbox import OutboxMessage
from notifications.render import render_parts
from services.db import unit_of_work
from services.engine.audit import decisions_for
from services.finance import payments
from services.followup import reminders
from services.ptai.records import submit
from tests.acts import (
    ASSOCIATION,
    INSTRUCTEUR,
    StepDriver,
    act_of,
    delegated,
    examine,
    report_of,
    request_file,
    sign,
    transmit,
)
from tests.cli import run


def pay(engine, act_id, tranche, amount, on="2021-11-02", ej="2100123456", agent=INSTRUCTEUR):
    with unit_of_work(engine) as s:
        return payments.record(
            s,
            act_id,
            tranche=tranche,
            amount_eur=amount,
            ej_number=ej,
            ordered_on=date.fromisoformat(on),
            agent_email=agent,
            today=date(2022, 12, 1),
        )


def signed_act(engine, amount="20000.00"):
    act = act_of(engine, delegated(engine, "Ateliers parents-enfants", amount))
    sign(engine, act.id)
    return act


def refused(engine, *args, **kwargs) -> list[str]:
    with pytest.raises(RuleViolation) as caught:
        pay(engine, *args, **kwargs)
    return caught.value.codes


def test_an_advance_then_the_balance_are_recorded_and_a_third_payment_above_the_grant_is_refused(engine, app_env):
    act = signed_act(engine)
    payment, created = pay(engine, act.id, "avance", "10000")
    assert created and payment.amount_cents == 1_000_000
    assert "CONDITION_DE_VERSEMENT" in refused(engine, act.id, "solde", "10000", on="2022-07-01")  # no compte rendu yet
    report = report_of(engine, act)
    transmit(engine, report.id)
    assert examine(engine, report.id, "compliant").accepted
    _, created = pay(engine, act.id, "solde", "10000", on="2022-07-20")
    assert created
    assert "PAIEMENT_AU_DELA_DE_LA_SUBVENTION" in refused(engine, act.id, "solde", "1", on="2022-08-01")
    listed = run("paiements", "list", "--departement", "86", "--annee", "2021", "--json")
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.stdout)
    assert [(r["tranche"], r["montant_eur"], r["ej"]) for r in rows] == [
        ("avance", "10000.00", "2100123456"),
        ("solde", "10000.00", "2100123456"),
    ]
    csv = run("paiements", "list", "--csv")
    assert csv.stdout.splitlines()[0].startswith("id;date;acte") and len(csv.stdout.splitlines()) == 3
    assert json.loads(run("paiements", "list", "--annee", "2022", "--json").stdout) == []


def test_the_same_payment_order_recorded_twice_counts_once(engine):
    act = signed_act(engine)
    first, created = pay(engine, act.id, "avance", "10000")
    again, created_again = pay(engine, act.id, "avance", "10000")
    assert created and not created_again and again.id == first.id
    with Session(engine) as s:
        assert len(s.exec(select(Payment)).all()) == 1


def test_a_payment_needs_a_signed_act_its_one_ej_and_an_agent_of_the_departement(engine):
    act = act_of(engine, delegated(engine, "Ateliers parents-enfants", "20000.00"))
    assert "ACTE_NON_SIGNE" in refused(engine, act.id, "avance", "10000")
    sign(engine, act.id)
    pay(engine, act.id, "avance", "5000")
    assert "EJ_DISCORDANT" in refused(engine, act.id, "avance", "5000", on="2021-11-03", ej="2100999999")
    assert refused(engine, act.id, "avance", "5000", agent="ministere@interieur.example") == ["AGENT_NON_HABILITE"]


def test_the_cli_refuses_an_unreadable_amount_with_a_code(engine, app_env):
    act = signed_act(engine)
    result = run(
        "paiements",
        "add",
        str(act.id),
        "--tranche",
        "avance",
        "--montant",
        "dix mille",
        "--ej",
        "2100123456",
        "--date",
        "2021-11-02",
        "--agent",
        INSTRUCTEUR,
    )
    assert result.exit_code == 2 and "MONTANT_ILLISIBLE" in result.output


def deadline_notices(engine, address: str) -> list[str]:
    with Session(engine) as s:
        rows = s.exec(
            select(OutboxMessage)
            .where(OutboxMessage.event == "deadline_notice", OutboxMessage.recipient == address)
            .order_by(OutboxMessage.id)
        ).all()
    return [render_parts(r.event, r.context)[1] for r in rows]


def test_the_daily_run_reminds_the_porteur_tells_him_when_late_then_alerts_the_instructeur(engine):
    signed_act(engine)
    assert deadline_notices(engine, ASSOCIATION) == []
    reminders.run(date(2022, 5, 2), engine)  # more than 20 business days before 30 June: nothing yet
    assert deadline_notices(engine, ASSOCIATION) == []
    first = reminders.run(date(2022, 6, 1), engine)
    reminders.run(date(2022, 6, 1), engine)  # the same day again: nothing twice
    assert first["comptes_rendus_rappeles"] == 1 and len(deadline_notices(engine, ASSOCIATION)) == 1
    assert "30 juin 2022" in deadline_notices(engine, ASSOCIATION)[0]
    late = reminders.run(date(2022, 7, 1), engine)
    assert late["comptes_rendus_en_retard"] == 1 and len(deadline_notices(engine, ASSOCIATION)) == 2
    assert deadline_notices(engine, INSTRUCTEUR) == []
    alert = reminders.run(date(2022, 7, 15), engine)
    assert alert["comptes_rendus_signales"] == 1 and len(deadline_notices(engine, INSTRUCTEUR)) == 1
    reminders.run(date(2022, 7, 18), engine)
    assert len(deadline_notices(engine, INSTRUCTEUR)) == 1 and len(deadline_notices(engine, ASSOCIATION)) == 2


def submit_again(engine, today: date):
    with unit_of_work(engine) as s:
        return submit(s, json.dumps(request_file("Nouvelle action de parrainage", "6000.00", year=2022)), today=today)


def test_r14_refuses_a_new_request_after_a_missed_deadline_then_accepts_it_once_conforme(engine):
    act = signed_act(engine)
    report = report_of(engine, act)
    assert submit_again(engine, date(2022, 6, 30)).id  # before the deadline: the request is received
    with pytest.raises(RuleViolation) as caught:
        with unit_of_work(engine) as s:
            submit(s, json.dumps(request_file("Une autre action", "6000.00", year=2022)), today=date(2022, 7, 1))
    assert caught.value.codes == ["R14_COMPTE_RENDU_MANQUANT"] and report.reference in str(caught.value)

    transmit(engine, report.id, on="2022-07-04")
    sent_back = examine(
        engine,
        report.id,
        "rework",
        comment="Il manque le détail des dépenses de personnel.",
        complement_deadline="2099-09-30",
    )
    assert sent_back.accepted
    with Session(engine) as s:
        rework = s.exec(
            select(OutboxMessage).where(OutboxMessage.event == "step_rework", OutboxMessage.recipient == ASSOCIATION)
        ).one()
    text = render_parts(rework.event, rework.context)[1]
    assert "détail des dépenses de personnel" in text and "30 septembre 2099" in text
    with pytest.raises(RuleViolation):  # still not conforme
        with unit_of_work(engine) as s:
            submit(s, json.dumps(request_file("Une autre action", "6000.00", year=2022)), today=date(2022, 7, 20))

    transmit(engine, report.id, on="2022-07-25")
    assert examine(engine, report.id, "compliant").accepted
    with unit_of_work(engine) as s:
        accepted = submit(s, json.dumps(request_file("Une autre action", "6000.00", year=2022)), today=date(2022, 8, 1))
    assert accepted.id


def test_a_compte_rendu_found_non_conforme_asks_a_repayment_and_keeps_r14(engine):
    act = signed_act(engine)
    report = report_of(engine, act)
    transmit(engine, report.id, used="15000.00")
    with unit_of_work(engine) as s:
        transmitted = decisions_for(s, "crf", report.id)[-1].comment
    # The audit trail is read by people: amounts in the French form (U+202F groups, U+00A0 before €).
    assert "dépenses 40\u202f000,00\u00a0€, subvention utilisée 15\u202f000,00\u00a0€" in transmitted
    driver = StepDriver(engine, "crf", report.id, "examen")
    refusal = driver.answer(INSTRUCTEUR, "non_compliant", comment="Dépenses hors de l'objet de la subvention.")
    assert not refusal.accepted and refusal.violations[0]["code"] == "MONTANT_A_REVERSER_MANQUANT"
    assert report_of(engine, act).status == "received"
    outcome = driver.answer(
        INSTRUCTEUR, "non_compliant", comment="Dépenses hors de l'objet de la subvention.", repay_eur="5000.00"
    )
    assert outcome.accepted
    assert (report_of(engine, act).status, report_of(engine, act).repay_cents) == ("non_compliant", 500_000)
    with pytest.raises(RuleViolation) as caught:
        with unit_of_work(engine) as s:
            submit(s, json.dumps(request_file("Une autre action", "6000.00", year=2022)), today=date(2022, 3, 1))
    assert caught.value.codes == ["R14_COMPTE_RENDU_MANQUANT"]


@pytest.mark.parametrize(
    "field, value, code",
    [
        ("summary", "Bilan\u202eevil", "TEXTE_CARACTERES_INTERDITS"),
        ("summary", "x" * 4001, "CHAMP_INVALIDE"),
        ("by", " ", "TEXTE_VIDE"),
        ("expenses_eur", "-1", "CHAMP_INVALIDE"),
        ("used_eur", "1e9", "CHAMP_INVALIDE"),
    ],
)
def test_a_transmission_with_a_bad_field_is_refused_naming_it_and_nothing_changes(engine, field, value, code):
    from services.financial_report.records import transmit as record

    report = report_of(engine, signed_act(engine))
    values = {
        "transmitted_on": date(2022, 6, 15),
        "expenses_eur": "100",
        "used_eur": "50",
        "summary": "Bilan",
        "by": ASSOCIATION,
        field: value,
    }
    with pytest.raises(RuleViolation) as caught:
        with unit_of_work(engine) as s:
            record(s, report.id, **values)
    assert code in caught.value.codes and field in str(caught.value)
    with Session(engine) as s:
        assert s.get(FinancialReport, report.id).status == "expected"
