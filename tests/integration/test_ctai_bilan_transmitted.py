"""The bilan the collectivité transmits (``territoires ctai bilan``): checked, kept on the year's
review, shown in the form and used when the instructeur leaves the form's bilan empty."""

import json

from sqlmodel import Session, select

from models.ctai import CtaiActionReview, CtaiReview
from models.decision import Decision
from tests.cli import run
from tests.integration.test_ctai_procedure import I86, active, funding_of, open_review
from tests.workflow import bilan_lines


def _file(tmp_path, lines) -> str:
    path = tmp_path / "bilan.json"
    path.write_text(json.dumps({"actions": lines}), encoding="utf-8")
    return str(path)


def test_a_transmitted_bilan_is_shown_in_the_form_and_kept_when_the_instructeur_prolongs(
    engine, contract, app_env, tmp_path
):
    active(engine, contract)
    d = open_review(engine, contract)
    lines = bilan_lines(engine, contract, 2021)
    for line in lines:
        line["consomme_eur"] = str(line["consomme_eur"])
    result = run("ctai", "bilan", str(contract), _file(tmp_path, lines), "--json")
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert (printed["ctai_id"], printed["annee"], printed["actions"]) == (contract, 2021, len(lines))
    assert "Bilan transmis par la collectivité" in d.reopen("bilan").description
    assert d.answer("bilan", I86, "prolong").accepted  # the form's bilan left empty
    with Session(engine) as s:
        review = s.exec(select(CtaiReview).where(CtaiReview.ctai_id == contract)).one()
        kept = s.exec(select(CtaiActionReview).where(CtaiActionReview.review_id == review.id)).all()
        transmitted = s.exec(select(Decision).where(Decision.decision == "bilan_transmitted")).one()
    assert len(kept) == len(lines) and review.decided_at is not None
    assert transmitted.actor_label.startswith("collectivité") and sorted(funding_of(engine, contract)) == [2021, 2022]


def test_a_transmitted_bilan_that_misses_an_action_is_refused_and_nothing_is_kept(engine, contract, app_env, tmp_path):
    active(engine, contract)
    open_review(engine, contract)
    lines = bilan_lines(engine, contract, 2021)
    result = run("ctai", "bilan", str(contract), _file(tmp_path, lines[:-1]))
    assert result.exit_code == 2 and "BILAN_ACTIONS_MANQUANTES" in result.output
    with Session(engine) as s:
        assert s.exec(select(CtaiActionReview)).all() == []


def test_a_bilan_cannot_be_transmitted_before_the_review_opens(engine, contract, app_env, tmp_path):
    active(engine, contract)
    result = run("ctai", "bilan", str(contract), _file(tmp_path, bilan_lines(engine, contract, 2021)))
    assert result.exit_code == 2 and "BILAN_NON_OUVERT" in result.output


def test_without_any_bilan_the_instructeur_is_asked_for_one(engine, contract):
    active(engine, contract)
    d = open_review(engine, contract)
    out = d.answer("bilan", I86, "prolong")
    assert [v["code"] for v in out.violations] == ["BILAN_ACTIONS_MANQUANTES"]
