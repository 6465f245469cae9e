"""The CTAI steps as database transactions (what each flow does around its waits), on both databases."""

import pytest
from sqlmodel import Session, func, select

from models.approval import ApprovalCode
from models.ctai import Ctai, CtaiStatus
from models.decision import Decision
from models.outbox import OutboxMessage
from services.ctai import workflow as ctai_workflow
from services.db import unit_of_work
from tests.workflow import SIGNED, Driver, bilan_lines, proposal_text, propose

I86, P86 = "instructeur.86@prefecture-86.example", "prefet.86@prefecture-86.example"
I37, P37, DIAIR = "instructeur.37@prefecture-37.example", "prefet.37@prefecture-37.example", "diair@interieur.example"


def status(engine, ctai_id):
    with Session(engine) as s:
        return s.get(Ctai, ctai_id).status


def count(engine, model, *where):
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(model).where(*where)).one()


def to_signature(engine, ctai_id) -> Driver:
    d = Driver(engine, ctai_id)
    for step, decision, fields in [
        ("engagement", "received", {"letter_date": "2020-12-15", "signatory": "Maire de Poitiers"}),
        ("echange", "held", {"meeting_date": "2021-01-20"}),
        ("diagnostic", "approve", {"bpi_count": 229}),
        ("coordinateur", "skip", {}),
    ]:
        d.open(step)
        assert d.answer(step, I86, decision, **fields).accepted
    propose(engine, ctai_id)
    d.open("proposition")
    assert d.answer("proposition", I86, "approve").leaves_step
    return d


def test_poitiers_goes_from_the_letter_to_execution_with_one_decision_row_per_step(engine, contract):
    d = to_signature(engine, contract)
    d.open("signature")
    out = d.answer("signature", P86, "sign", **SIGNED)
    assert out.accepted and out.next_step == "revue_diair"
    d.open("revue_diair")
    assert d.answer("revue_diair", DIAIR, "approve").next_step is None
    assert status(engine, contract) == CtaiStatus.ACTIVE
    steps = [r.step for r in _decisions(engine, contract)]
    assert steps == [
        "creation",
        "engagement",
        "echange",
        "diagnostic",
        "coordinateur",
        "proposition",
        "signature",
        "revue_diair",
    ]


def test_opening_a_step_twice_issues_no_new_code_and_queues_no_new_email(engine, contract):
    d = Driver(engine, contract)
    d.open("engagement")
    before = (count(engine, ApprovalCode), count(engine, OutboxMessage))
    view = d.reopen("engagement")
    assert (count(engine, ApprovalCode), count(engine, OutboxMessage)) == before
    assert view.next_attempt == 1 and "lettre d'engagement" in view.description


def test_codes_go_only_to_agents_of_the_awaited_role_in_the_departement(engine, contract):
    Driver(engine, contract).open("engagement")
    with Session(engine) as s:
        recipients = {
            m.recipient for m in s.exec(select(OutboxMessage).where(OutboxMessage.event == "approval_requested"))
        }
    assert recipients == {I86}


def test_an_answer_judged_twice_is_recorded_once(engine, contract):
    d = Driver(engine, contract)
    d.open("engagement")
    first = d.answer("engagement", I86, "received", letter_date="2020-12-15", signatory="Maire")
    decisions = count(engine, Decision)
    d.attempt -= 1  # the resumed run judges the same answer again
    again = d.answer("engagement", I86, "received", code="X", letter_date="2020-12-15", signatory="Maire")
    assert again.accepted and again.decision_id == first.decision_id and count(engine, Decision) == decisions


REFUSED = ["IDENTIFICATION_REFUSEE"]


@pytest.mark.parametrize("email", ["inconnu@prefecture-86.example", I37, DIAIR])
def test_a_decider_who_is_not_entitled_is_refused_without_learning_why_and_the_attempt_is_audited(
    engine, contract, email
):
    d = Driver(engine, contract)
    d.open("engagement")
    out = d.answer("engagement", email, "received", code="AAAA-BBBB", letter_date="2020-12-15", signatory="Maire")
    assert not out.accepted and [v["code"] for v in out.violations] == REFUSED
    assert status(engine, contract) == CtaiStatus.AWAITING_LETTER
    refusal = _decisions(engine, contract)[-1]
    assert refusal.decision == "refus" and "IDENTIFICATION_REFUSEE" in refusal.comment
    assert refusal.actor_label == "(réponse non identifiée)"  # what was typed is not kept: it may be a code
    top = d.reopen("engagement").description.split("###")[0]
    assert "refusée" in top and "IDENTIFICATION_REFUSEE" in top
    for revealing in (
        "37",
        "diair",
        "Diair",
        "inconnu",
        "rôle « ",
    ):  # neither the role nor the département of that address
        assert revealing not in out.violations[0]["message"] and revealing not in refusal.comment


def test_an_awaited_agent_with_a_wrong_code_gets_the_same_answer_as_a_stranger(engine, contract):
    d = Driver(engine, contract)
    d.open("engagement")
    stranger = d.answer("engagement", "inconnu@prefecture-86.example", "received", code="AAAA-BBBB")
    awaited = d.answer("engagement", I86, "received", code="AAAA-BBBB")
    assert stranger.violations == awaited.violations  # the form tells nobody who is awaited, nor tries left


def test_a_code_typed_into_the_address_field_is_never_recorded_and_is_replaced(engine, contract):
    d = Driver(engine, contract)
    d.open("engagement")
    exposed = d.code(I86)
    out = d.answer("engagement", exposed.lower(), "received", code="AAAA-BBBB")
    assert out.violations[0]["code"] == "IDENTIFICATION_REFUSEE"
    with Session(engine) as s:
        assert not [
            dec
            for dec in s.exec(select(Decision))
            if exposed.lower() in (dec.actor_label + (dec.comment or "")).lower()
        ]
    assert exposed.lower() not in d.reopen("engagement").description.lower()
    assert d.code(I86) != exposed  # a new code was mailed; the exposed one no longer works
    replay = d.answer("engagement", I86, "received", code=exposed, letter_date="2020-12-15", signatory="Maire")
    assert not replay.accepted
    assert d.answer("engagement", I86, "received", letter_date="2020-12-15", signatory="Maire").accepted


def test_five_wrong_codes_lock_the_agent_out_until_a_prefet_lifts_it_and_the_agent_gets_a_new_code(engine, contract):
    from services.ctai.workflow import CTAI
    from services.engine import lockout, runs
    from tests.codes import mailed_code

    d = Driver(engine, contract)
    d.open("engagement")
    first = d.code(I86)
    for _ in range(5):
        out = d.answer("engagement", I86, "received", code="ZZZZ-ZZZZ", letter_date="2020-12-15", signatory="Maire")
        assert [v["code"] for v in out.violations] == REFUSED
    out = d.answer("engagement", I86, "received", code=first, letter_date="2020-12-15", signatory="Maire")
    assert [v["code"] for v in out.violations] == REFUSED and not out.accepted  # even the right code: locked out
    assert count(engine, OutboxMessage, OutboxMessage.event == "lockout_alert", OutboxMessage.recipient == P86) == 1
    assert count(engine, OutboxMessage, OutboxMessage.event == "responses_blocked", OutboxMessage.recipient == I86) == 1
    assert d.reopen("engagement") and d.code(I86) == first  # reopening mails no code to a locked-out agent
    with unit_of_work(engine) as s:
        run = runs.for_run(s, d.run_id)
        refused = lockout.unlock(
            s, CTAI, run, locked_email=I86, by_email=P86, code="ZZZZ-ZZZZ", comment=None, link=None
        )
    assert [v.code for v in refused] == ["CODE_INVALIDE"]
    assert _decisions(engine, contract)[-1].decision == "unlock_refus"  # a refused lifting is audited too
    unlock_code = mailed_code(engine, P86, "lockout_alert")
    with unit_of_work(engine) as s:  # another préfecture's préfet cannot lift it, even with the code
        assert (
            lockout.unlock(
                s,
                CTAI,
                runs.for_run(s, d.run_id),
                locked_email=I86,
                by_email=P37,
                code=unlock_code,
                comment=None,
                link=None,
            )[0].code
            == "AGENT_NON_HABILITE"
        )
    with unit_of_work(engine) as s:
        assert (
            lockout.unlock(
                s,
                CTAI,
                runs.for_run(s, d.run_id),
                locked_email=I86,
                by_email=P86,
                code=unlock_code,
                comment="erreurs de saisie",
                link=None,
            )
            == []
        )
    assert _decisions(engine, contract)[-1].decision == "unlock"
    assert d.code(I86) != first
    assert d.answer("engagement", I86, "received", letter_date="2020-12-15", signatory="Maire").accepted


def test_wrong_unlock_codes_block_that_unlocker_for_this_lifting_only(engine, contract):
    from models.actors import AgentCreate
    from services import registry
    from services.ctai.workflow import CTAI
    from services.engine import lockout, runs
    from tests.codes import mailed_code

    with unit_of_work(engine) as s:
        registry.add_agent(s, AgentCreate(email="admin@interieur.example", name="Administrateur", role="admin"))
    d = Driver(engine, contract)
    d.open("engagement")
    for _ in range(5):
        d.answer("engagement", I86, "received", code="ZZZZ-ZZZZ")
    results = []
    for _ in range(6):
        with unit_of_work(engine) as s:
            results.append(
                lockout.unlock(
                    s,
                    CTAI,
                    runs.for_run(s, d.run_id),
                    locked_email=I86,
                    by_email=P86,
                    code="ZZZZ-ZZZZ",
                    comment=None,
                    link=None,
                )[0].code
            )
    assert results[4:] == ["AGENT_BLOQUE", "AGENT_BLOQUE"]
    admin_code = mailed_code(engine, "admin@interieur.example", "lockout_alert")
    with unit_of_work(engine) as s:  # the administrator still can
        assert (
            lockout.unlock(
                s,
                CTAI,
                runs.for_run(s, d.run_id),
                locked_email=I86,
                by_email="admin@interieur.example",
                code=admin_code,
                comment=None,
                link=None,
            )
            == []
        )


def test_a_right_code_is_spent_even_when_the_answer_is_refused_and_a_new_one_is_mailed(engine, contract):
    d = Driver(engine, contract)
    d.open("engagement")
    first = d.code(I86)
    out = d.answer("engagement", I86, "received", code=first, signatory="Maire")  # the letter's date is missing
    assert [v["code"] for v in out.violations] == ["CHAMP_MANQUANT"]
    replay = d.answer("engagement", I86, "received", code=first, letter_date="2020-12-15", signatory="Maire")
    assert [v["code"] for v in replay.violations] == REFUSED  # replayed with another answer: refused
    second = d.code(I86)
    assert second != first
    assert d.answer("engagement", I86, "received", code=second, letter_date="2020-12-15", signatory="Maire").accepted


def test_a_code_is_single_use(engine, contract):
    d = Driver(engine, contract)
    d.open("engagement")
    code = d.code(I86)
    assert d.answer("engagement", I86, "received", code=code, letter_date="2020-12-15", signatory="M").accepted
    # The same code again, on the same step of the same run: a code still good would pass the
    # identification, and only then be refused for a step already decided.
    out = d.answer("engagement", I86, "received", code=code, letter_date="2020-12-15", signatory="M")
    assert not out.accepted and [v["code"] for v in out.violations] == REFUSED
    assert count(engine, Decision, Decision.step == "engagement", Decision.decision == "received") == 1


def test_an_expired_code_is_refused_and_replaced(engine, contract):
    d = Driver(engine, contract)
    d.open("engagement")
    with unit_of_work(engine) as s:
        row = s.exec(select(ApprovalCode)).one()
        from datetime import timedelta

        row.expires_at = row.expires_at - timedelta(days=30)
        s.add(row)
    old = d.code(I86)
    out = d.answer("engagement", I86, "received", code=old, letter_date="2020-12-15", signatory="M")
    assert out.violations[0]["code"] == "IDENTIFICATION_REFUSEE" and d.code(I86) != old  # the new one is mailed


def test_signing_without_a_housing_action_is_refused_with_r5_and_changes_nothing(engine, contract):
    d = to_signature(engine, contract)
    d.open("signature")
    with unit_of_work(engine) as s:  # the housing actions disappear before the signature
        from models.ctai import Action

        for a in s.exec(select(Action).where(Action.domain == "logement")):
            s.delete(a)
    out = d.answer("signature", P86, "sign", **SIGNED)
    assert not out.accepted and "R5_LOGEMENT_OBLIGATOIRE" in [v["code"] for v in out.violations]
    with Session(engine) as s:
        ctai = s.get(Ctai, contract)
    assert ctai.status == CtaiStatus.SIGNATURE and ctai.prefet_signed_on is None
    assert "R5_LOGEMENT_OBLIGATOIRE" in d.reopen("signature").description.split("###")[0]
    assert d.answer("signature", P86, "sign", **SIGNED).accepted is False  # a new code: the rule still fails


def test_a_socle_outside_the_bounds_cannot_be_declared_complete(engine, contract):
    d = Driver(engine, contract)
    for step, decision, fields in [
        ("engagement", "received", {"letter_date": "2020-12-15", "signatory": "M"}),
        ("echange", "held", {"meeting_date": "2021-01-20"}),
        ("diagnostic", "approve", {"bpi_count": 229}),
        ("coordinateur", "skip", {}),
    ]:
        d.open(step)
        d.answer(step, I86, decision, **fields)
    warnings = propose(
        engine,
        contract,
        proposal_text(financement=[{"annee": 2021, "socle_eur": "100000.00", "complementaire_eur": "50000.00"}]),
    )
    assert "R4_SOCLE_HORS_BORNES" in [w.code for w in warnings]
    d.open("proposition")
    out = d.answer("proposition", I86, "approve")
    assert (
        "R4_SOCLE_HORS_BORNES" in [v["code"] for v in out.violations]
        and status(engine, contract) == CtaiStatus.PROPOSAL
    )


def test_the_instructor_cannot_sign_as_prefet(engine, contract):
    d = to_signature(engine, contract)
    with unit_of_work(engine) as s:  # the instructor has since been named préfet (intérim)
        from models.actors import Agent

        agent = s.exec(select(Agent).where(Agent.email == I86)).one()
        agent.role = "prefet"
        s.add(agent)
    d.open("signature")
    with Session(engine) as s:
        codes = s.exec(select(OutboxMessage.recipient).where(OutboxMessage.event == "approval_requested")).all()
    assert codes.count(I86) == 5 and P86 in codes  # one per earlier step, none for the signature
    out = d.answer("signature", I86, "sign", code="AAAA-BBBB", signature_date="2021-10-21")
    assert out.violations[0]["code"] == "IDENTIFICATION_REFUSEE"  # four eyes, said as for anyone not entitled


def test_a_rework_keeps_the_step_open_with_a_new_round_of_codes(engine, contract):
    d = Driver(engine, contract)
    for step, decision, fields in [
        ("engagement", "received", {"letter_date": "2020-12-15", "signatory": "M"}),
        ("echange", "held", {"meeting_date": "2021-01-20"}),
    ]:
        d.open(step)
        d.answer(step, I86, decision, **fields)
    d.open("diagnostic")
    first = d.code(I86)
    out = d.answer("diagnostic", I86, "rework", comment="Chiffres 2020 manquants")
    assert out.accepted and not out.leaves_step
    view = d.reopen("diagnostic")
    assert view.round == 2 and d.code(I86) != first
    assert d.answer("diagnostic", I86, "approve", bpi_count=229).next_step == "coordinateur"


def to_yearly_review(engine, ctai_id) -> Driver:
    """Signed, reviewed by the Diair, then at its yearly review with the bilan step open."""
    d = to_signature(engine, ctai_id)
    d.open("signature")
    d.answer("signature", P86, "sign", **SIGNED)
    d.open("revue_diair")
    d.answer("revue_diair", DIAIR, "approve")
    with unit_of_work(engine) as s:
        ctai_workflow.open_yearly_review(s, ctai_id)
    d.open("bilan")
    return d


def test_the_yearly_review_with_an_avenant_funds_the_next_year(engine, contract):
    d = to_yearly_review(engine, contract)
    out = d.answer(
        "bilan",
        I86,
        "amend",
        amount_eur="250000",
        complementary_eur="50000",
        bilan_actions=bilan_lines(engine, contract, 2021),
    )
    assert (
        out.accepted and out.next_step == "bilan_signature" and status(engine, contract) == CtaiStatus.REVIEW_SIGNATURE
    )
    d.open("bilan_signature")
    assert d.answer("bilan_signature", P86, "sign_amendment", signature_date="2022-01-20").accepted
    assert status(engine, contract) == CtaiStatus.ACTIVE
    from services.ctai.records import show

    with Session(engine) as s:
        years = {f["annee"]: f for f in show(s, contract)["financement"]}
    assert years[2022] == {"annee": 2022, "socle_cents": 25_000_000, "complementaire_cents": 5_000_000}


def test_starting_a_contract_twice_returns_the_one_under_way(engine, contract):
    with unit_of_work(engine) as s:
        again, created = ctai_workflow.create(s, collectivite_id=s.get(Ctai, contract).collectivite_id, first_year=2021)
    assert again.id == contract and not created


def _decisions(engine, ctai_id):
    with Session(engine) as s:
        return list(
            s.exec(
                select(Decision)
                .where(Decision.entity_type == "ctai", Decision.entity_id == ctai_id)
                .order_by(Decision.id)
            )
        )


def test_an_accepted_decision_moves_the_contract_through_its_state_machine_and_stamps_it(engine, contract):
    with Session(engine) as s:
        before = s.get(Ctai, contract).updated_at
    d = Driver(engine, contract)
    d.open("engagement")
    assert d.answer("engagement", I86, "received", letter_date="2020-12-15", signatory="Maire de Poitiers").accepted
    with Session(engine) as s:
        ctai = s.get(Ctai, contract)
    assert ctai.status == CtaiStatus.EXCHANGE and ctai.updated_at > before
    assert ctai.letter_received_on.isoformat() == "2020-12-15"  # the handler got a date, not a string


def test_a_field_of_the_wrong_type_is_refused_by_name_in_french_and_a_new_code_is_mailed(engine, contract):
    d = Driver(engine, contract)
    d.open("engagement")
    code = d.code(I86)
    out = d.answer("engagement", I86, "received", code=code, letter_date="15/12/2020", signatory="Maire")
    assert not out.accepted
    assert out.violations == [
        {
            "code": "CHAMP_INVALIDE",
            "field": "letter_date",
            "message": "Date de la lettre d'engagement : date attendue au format AAAA-MM-JJ",
        }
    ]
    assert status(engine, contract) == CtaiStatus.AWAITING_LETTER
    assert d.code(I86) != code
    assert d.answer("engagement", I86, "received", letter_date="2020-12-15", signatory="Maire").accepted


def test_an_avenant_above_the_campaign_ceiling_is_refused_and_changes_nothing(engine, contract):
    d = to_yearly_review(engine, contract)
    out = d.answer(
        "bilan",
        I86,
        "amend",
        amount_eur=250000,
        complementary_eur=10_000_000,
        bilan_actions=bilan_lines(engine, contract, 2021),
    )
    assert not out.accepted and "MONTANT_PLAFOND" in [v["code"] for v in out.violations]
    assert status(engine, contract) == CtaiStatus.YEARLY_REVIEW


def test_a_code_whose_email_was_never_queued_is_mailed_by_the_daily_run(engine, contract):
    """After the upgrade that revoked the old codes, each awaited agent gets a new one, by email."""
    from datetime import date

    from services.followup import reminders

    d = Driver(engine, contract)
    d.open("engagement")
    with unit_of_work(engine) as s:
        for row in s.exec(select(ApprovalCode)):
            row.revoked_at = row.created_at  # what migration 0006 does to codes hashed the old way
            s.add(row)
    assert reminders.run(date(2026, 7, 13), engine)["codes_reemis"] == 1
    assert (
        count(engine, OutboxMessage, OutboxMessage.event == "approval_requested", OutboxMessage.recipient == I86) == 2
    )
    assert d.answer("engagement", I86, "received", letter_date="2020-12-15", signatory="Maire").accepted
