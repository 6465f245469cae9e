"""The CTAI procedure of issue 13 as database transactions, on both databases: the Diair's
rework round trip, a CTAIR registered then widened, the signatures, and the yearly review (its
year, its term, the bilan per action, the préfet's signature with four eyes)."""

import json
from datetime import date

import pytest
from sqlmodel import Session, select

from models.ctai import (
    Action,
    Ctai,
    CtaiActionReview,
    CtaiFunding,
    CtaiKind,
    CtaiReview,
    CtaiStatus,
    DiairReview,
)
from models.decision import Decision
from models.errors import RuleViolation
from models.outbox import OutboxMessage
from services.ctai import rework as ctai_rework
from services.ctai import workflow as ctai_workflow
from services.ctai.records import show
from services.ctai.texts import contract_markdown
from services.db import unit_of_work
from tests.cli import run
from tests.workflow import (
    CTAIR_FILE,
    SIGNED,
    Driver,
    bilan_lines,
    proposal_text,
    propose,
    register_ctair,
)

I86, P86, DIAIR = "instructeur.86@prefecture-86.example", "prefet.86@prefecture-86.example", "diair@interieur.example"
POITIERS = "integration@poitiers.example"


def to_signature(engine, ctai_id, text=None) -> Driver:
    d = Driver(engine, ctai_id)
    for step, decision, fields in [
        ("engagement", "received", {"letter_date": "2020-12-15", "signatory": "Maire"}),
        ("echange", "held", {"meeting_date": "2021-01-20"}),
        ("diagnostic", "approve", {"bpi_count": 229}),
        ("coordinateur", "skip", {}),
    ]:
        d.open(step)
        assert d.answer(step, I86, decision, **fields).accepted
    assert [w.code for w in propose(engine, ctai_id, text)] == []
    d.open("proposition")
    assert d.answer("proposition", I86, "approve").leaves_step
    return d


def to_diair(engine, ctai_id, text=None) -> Driver:
    d = to_signature(engine, ctai_id, text)
    d.open("signature")
    assert d.answer("signature", P86, "sign", **SIGNED).accepted
    d.open("revue_diair")
    return d


def active(engine, ctai_id, text=None) -> Driver:
    d = to_diair(engine, ctai_id, text)
    assert d.answer("revue_diair", DIAIR, "approve").accepted
    return d


def contract_of(engine, ctai_id) -> Ctai:
    with Session(engine) as s:
        return s.get(Ctai, ctai_id)


def actions_of(engine, ctai_id) -> list[Action]:
    with Session(engine) as s:
        return list(s.exec(select(Action).where(Action.ctai_id == ctai_id).order_by(Action.id)))


def funding_of(engine, ctai_id) -> dict[int, tuple[int, int]]:
    with Session(engine) as s:
        return {
            f.year: (f.socle_cents, f.complementary_cents)
            for f in s.exec(select(CtaiFunding).where(CtaiFunding.ctai_id == ctai_id))
        }


def rework_file(engine, *changed: tuple[Action, dict]) -> str:
    from models.actors import Porteur

    with Session(engine) as s:
        sirets = {p.id: p.siret for p in s.exec(select(Porteur))}
    lines = []
    for a, change in changed:
        line = {
            "id": a.id,
            "intitule": a.title,
            "domaine": a.domain,
            "public": a.public,
            "action_p104": a.p104_action,
            "montant_eur": f"{a.amount_cents / 100:.2f}",
            "annee": a.year,
        }
        if a.porteur_id:
            line["porteur_siret"] = sirets[a.porteur_id]
        lines.append({**line, **change})
    return json.dumps({"actions": lines})


# --- The Diair's rework round trip --------------------------------------------------------------


def test_a_diair_rework_needs_the_actions_and_a_reason(engine, contract):
    d = to_diair(engine, contract)
    first = actions_of(engine, contract)[0]
    assert (
        d.answer("revue_diair", DIAIR, "rework", comment="Précisez le public").violations[0]["field"]
        == "rework_action_ids"
    )
    out = d.answer("revue_diair", DIAIR, "rework", rework_action_ids=[first.id])
    assert [v["field"] for v in out.violations] == ["comment"]
    assert contract_of(engine, contract).status == CtaiStatus.DIAIR_REVIEW


def test_a_diair_rework_sends_only_the_flagged_actions_back_and_the_rest_stands(engine, contract):
    d = to_diair(engine, contract)
    before = funding_of(engine, contract)
    flagged = actions_of(engine, contract)[1]
    out = d.answer(
        "revue_diair", DIAIR, "rework", rework_action_ids=[flagged.id], comment="Objectifs d'emploi à chiffrer"
    )
    assert out.accepted and out.leaves_step and out.next_step is None  # the collectivité answers by command
    assert contract_of(engine, contract).status == CtaiStatus.DIAIR_REWORK
    reviews = {a.id: a.diair_review for a in actions_of(engine, contract)}
    assert reviews.pop(flagged.id) == DiairReview.REWORK and set(reviews.values()) == {DiairReview.COMPLIANT}
    assert funding_of(engine, contract) == before
    with Session(engine) as s:
        mail = s.exec(
            select(OutboxMessage).where(OutboxMessage.event == "step_rework", OutboxMessage.recipient == POITIERS)
        ).one()
    told = json.dumps(mail.context, ensure_ascii=False)
    # In words: a collectivité is never told to run a command.
    assert "territoires" not in told and "Objectifs d'emploi à chiffrer" in told and "Le reste du contrat" in told
    with Session(engine) as s:
        shown = {a["id"]: a for items in show(s, contract)["actions_par_domaine"].values() for a in items}
    assert shown[flagged.id]["observation_diair"] == "Objectifs d'emploi à chiffrer"


def test_only_flagged_actions_may_change_and_the_proposal_is_frozen(engine, contract):
    d = to_diair(engine, contract)
    first, flagged = actions_of(engine, contract)[:2]
    d.answer("revue_diair", DIAIR, "rework", rework_action_ids=[flagged.id], comment="À préciser")
    text = rework_file(engine, (first, {"montant_eur": "1000.00"}))
    with pytest.raises(RuleViolation) as exc, unit_of_work(engine) as s:
        ctai_rework.rework(s, contract, text)
    assert exc.value.codes == ["ACTION_NON_SIGNALEE"] and str(flagged.id) in str(exc.value)
    with pytest.raises(RuleViolation) as exc, unit_of_work(engine) as s:
        from services.ctai.proposal import propose as propose_again

        propose_again(s, contract, proposal_text())
    assert exc.value.codes == ["PROPOSITION_FIGEE"] and "ctai rework" in str(exc.value)


def test_reworked_actions_are_checked_against_the_contract_rules_and_nothing_changes_when_they_fail(engine, contract):
    d = to_diair(engine, contract)
    flagged = actions_of(engine, contract)[1]
    d.answer("revue_diair", DIAIR, "rework", rework_action_ids=[flagged.id], comment="À préciser")
    text = rework_file(engine, (flagged, {"montant_eur": "90000.00"}))
    with pytest.raises(RuleViolation) as exc, unit_of_work(engine) as s:  # 30 000 → 90 000: BPI actions over the socle
        ctai_rework.rework(s, contract, text)
    assert {"R4_ACTIONS_DEPASSENT_ENVELOPPE", "R4_ACTIONS_BPI_AU_DELA_DU_SOCLE"} <= set(exc.value.codes)
    text = rework_file(engine, (flagged, {"nature": "investissement"}))
    with pytest.raises(RuleViolation) as exc, unit_of_work(engine) as s:
        ctai_rework.rework(s, contract, text)
    assert exc.value.codes == ["R16_INVESTISSEMENT_EXCLU"]
    after = {a.id: a for a in actions_of(engine, contract)}[flagged.id]
    assert (after.amount_cents, after.diair_review) == (flagged.amount_cents, DiairReview.REWORK)
    assert contract_of(engine, contract).status == CtaiStatus.DIAIR_REWORK


def test_the_reworked_actions_go_back_to_the_diair_who_approves_them(engine, contract):
    d = to_diair(engine, contract)
    flagged = actions_of(engine, contract)[1]
    d.answer("revue_diair", DIAIR, "rework", rework_action_ids=[flagged.id], comment="À préciser")
    text = rework_file(
        engine, (flagged, {"intitule": "Parcours vers l'emploi : 40 BPI accompagnés", "montant_eur": "25000.00"})
    )
    with unit_of_work(engine) as s:
        ctai, decision_id = ctai_rework.rework(s, contract, text)
    assert ctai.status == CtaiStatus.DIAIR_REVIEW
    with Session(engine) as s:
        decision = s.get(Decision, decision_id)
    assert (decision.step, decision.decision, decision.from_status, decision.to_status) == (
        "retravail",
        "reworked",
        "diair_rework",
        "diair_review",
    )
    assert decision.actor_label == "collectivité : Ville de Poitiers"
    now = {a.id: a for a in actions_of(engine, contract)}
    assert (now[flagged.id].amount_cents, now[flagged.id].diair_review) == (2_500_000, DiairReview.PENDING)
    assert {a.diair_review for i, a in now.items() if i != flagged.id} == {DiairReview.COMPLIANT}
    d.open("revue_diair")
    with Session(engine) as s:
        told = [
            m.context
            for m in s.exec(
                select(OutboxMessage).where(OutboxMessage.event == "step_started", OutboxMessage.recipient == POITIERS)
            )
        ]
    assert "Vos actions retravaillées ont bien été reçues" in json.dumps(told, ensure_ascii=False)
    assert d.answer("revue_diair", DIAIR, "approve").accepted
    assert contract_of(engine, contract).status == CtaiStatus.ACTIVE


# --- CTAIR registration -------------------------------------------------------------------------


def test_a_ctair_is_registered_in_force_with_its_audit_row_then_widened(engine, ids):
    ctair_id = register_ctair(engine, ids["poitiers"])
    ctair = contract_of(engine, ctair_id)
    assert (
        ctair.kind,
        ctair.status,
        ctair.public_scope,
        ctair.prefet_signed_on,
        ctair.first_year,
        ctair.last_year,
    ) == (CtaiKind.CTAIR, CtaiStatus.ACTIVE, "bpi", date(2020, 2, 14), 2020, 2022)
    assert ctair.reference == f"CTAIR-86-2020-{ctair_id:04d}"
    with Session(engine) as s:
        trail = s.exec(select(Decision).where(Decision.entity_type == "ctai", Decision.entity_id == ctair_id)).all()
    assert [(d.step, d.decision) for d in trail] == [("creation", "registered")]
    assert {a.legal_act for a in actions_of(engine, ctair_id)} == {"convention"}  # 100 000 € a year to the collectivité
    with unit_of_work(engine) as s:
        widened, created = ctai_workflow.create(
            s, collectivite_id=ids["poitiers"], first_year=2021, from_ctair_id=ctair_id
        )
    assert created and widened.status == CtaiStatus.WIDENING
    assert sorted(funding_of(engine, widened.id)) == [2021, 2022]


@pytest.mark.parametrize(
    "change, code",
    [
        ({"signature": "2021-01-10"}, "CTAIR_DATE_SIGNATURE"),
        ({"public": "primo_arrivants"}, "R2_CTAIR_REFUGIES"),
        ({"actions": [{**CTAIR_FILE["actions"][0], "action_p104": 12}]}, "R17_ACTION_P104"),
        (
            {
                "financement": [{"annee": 2023, "socle_eur": "150000.00"}],
                "actions": [{**CTAIR_FILE["actions"][0], "annee": 2023}],
            },
            "CTAIR_ANNEE_HORS_TERME",
        ),
        ({"actions": [{**CTAIR_FILE["actions"][0], "montant_eur": "5000000.00"}]}, "MONTANT_PLAFOND"),
        ({"actions": [{**CTAIR_FILE["actions"][0], "porteur_siret": "99900509900099"}]}, "PORTEUR_INCONNU"),
    ],
)
def test_an_invalid_ctair_is_refused_by_the_command_and_nothing_is_stored(engine, ids, app_env, tmp_path, change, code):
    data = {**CTAIR_FILE, **{k: v for k, v in change.items() if k != "signature"}}
    path = tmp_path / "ctair.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    result = run(
        "ctai",
        "register-ctair",
        "--collectivite",
        str(ids["poitiers"]),
        "--signature-date",
        change.get("signature", "2020-02-14"),
        str(path),
        "--json",
    )
    assert result.exit_code == 2 and code in result.stdout, result.output
    with Session(engine) as s:
        assert s.exec(select(Ctai).where(Ctai.kind == CtaiKind.CTAIR)).all() == []


def test_a_second_active_ctair_or_an_unknown_collectivite_is_refused(engine, ids, app_env, tmp_path):
    path = tmp_path / "ctair.json"
    path.write_text(json.dumps(CTAIR_FILE), encoding="utf-8")
    first = run(
        "ctai",
        "register-ctair",
        "--collectivite",
        str(ids["poitiers"]),
        "--signature-date",
        "2020-02-14",
        str(path),
        "--json",
    )
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["type"] == "ctair"
    again = run(
        "ctai",
        "register-ctair",
        "--collectivite",
        str(ids["poitiers"]),
        "--signature-date",
        "2020-02-14",
        str(path),
        "--json",
    )
    assert again.exit_code == 2 and "CTAIR_EN_DOUBLE" in again.stdout
    unknown = run(
        "ctai", "register-ctair", "--collectivite", "999", "--signature-date", "2020-02-14", str(path), "--json"
    )
    assert unknown.exit_code == 2 and "COLLECTIVITE_INCONNUE" in unknown.stdout


# --- Signatures ---------------------------------------------------------------------------------


def test_the_signature_records_the_elu_s_own_date_and_the_diair_co_signature(engine, contract):
    d = to_signature(engine, contract)
    d.open("signature")
    out = d.answer("signature", P86, "sign", signature_date="2021-10-21")
    assert [v["field"] for v in out.violations] == ["elu_signature_date"]
    out = d.answer(
        "signature",
        P86,
        "sign",
        signature_date="2021-10-21",
        elu_signature_date="2021-10-19",
        diair_cosignatory_name="Délégué interministériel",
    )
    assert [v["code"] for v in out.violations] == ["COSIGNATURE_INCOMPLETE"]
    assert d.answer(
        "signature",
        P86,
        "sign",
        signature_date="2021-10-21",
        elu_signature_date="2021-10-19",
        diair_cosignatory_name="Délégué interministériel",
        diair_cosignature_date="2021-10-25",
    ).accepted
    ctai = contract_of(engine, contract)
    assert (ctai.prefet_signed_on, ctai.elu_signed_on, ctai.diair_cosignatory_name, ctai.diair_cosigned_on) == (
        date(2021, 10, 21),
        date(2021, 10, 19),
        "Délégué interministériel",
        date(2021, 10, 25),
    )
    with Session(engine) as s:
        data, markdown = show(s, contract), contract_markdown(s, contract)
    assert (data["signature_prefet"], data["signature_elu"]) == ("2021-10-21", "2021-10-19")
    assert data["cosignature_diair"] == {"nom": "Délégué interministériel", "date": "2021-10-25"}
    assert "préfet le 21/10/2021 ; élu le 19/10/2021 ; co-signé par le délégué interministériel" in markdown


def test_a_widening_is_signed_with_both_dates(engine, ids):
    ctair_id = register_ctair(engine, ids["poitiers"])
    with unit_of_work(engine) as s:
        widened, _ = ctai_workflow.create(s, collectivite_id=ids["poitiers"], first_year=2021, from_ctair_id=ctair_id)
    data = json.loads(proposal_text())
    data["financement"] = [{"annee": 2021, "socle_eur": "150000.00", "complementaire_eur": "50000.00"}]
    assert propose(engine, widened.id, json.dumps(data)) == []
    d = Driver(engine, widened.id)
    d.open("elargissement")
    assert [v["field"] for v in d.answer("elargissement", P86, "sign", signature_date="2021-06-01").violations] == [
        "elu_signature_date"
    ]
    assert d.answer("elargissement", P86, "sign", signature_date="2021-06-01", elu_signature_date="2021-06-03").accepted
    assert (contract_of(engine, widened.id).elu_signed_on, contract_of(engine, ctair_id).status) == (
        date(2021, 6, 3),
        CtaiStatus.REPLACED,
    )


# --- The yearly review: its year, its term, the bilan, the préfet's signature -----------------


def open_review(engine, ctai_id, year=None) -> Driver:
    with unit_of_work(engine) as s:
        ctai_workflow.open_yearly_review(s, ctai_id, year)
    d = Driver(engine, ctai_id)
    d.open("bilan")
    return d


def test_the_review_opens_on_the_last_funded_year_not_yet_reviewed_within_the_term(engine, contract):
    active(engine, contract)
    with pytest.raises(RuleViolation) as exc, unit_of_work(engine) as s:
        ctai_workflow.open_yearly_review(s, contract, 2024)
    assert exc.value.codes == ["BILAN_ANNEE_HORS_CONTRAT"]
    d = open_review(engine, contract)
    assert contract_of(engine, contract).review_year == 2021
    assert "Bilan 2021 (contrat 2021–2023)" in d.reopen("bilan").description
    assert d.answer("bilan", I86, "prolong", bilan_actions=bilan_lines(engine, contract, 2021)).accepted
    assert sorted(funding_of(engine, contract)) == [2021, 2022]
    assert len([a for a in actions_of(engine, contract) if a.year == 2022]) == 4  # the same actions, carried on
    with pytest.raises(RuleViolation) as exc, unit_of_work(engine) as s:
        ctai_workflow.open_yearly_review(s, contract, 2021)
    assert exc.value.codes == ["BILAN_DEJA_FAIT"]
    open_review(engine, contract)
    assert contract_of(engine, contract).review_year == 2022


def test_the_bilan_covers_each_action_of_the_year_within_its_amount(engine, contract):
    active(engine, contract)
    d = open_review(engine, contract)
    lines = bilan_lines(engine, contract, 2021)
    out = d.answer("bilan", I86, "prolong", bilan_actions=lines[:-1])
    assert [v["code"] for v in out.violations] == ["BILAN_ACTIONS_MANQUANTES"]
    lines[0]["consomme_eur"] = 40_001  # Coallia: 40 000 €
    out = d.answer("bilan", I86, "prolong", bilan_actions=lines)
    assert [v["code"] for v in out.violations] == ["BILAN_CONSOMME_SUPERIEUR"]
    lines[0]["consomme_eur"] = 39_000
    assert d.answer("bilan", I86, "prolong", bilan_actions=lines, comment="Actions reconduites").accepted
    with Session(engine) as s:
        review = s.exec(select(CtaiReview).where(CtaiReview.ctai_id == contract)).one()
        bilans = s.exec(select(CtaiActionReview).where(CtaiActionReview.review_id == review.id)).all()
        instructeur = s.exec(select(Decision).where(Decision.step == "bilan", Decision.decision == "prolong")).one()
    assert (review.year, review.proposal, review.decided_at is not None) == (2021, "prolong", True)
    assert review.prepared_by_agent_id == instructeur.actor_agent_id
    consumed = {b.action_id: b.consumed_cents for b in bilans}
    assert consumed[lines[0]["action_id"]] == 3_900_000 and len(consumed) == 4 and all(b.carried_out for b in bilans)


def test_an_avenant_funds_the_year_after_the_one_reviewed_once_the_prefet_signs_it(engine, contract):
    two_years = json.loads(proposal_text())
    two_years["financement"].append({"annee": 2022, "socle_eur": "150000.00", "complementaire_eur": "50000.00"})
    two_years["actions"] += [{**a, "annee": 2022} for a in two_years["actions"]]
    active(engine, contract, json.dumps(two_years))
    d = open_review(engine, contract, 2021)
    out = d.answer(
        "bilan",
        I86,
        "amend",
        amount_eur=250000,
        complementary_eur=50000,
        bilan_actions=bilan_lines(engine, contract, 2021),
    )
    assert out.accepted and out.next_step == "bilan_signature"
    assert funding_of(engine, contract)[2022] == (15_000_000, 5_000_000)  # nothing changes before the signature
    d.open("bilan_signature")
    assert d.answer("bilan_signature", P86, "sign_amendment", signature_date="2022-01-20").accepted
    assert funding_of(engine, contract) == {2021: (15_000_000, 5_000_000), 2022: (25_000_000, 5_000_000)}  # not 2023
    with Session(engine) as s:
        signed = s.exec(select(Decision).where(Decision.decision == "sign_amendment")).one()
    assert signed.amount_cents == 30_000_000 and contract_of(engine, contract).status == CtaiStatus.ACTIVE


def test_past_the_term_the_contract_is_renewed_not_prolonged(engine, ids, contract):
    active(engine, contract)
    for year in (2021, 2022):
        d = open_review(engine, contract)
        assert d.answer("bilan", I86, "prolong", bilan_actions=bilan_lines(engine, contract, year)).accepted
    d = open_review(engine, contract)
    assert contract_of(engine, contract).review_year == 2023
    for proposal in ("prolong", "amend"):
        out = d.answer("bilan", I86, proposal, amount_eur=150000, bilan_actions=bilan_lines(engine, contract, 2023))
        assert [v["code"] for v in out.violations] == ["BILAN_TERME_ATTEINT"]
    assert d.answer("bilan", I86, "renew", bilan_actions=bilan_lines(engine, contract, 2023)).accepted
    d.open("bilan_signature")
    assert d.answer("bilan_signature", P86, "sign_end", signature_date="2024-01-22").accepted
    assert contract_of(engine, contract).status == CtaiStatus.ENDED
    with Session(engine) as s:
        renewal = s.exec(select(Ctai).where(Ctai.renews_ctai_id == contract)).one()
    assert (renewal.status, renewal.first_year, renewal.last_year, renewal.collectivite_id) == (
        CtaiStatus.AWAITING_LETTER,
        2024,
        2026,
        ids["poitiers"],
    )


def test_the_prefet_signs_what_was_proposed_never_the_instructeur_and_may_send_it_back(engine, contract):
    active(engine, contract)
    d = open_review(engine, contract)
    assert d.answer("bilan", I86, "end", bilan_actions=bilan_lines(engine, contract, 2021)).accepted
    with unit_of_work(engine) as s:  # the instructeur has since been named préfet (intérim)
        from models.actors import Agent

        agent = s.exec(select(Agent).where(Agent.email == I86)).one()
        agent.role = "prefet"
        s.add(agent)

    def codes_to(address):
        with Session(engine) as s:
            return len(
                s.exec(
                    select(OutboxMessage).where(
                        OutboxMessage.event == "approval_requested", OutboxMessage.recipient == address
                    )
                ).all()
            )

    before = codes_to(I86), codes_to(P86)
    d.open("bilan_signature")
    assert (codes_to(I86), codes_to(P86)) == (before[0], before[1] + 1)  # no code for the one who prepared it
    out = d.answer("bilan_signature", I86, "sign_end", code="AAAA-BBBB", signature_date="2022-01-20")
    assert out.violations[0]["code"] == "IDENTIFICATION_REFUSEE"  # four eyes, said as for anyone not entitled
    wrong = d.answer("bilan_signature", P86, "sign_amendment", signature_date="2022-01-20")
    assert [v["code"] for v in wrong.violations] == ["BILAN_DECISION_DISCORDANTE"]
    back = d.answer("bilan_signature", P86, "rework", comment="Bilan de l'emploi à compléter")
    assert back.accepted and back.next_step == "bilan"
    assert (contract_of(engine, contract).status, contract_of(engine, contract).review_year) == (
        CtaiStatus.YEARLY_REVIEW,
        2021,
    )


def test_the_daily_run_opens_the_review_of_the_year_it_computed(engine, contract):
    from services.followup import reminders

    active(engine, contract)
    assert reminders.run(date(2022, 1, 17), engine)["bilans_ouverts"] == [contract]
    assert contract_of(engine, contract).review_year == 2021


def test_the_bilan_form_lists_the_actions_a_comite_flagged_for_the_yearly_review(engine, contract):
    from models.pilotage import Comite, ComiteActionReview, ComiteLevel, ComiteStatus

    active(engine, contract)
    flagged = actions_of(engine, contract)[0]
    with unit_of_work(engine) as s:
        comite = Comite(
            reference="COPIL-86-2021-0001",
            level=ComiteLevel.LOCAL,
            departement_code="86",
            status=ComiteStatus.HELD,
            planned_on=date(2021, 11, 15),
            held_on=date(2021, 11, 16),
        )
        s.add(comite)
        s.flush()
        s.add(
            ComiteActionReview(
                comite_id=comite.id,
                ctai_id=contract,
                action_id=flagged.id,
                flag_for_review=True,
                reason="Taux d'accès au logement à évaluer",
            )
        )
    d = open_review(engine, contract)
    description = d.reopen("bilan").description
    assert "Actions signalées par les comités de pilotage" in description
    assert (
        f"action n° {flagged.id} (comité COPIL\\-86\\-2021\\-0001, 16/11/2021) : Taux d\\'accès au logement à évaluer"
    ) in description  # escaped Markdown


def test_the_example_ctair_file_registers(engine, ids):
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "examples" / "ctair.json").read_text(encoding="utf-8")
    with unit_of_work(engine) as s:
        ctair = ctai_rework.register_ctair(
            s, collectivite_id=ids["poitiers"], signature_date=date(2020, 2, 14), text=text
        )
        assert (ctair.kind, ctair.status, ctair.last_year) == (CtaiKind.CTAIR, CtaiStatus.ACTIVE, 2022)
