"""The reminders run with simulated dates, on both databases."""

import json
from datetime import UTC, date, datetime

from sqlmodel import Session, select

from models.approval import StepRun
from models.ctai import Ctai, CtaiStatus
from models.decision import Decision
from models.outbox import OutboxMessage
from models.ptai import PtaiRequest, PtaiStatus
from services.ctai import workflow as ctai_workflow
from services.db import unit_of_work
from services.followup import reminders
from tests.workflow import Driver, poitiers

I86, P86 = "instructeur.86@prefecture-86.example", "prefet.86@prefecture-86.example"


def opened_on(engine, day: date):
    with unit_of_work(engine) as s:
        for row in s.exec(select(StepRun)):
            row.opened_at = datetime(day.year, day.month, day.day, 9, tzinfo=UTC)
            s.add(row)


def mails(engine, event):
    with Session(engine) as s:
        return s.exec(select(OutboxMessage.recipient).where(OutboxMessage.event == event)).all()


def test_a_late_step_gets_one_reminder_on_a_business_day_and_none_on_a_holiday(engine, contract):
    Driver(engine, contract).open("engagement")
    opened_on(engine, date(2026, 6, 1))
    assert reminders.run(date(2026, 7, 14), engine)["relances"] == 0  # fête nationale
    assert mails(engine, "reminder") == []
    assert reminders.run(date(2026, 7, 13), engine)["relances"] == 1
    assert mails(engine, "reminder") == [I86]


def test_running_twice_on_the_same_day_sends_nothing_new(engine, contract):
    Driver(engine, contract).open("engagement")
    opened_on(engine, date(2026, 6, 1))
    first = reminders.run(date(2026, 7, 13), engine)
    second = reminders.run(date(2026, 7, 13), engine)
    assert first["relances"] == 1 and second["relances"] == 0 and len(mails(engine, "reminder")) == 1


def test_escalation_reaches_the_prefet_after_two_reminders(engine, contract):
    Driver(engine, contract).open("engagement")
    opened_on(engine, date(2026, 6, 1))
    days = [date(2026, 7, 13), date(2026, 7, 15), date(2026, 7, 16), date(2026, 7, 17)]
    results = [reminders.run(day, engine) for day in days]
    assert [r["relances"] for r in results] == [1, 1, 0, 0]
    assert [r["escalades"] for r in results] == [0, 0, 1, 0]
    assert mails(engine, "escalation") == [P86]


def test_an_unanswered_rework_request_is_reminded_then_classee_sans_suite(engine):
    from demo.data import fictitious_siren
    from models.actors import CollectiviteCreate
    from services import registry
    from services.ptai.records import submit
    from tests.factories import valid_request

    with unit_of_work(engine) as s:
        registry.seed_reference(s)
        registry.add_collectivite(
            s,
            CollectiviteCreate(
                name="Ville du Havre",
                type="commune",
                siren=fictitious_siren(2),
                departement_code="76",
                email="ville@lehavre.example",
            ),
        )
        request = submit(s, json.dumps(valid_request()))
        request.status, request.rework_deadline = PtaiStatus.AWAITING_APPLICANT, date(2026, 7, 20)
        s.add(request)
        rid = request.id
    assert reminders.run(date(2026, 7, 16), engine)["rappels_demandeurs"] == 1
    assert reminders.run(date(2026, 7, 17), engine)["rappels_demandeurs"] == 0
    assert reminders.run(date(2026, 7, 21), engine)["classees_sans_suite"] == 1
    assert reminders.run(date(2026, 7, 22), engine)["classees_sans_suite"] == 0
    with Session(engine) as s:
        assert s.get(PtaiRequest, rid).status == PtaiStatus.CLOSED
    assert sorted(mails(engine, "request_closed")) == ["contact@exemple-accueil.example", "ville@lehavre.example"]
    assert len(mails(engine, "applicant_reminder")) == 2


def test_the_reminders_command_runs_a_simulated_day_and_says_what_it_did(app_env, engine, contract):
    from tests.cli import run

    Driver(engine, contract).open("engagement")
    opened_on(engine, date(2026, 6, 1))
    result = run("reminders", "run", "--date", "2026-07-14", "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["jour_ouvre"] is False
    bad = run("reminders", "run", "--date", "14/07/2026", "--json")
    assert bad.exit_code == 2 and "DATE_INVALIDE" in bad.stdout


def test_the_engagement_letter_is_reminded_before_the_end_of_year_n_minus_1_then_signalled_to_the_prefecture(engine):
    ids = poitiers(engine)
    with unit_of_work(engine) as s:
        ctai_workflow.create(s, collectivite_id=ids["poitiers"], first_year=2027)
    reminded = [
        reminders.run(day, engine)["lettres_rappelees"]
        for day in (date(2026, 12, 8), date(2026, 12, 9), date(2026, 12, 9), date(2026, 12, 10))
    ]
    assert reminded == [0, 1, 0, 0]
    assert mails(engine, "deadline_notice") == ["integration@poitiers.example"]
    signalled = [
        reminders.run(day, engine)["lettres_signalees"]
        for day in (date(2027, 1, 1), date(2027, 1, 4), date(2027, 1, 5))
    ]
    assert signalled == [0, 1, 0]  # not on the jour de l'an; once
    assert sorted(mails(engine, "deadline_notice")) == sorted(["integration@poitiers.example"] * 2 + [I86, P86])
    with Session(engine) as s:
        alert = s.exec(select(OutboxMessage).where(OutboxMessage.recipient == P86)).one()
    assert alert.context["echeance_depassee"] is True and alert.context["echeance"] == "2026-12-31"


def test_the_yearly_review_opens_once_a_year_in_january_and_not_again_once_decided(engine, contract):
    with unit_of_work(engine) as s:
        ctai = s.get(Ctai, contract)
        ctai.status, ctai.first_year, ctai.last_year = CtaiStatus.ACTIVE, 2026, 2028
        s.add(ctai)
    opened = [
        reminders.run(day, engine)["bilans_ouverts"]
        for day in (date(2027, 1, 14), date(2027, 1, 15), date(2027, 1, 15))
    ]
    assert opened == [[], [contract], []]
    with Session(engine) as s:
        assert s.get(Ctai, contract).status == CtaiStatus.YEARLY_REVIEW
        comments = s.exec(select(Decision.comment).where(Decision.decision == "open_review")).all()
    assert comments == ["bilan 2026"]

    d = Driver(engine, contract)
    d.open("bilan")
    assert d.answer("bilan", I86, "prolong").accepted
    assert reminders.run(date(2027, 1, 18), engine)["bilans_ouverts"] == []  # the 2026 review is done
    assert reminders.run(date(2028, 1, 17), engine)["bilans_ouverts"] == [contract]


def test_a_run_for_a_day_to_come_shows_what_would_happen_and_changes_nothing(app_env, engine, contract):
    from sqlalchemy import text
    from sqlmodel import SQLModel

    import models.tables  # noqa: F401 - registers every table on SQLModel.metadata
    from models.types import paris_today
    from tests.cli import run_main

    Driver(engine, contract).open("engagement")
    opened_on(engine, date(2026, 6, 1))

    def rows():
        with engine.connect() as conn:
            return {
                t.name: conn.execute(text(f'SELECT COUNT(*) FROM "{t.name}"')).scalar_one()
                for t in SQLModel.metadata.sorted_tables
            }

    before = rows()
    day = paris_today().replace(day=1).toordinal() + 40  # a business day some weeks ahead
    ahead = date.fromordinal(day)
    while not reminders.is_business_day(ahead):
        ahead = date.fromordinal(ahead.toordinal() + 1)
    status, out, err = run_main("reminders", "run", "--date", ahead.isoformat(), "--json")
    report = json.loads(out)
    assert status == 0 and report["simulation"] is True and report["relances"] == 1  # what would happen…
    assert rows() == before  # …and nothing happened: no reminder recorded, no email queued


def test_an_agent_named_after_a_step_opened_gets_a_code_from_the_daily_run_once(engine, contract):
    from models.actors import AgentCreate
    from services import registry

    Driver(engine, contract).open("engagement")
    with unit_of_work(engine) as s:
        registry.add_agent(
            s,
            AgentCreate(
                email="nouvel.instructeur.86@prefecture-86.example",
                name="Nouvel instructeur",
                role="instructeur",
                departement_code="86",
            ),
        )
    first = reminders.run(date(2026, 7, 13), engine)
    again = reminders.run(date(2026, 7, 15), engine)
    assert (first["codes_reemis"], again["codes_reemis"]) == (1, 0)
    assert mails(engine, "approval_requested").count("nouvel.instructeur.86@prefecture-86.example") == 1
