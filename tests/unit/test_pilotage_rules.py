"""Comités de pilotage: the state machine (who records which comité), the rules of planning and of
a compte rendu, the form's bounds, and when a comité's run starts."""

from datetime import date, datetime, timedelta

import pytest

from models.actors import Role
from models.errors import TransitionNotAllowed
from models.pilotage import (
    HELD_EARLIEST_BEFORE_PLANNED,
    MAX_PARTICIPANTS,
    ActionDecisionInput,
    Comite,
    ComiteLevel,
    ComiteStatus,
    check_cancel,
    check_minutes,
    check_plan,
    comite_reference,
    reviewed_actions,
)
from models.types import PARIS
from services.engine.forms import parse_answer
from services.pilotage.forms import CompteRenduForm, CompteRenduNationalForm
from services.pilotage.steps import COMITE_MACHINE
from services.pilotage.workflow import COMITE, scheduled_time

TODAY = date(2022, 3, 15)


def codes(violations):
    return [v.code for v in violations]


def test_a_local_comite_is_recorded_by_the_prefet_and_a_national_one_by_the_diair():
    assert COMITE.awaited_role("compte_rendu") == Role.PREFET
    assert COMITE.awaited_role("compte_rendu_national") == Role.DIAIR
    assert COMITE.step_of(ComiteStatus.PLANNED_LOCAL) == "compte_rendu"
    assert COMITE.step_of(ComiteStatus.PLANNED_NATIONAL) == "compte_rendu_national"
    assert COMITE.flow_name("compte_rendu") == COMITE.flow_name("compte_rendu_national") == "comite-pilotage"


@pytest.mark.parametrize("planned", [ComiteStatus.PLANNED_LOCAL, ComiteStatus.PLANNED_NATIONAL])
def test_a_planned_comite_is_held_or_cancelled_once_and_nothing_follows(planned):
    for decision, target in (("record", ComiteStatus.HELD), ("cancel", ComiteStatus.CANCELLED)):
        comite = Comite(level=ComiteLevel.LOCAL, status=planned, planned_on=TODAY)
        assert COMITE_MACHINE.apply(comite, decision).target == target and comite.status == target
        for again in ("record", "cancel"):
            with pytest.raises(TransitionNotAllowed):
                COMITE_MACHINE.apply(comite, again)


def test_references_name_the_departement_or_the_nation():
    assert comite_reference(ComiteLevel.LOCAL, "86", 2022, 3) == "COPIL-86-2022-0003"
    assert comite_reference(ComiteLevel.NATIONAL, None, 2022, 14) == "COPIL-NAT-2022-0014"


def plan(**changes):
    args = dict(
        level=ComiteLevel.LOCAL,
        departement_code="86",
        departement_known=True,
        planned_on=TODAY,
        today=TODAY,
        chosen=[],
        in_scope={1, 2},
    )
    return codes(check_plan(**{**args, **changes}))


def test_planning_a_comite_checks_its_scope_and_its_date():
    assert plan() == [] and plan(chosen=[2]) == []
    assert plan(level=ComiteLevel.NATIONAL, departement_code=None, departement_known=False) == []
    assert plan(departement_code=None, departement_known=False) == ["COMITE_DEPARTEMENT_MANQUANT"]
    assert plan(departement_known=False) == ["COMITE_DEPARTEMENT_INCONNU"]
    assert plan(level=ComiteLevel.NATIONAL) == ["COMITE_NATIONAL_SANS_DEPARTEMENT"]
    assert plan(chosen=[2, 3]) == ["COMITE_CONTRAT_HORS_PERIMETRE"]
    assert plan(in_scope=set()) == ["COMITE_SANS_CONTRAT"]
    assert plan(planned_on=date(2018, 12, 31)) == ["DATE_HORS_BORNES"]
    assert plan(planned_on=TODAY + timedelta(days=800)) == ["DATE_HORS_BORNES"]
    assert plan(planned_on=TODAY + timedelta(days=200)) == []


def decision(action_id, text="Action poursuivie", flag=False, reason=None):
    return ActionDecisionInput(action_id, text, flag, reason)


def minutes(**changes):
    args = dict(
        held_on=TODAY,
        planned_on=TODAY,
        today=TODAY,
        participants=2,
        reviewed_ids=[1, 2],
        decisions=[decision(1, flag=True, reason="évaluation approfondie")],
        allowed_action_ids={1, 2, 3},
    )
    return codes(check_minutes(**{**args, **changes}))


def test_a_compte_rendu_is_dated_when_the_comite_could_have_been_held():
    assert minutes() == []
    assert minutes(held_on=TODAY - HELD_EARLIEST_BEFORE_PLANNED) == []  # brought forward, within the margin
    assert minutes(held_on=TODAY - HELD_EARLIEST_BEFORE_PLANNED - timedelta(days=1)) == ["COMITE_DATE_TROP_TOT"]
    assert minutes(held_on=TODAY + timedelta(days=1)) == ["COMITE_DATE_FUTURE"]
    assert minutes(held_on=date(2022, 5, 2), today=date(2022, 5, 2)) == []  # held late: fine


def test_a_compte_rendu_names_its_participants_and_only_actions_of_the_contracts_covered():
    assert minutes(participants=0) == ["COMITE_PARTICIPANT_MANQUANT"]
    assert minutes(reviewed_ids=[1, 9]) == ["COMITE_ACTION_HORS_CONTRATS"]
    assert minutes(decisions=[decision(8)]) == ["COMITE_ACTION_HORS_CONTRATS"]  # a decision reviews its action
    assert minutes(reviewed_ids=[], decisions=[]) == []  # a comité may review no action in particular


def test_each_action_gets_one_decision_that_says_something_and_a_flag_needs_its_reason():
    assert minutes(decisions=[decision(1), decision(1, "autre")]) == ["COMITE_DECISION_EN_DOUBLE"]
    assert minutes(decisions=[decision(1, flag=True, reason="  ")]) == ["COMITE_MOTIF_REVUE_MANQUANT"]
    assert minutes(decisions=[decision(2, text=None)]) == ["COMITE_DECISION_VIDE"]
    assert minutes(decisions=[decision(2, text=None, flag=True, reason="à évaluer")]) == []


def test_the_actions_reviewed_are_those_listed_then_those_decided_each_once():
    assert reviewed_actions([3, 1], [decision(1), decision(5)]) == [3, 1, 5]


def test_cancelling_needs_a_reason():
    assert codes(check_cancel(None)) == codes(check_cancel(" ")) == ["COMITE_MOTIF_ANNULATION_MANQUANT"]
    assert check_cancel("préfète empêchée") == []


def answer(form=CompteRenduForm, **fields):
    return parse_answer(
        form,
        {
            "agent_email": "prefet.86@prefecture-86.example",
            "approval_code": "ABCD-EFGH",
            "decision": "enregistrer le compte rendu",
            **fields,
        },
    )


def test_the_form_is_bounded_and_refuses_hidden_characters():
    form, problems = answer(
        participants=[{"name": "Préfète", "function": "préfète de la Vienne"}],
        decisions=[{"action_id": 3, "decision": "poursuivie", "flag_for_review": True, "reason": "x"}],
    )
    assert problems == [] and form.decision_code == "record" and form.decisions[0].flag_for_review
    _, problems = answer(participants=[{"name": "X"}] * (MAX_PARTICIPANTS + 1))
    assert [p.code for p in problems] == ["CHAMP_INVALIDE"]
    _, problems = answer(participants=[{"name": "Mme\u202eDurand"}])
    assert [p.code for p in problems] == ["TEXTE_CARACTERES_INTERDITS"]
    _, problems = answer(minutes="x" * 10_001)
    assert [p.code for p in problems] == ["CHAMP_INVALIDE"]
    _, problems = answer(decisions=[{"action_id": 0}])
    assert [p.code for p in problems] == ["CHAMP_INVALIDE"]
    schema = CompteRenduForm.model_json_schema()
    assert schema["properties"]["participants"]["maxItems"] == MAX_PARTICIPANTS  # the Prefect server enforces it
    national, problems = answer(CompteRenduNationalForm, decision="cancel", comment="reporté")
    assert problems == [] and national.decision_code == "cancel"


def test_a_comite_to_come_starts_on_its_day_at_eight_paris_time_otherwise_now():
    assert scheduled_time(TODAY, today=TODAY) is None
    assert scheduled_time(TODAY - timedelta(days=3), today=TODAY) is None
    when = scheduled_time(date(2022, 7, 1), today=TODAY)
    assert when == datetime(2022, 7, 1, 8, 0, tzinfo=PARIS) and when.utcoffset() == timedelta(hours=2)


def test_the_minutes_email_escapes_what_people_typed_in_html_and_flags_each_action_for_review():
    from notifications.render import render_parts
    from tests.email_samples import SAMPLES

    context = {
        **SAMPLES["comite_minutes"],
        "compte_rendu": "<script>alert('x')</script>",
        "participants": ["<b>Mme Durand</b>"],
    }
    subject, text, html = render_parts("comite_minutes", context)
    assert subject == "[COPIL-86-2022-0001] Compte rendu du comité de pilotage local du 15 mars 2022"
    assert "<script>" not in html and "&lt;script&gt;" in html and "&lt;b&gt;Mme Durand" in html
    assert "<script>alert('x')</script>" in text
    assert text.count("À revoir au bilan annuel du contrat") == 1  # the sample flags one action of two
