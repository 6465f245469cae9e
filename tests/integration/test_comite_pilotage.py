"""Comités de pilotage as database transactions (what the flow does around its wait), on both
databases: planning and its scope, the compte rendu refused with its reasons or recorded, the
minutes queued once to each party, the flags the yearly review reads, the cancellation."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from sqlmodel import Session, func, select

from models.actors import AgentCreate, CollectiviteCreate
from models.ctai import Action, Ctai, CtaiStatus
from models.decision import Decision
from models.french import typographie
from models.outbox import OutboxMessage
from models.pilotage import Comite, ComiteActionReview, ComiteParticipant, ComiteStatus
from models.reference import Domain, P104Action, Public
from models.types import paris_today
from notifications.render import render_parts
from services import registry
from services.db import unit_of_work
from services.engine import runs
from services.engine import steps as engine_steps
from services.pilotage import records
from services.pilotage import workflow as pilotage
from services.pilotage.texts import comite_markdown
from tests.codes import mailed_code
from tests.workflow import poitiers

P86, I86, P37 = (
    "prefet.86@prefecture-86.example",
    "instructeur.86@prefecture-86.example",
    "prefet.37@prefecture-37.example",
)
DIAIR, MINISTERE, POITIERS, TOURS = (
    "diair@interieur.example",
    "ministere@interieur.example",
    "integration@poitiers.example",
    "integration@tours.example",
)


def active_contract(
    engine, collectivite_id: int, reference: str, porteur_ids: list[int | None], status: CtaiStatus = CtaiStatus.ACTIVE
) -> tuple[int, list[int]]:
    """A contract in execution with one action per porteur (None: carried by the collectivité);
    the one of that reference if it exists already."""
    with Session(engine) as s:
        known = s.exec(select(Ctai).where(Ctai.reference == reference)).first()
        if known is not None:
            return known.id, list(s.exec(select(Action.id).where(Action.ctai_id == known.id).order_by(Action.id)))
        ctai = Ctai(
            collectivite_id=collectivite_id,
            status=status,
            first_year=2021,
            last_year=2023,
            public_scope=Public.BPI,
            reference=reference,
        )
        s.add(ctai)
        s.flush()
        actions = [
            Action(
                ctai_id=ctai.id,
                title=f"Action {n} de {reference}",
                domain=Domain.LOGEMENT if n == 1 else Domain.EMPLOI,
                porteur_id=porteur,
                public=Public.BPI,
                p104_action=P104Action.REFUGIES,
                amount_cents=4_000_000,
                year=2021,
            )
            for n, porteur in enumerate(porteur_ids, start=1)
        ]
        s.add_all(actions)
        s.commit()
        return ctai.id, [a.id for a in actions]


def setting(engine) -> dict:
    """Vienne (Poitiers: a contract in execution with Coallia's and Audacia's actions, another
    one still being prepared) and Indre-et-Loire (Tours, in execution); their agents, the Diair
    and a ministry officer. Idempotent (the flow tests share one database per module)."""
    ids = poitiers(engine)
    with unit_of_work(engine) as s:
        porteurs = {p.name: p.id for p in registry.list_porteurs(s)}
        known = {c.siren: c.id for c in registry.list_collectivites(s)}
        ids["tours"] = (
            known.get("217102615")
            or registry.add_collectivite(
                s,
                CollectiviteCreate(
                    name="Ville de Tours", type="commune", siren="217102615", departement_code="37", email=TOURS
                ),
            ).id
        )
        if MINISTERE not in {a.email for a in registry.list_agents(s)}:
            registry.add_agent(s, AgentCreate(email=MINISTERE, name="Officier DGEF", role="ministere"))
    ids["porteurs"] = porteurs
    ids["ctai86"], ids["actions86"] = active_contract(
        engine, ids["poitiers"], "CTAI-86-2021-0001", [porteurs["Coallia"], porteurs["Audacia"], None]
    )
    ids["prep86"], _ = active_contract(engine, ids["poitiers"], "CTAI-86-2022-0002", [None], status=CtaiStatus.PROPOSAL)
    ids["ctai37"], ids["actions37"] = active_contract(
        engine, ids["tours"], "CTAI-37-2021-0003", [porteurs["Toit du Monde"]]
    )
    return ids


class ComiteDriver:
    """Opens the comité's step and answers its form as the flow would, codes read from the outbox."""

    def __init__(self, engine, comite_id: int):
        self.engine, self.comite_id, self.attempt = engine, comite_id, 0
        self.run_id = str(uuid.uuid4())
        with unit_of_work(engine) as s:
            self.step = records.step_of(records.load(s, comite_id))
            key = runs.trigger_key(s, "comite", comite_id, self.step, self.run_id)
            runs.reserve(
                s,
                entity_type="comite",
                entity_id=comite_id,
                step=self.step,
                key=key,
                awaited_role=pilotage.COMITE.awaited_role(self.step),
            )
        with unit_of_work(engine) as s:
            self.view = engine_steps.open_step(
                s,
                pilotage.COMITE,
                entity_id=comite_id,
                step=self.step,
                flow_run_id=self.run_id,
                trigger=key,
                link="http://ui/run",
            )

    def answer(self, email: str, decision: str, *, attempt: int | None = None, **fields):
        if attempt is None:
            self.attempt += 1
        answer = {
            "agent_email": email,
            "approval_code": mailed_code(self.engine, email),
            "decision": decision,
            **fields,
        }
        with unit_of_work(self.engine) as s:
            return engine_steps.decide(
                s,
                pilotage.COMITE,
                entity_id=self.comite_id,
                step=self.step,
                flow_run_id=self.run_id,
                attempt=attempt or self.attempt,
                answer=answer,
                link="http://ui/run",
            )


def plan(engine, level="local", departement="86", planned_on=None, ctai_ids=None) -> Comite:
    with unit_of_work(engine) as s:
        comite, _ = pilotage.plan(
            s, level=level, departement_code=departement, planned_on=planned_on or paris_today(), ctai_ids=ctai_ids
        )
    return comite


def mails(engine, event: str | None = None, reference: str | None = None) -> list[OutboxMessage]:
    with Session(engine) as s:
        rows = list(s.exec(select(OutboxMessage).order_by(OutboxMessage.id)))
    return [
        r
        for r in rows
        if (event is None or r.event == event) and (reference is None or r.context.get("reference") == reference)
    ]


def codes_of(outcome) -> set[str]:
    return {v["code"] for v in outcome.violations}


def minutes(actions: list[int], **changes) -> dict:
    fields = {
        "held_on": paris_today().isoformat(),
        "participants": [{"name": "Préfète de la Vienne"}, {"name": "Mme Durand", "function": "adjointe au maire"}],
        "reviewed_action_ids": actions[:2],
        "decisions": [
            {
                "action_id": actions[0],
                "decision": "Action poursuivie",
                "flag_for_review": True,
                "reason": "action la plus importante du contrat",
            },
            {"action_id": actions[1], "decision": "Action poursuivie sans changement"},
        ],
        "minutes": "Point d'étape de l'exécution 2021.\nProchain comité à l'automne.",
    }
    return {**fields, **changes}


# --- Planning -------------------------------------------------------------------------------------


def test_a_local_comite_covers_its_departements_contracts_in_execution_and_is_planned_once(engine):
    ids = setting(engine)
    first = plan(engine)
    again = plan(engine)
    assert again.id == first.id and first.reference == f"COPIL-86-{paris_today().year}-{first.id:04d}"
    with Session(engine) as s:
        assert records.contract_ids(s, first.id) == [ids["ctai86"]]  # not the contract in preparation, not Tours
        assert s.get(Comite, first.id).status == ComiteStatus.PLANNED_LOCAL
    planned = mails(engine, "step_started", first.reference)
    assert [m.recipient for m in planned] == [POITIERS]  # the collectivité learns the date, once


def test_a_national_comite_covers_every_departement_or_the_contracts_chosen(engine):
    ids = setting(engine)
    every = plan(engine, level="national", departement=None)
    chosen = plan(engine, level="national", departement=None, ctai_ids=[ids["ctai37"]])
    with Session(engine) as s:
        assert records.contract_ids(s, every.id) == [ids["ctai86"], ids["ctai37"]]
        assert records.contract_ids(s, chosen.id) == [ids["ctai37"]]
    assert every.reference.startswith("COPIL-NAT-") and chosen.id != every.id


@pytest.mark.parametrize(
    ("level", "departement", "ctai", "code"),
    [
        ("local", None, None, "COMITE_DEPARTEMENT_MANQUANT"),
        ("local", "999", None, "COMITE_DEPARTEMENT_INCONNU"),
        ("national", "86", None, "COMITE_NATIONAL_SANS_DEPARTEMENT"),
        ("local", "86", "ctai37", "COMITE_CONTRAT_HORS_PERIMETRE"),
        ("local", "86", "prep86", "COMITE_CONTRAT_HORS_PERIMETRE"),
        ("local", "33", None, "COMITE_SANS_CONTRAT"),
    ],
)
def test_a_comite_outside_its_scope_is_refused_and_nothing_is_stored(engine, level, departement, ctai, code):
    from models.errors import RuleViolation

    ids = setting(engine)
    with pytest.raises(RuleViolation) as refused:
        plan(engine, level=level, departement=departement, ctai_ids=[ids[ctai]] if ctai else None)
    assert code in {v.code for v in refused.value.violations}
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(Comite)).one() == 0


# --- The compte rendu -------------------------------------------------------------------------------


def test_a_compte_rendu_that_breaks_the_rules_is_refused_with_each_reason_and_changes_nothing(engine):
    ids = setting(engine)
    comite = plan(engine)
    d = ComiteDriver(engine, comite.id)
    assert (
        d.view.awaited_role == "prefet"
        and d.view.run_name == f"Comité de pilotage local — la Vienne (86) — {paris_today():%d/%m/%Y}"
    )
    out = d.answer(
        P86,
        "record",
        **minutes(
            ids["actions86"],
            held_on=(paris_today() + timedelta(days=3)).isoformat(),
            participants=[],
            reviewed_action_ids=[ids["actions37"][0]],
            decisions=[{"action_id": ids["actions86"][0], "flag_for_review": True}],
        ),
    )
    assert not out.accepted
    assert codes_of(out) == {
        "COMITE_DATE_FUTURE",
        "COMITE_PARTICIPANT_MANQUANT",
        "COMITE_ACTION_HORS_CONTRATS",
        "COMITE_MOTIF_REVUE_MANQUANT",
    }
    out = d.answer(P86, "record", **minutes(ids["actions86"], held_on=(paris_today() - timedelta(days=31)).isoformat()))
    assert codes_of(out) == {"COMITE_DATE_TROP_TOT"}
    out = d.answer(P86, "record", **minutes(ids["actions86"], held_on=None))
    assert codes_of(out) == {"CHAMP_MANQUANT"}
    out = d.answer(P86, "cancel")
    assert codes_of(out) == {"COMITE_MOTIF_ANNULATION_MANQUANT"}
    with Session(engine) as s:
        assert (
            s.get(Comite, comite.id).status == ComiteStatus.PLANNED_LOCAL and s.get(Comite, comite.id).held_on is None
        )
        assert s.exec(select(func.count()).select_from(ComiteParticipant)).one() == 0
        assert s.exec(select(func.count()).select_from(ComiteActionReview)).one() == 0
    assert mails(engine, "comite_minutes") == []


def test_the_recorded_compte_rendu_is_mailed_once_to_each_party_and_flags_actions_for_the_yearly_review(engine):
    ids = setting(engine)
    comite = plan(engine)
    d = ComiteDriver(engine, comite.id)
    out = d.answer(P86, "record", **minutes(ids["actions86"]))
    assert out.accepted and out.leaves_step and out.next_step is None
    again = d.answer(P86, "record", attempt=d.attempt, **minutes(ids["actions86"]))  # a resumed run judges it again
    assert again.decision_id == out.decision_id
    with unit_of_work(engine) as s:
        assert pilotage.queue_minutes(s, s.get(Comite, comite.id)) == 0  # keyed: nothing twice
    sent = mails(engine, "comite_minutes", comite.reference)
    # the collectivité, the porteurs of the two actions reviewed, the préfet of the département
    assert sorted(m.recipient for m in sent) == sorted(
        [POITIERS, "contact1@porteur.example", "contact2@porteur.example", P86]
    )
    subject, text, html = render_parts("comite_minutes", sent[0].context)
    assert subject == f"[{comite.reference}] Compte rendu du comité de pilotage local du {_fr(paris_today())}"
    assert typographie("À revoir au bilan annuel du contrat : action la plus importante du contrat") in text
    assert "Mme Durand, adjointe au maire" in text and "Prochain comité à l'automne." in text
    with Session(engine) as s:
        held = s.get(Comite, comite.id)
        assert held.status == ComiteStatus.HELD and held.held_on == paris_today()
        flagged = records.flagged_for_review(s, ids["ctai86"])
        assert [(r.action_id, r.flag_for_review, r.reason) for r in flagged] == [
            (ids["actions86"][0], True, "action la plus importante du contrat")
        ]
        assert len(records.reviews(s, comite.id)) == 2 and len(records.participants(s, comite.id)) == 2
        trail = list(
            s.exec(
                select(Decision)
                .where(Decision.entity_type == "comite", Decision.entity_id == comite.id)
                .order_by(Decision.id)
            )
        )
        assert [t.decision for t in trail] == ["planned", "record", "action_flagged", "action_reviewed"]
        line = s.exec(select(Decision).where(Decision.entity_type == "ctai", Decision.entity_id == ids["ctai86"])).one()
        assert line.step == "pilotage" and line.decision == "minutes" and "1 à revoir au bilan annuel" in line.comment


def test_a_national_comite_is_recorded_by_the_diair_and_mailed_to_the_prefets_the_diair_and_the_ministry(engine):
    ids = setting(engine)
    comite = plan(engine, level="national", departement=None)
    d = ComiteDriver(engine, comite.id)
    assert d.step == "compte_rendu_national" and d.view.awaited_role == "diair"
    out = d.answer(DIAIR, "record", **minutes(ids["actions86"], reviewed_action_ids=[ids["actions37"][0]]))
    assert out.accepted, out.violations
    recipients = {m.recipient for m in mails(engine, "comite_minutes", comite.reference)}
    assert recipients == {
        POITIERS,
        TOURS,
        "contact1@porteur.example",
        "contact2@porteur.example",
        "contact3@porteur.example",
        P86,
        P37,
        DIAIR,
        MINISTERE,
    }


def test_a_prefet_cannot_record_a_national_comite(engine):
    ids = setting(engine)
    comite = plan(engine, level="national", departement=None)
    d = ComiteDriver(engine, comite.id)
    with Session(engine) as s:  # no code was mailed to a préfet: the form refuses him like anyone unknown
        assert not s.exec(
            select(OutboxMessage).where(OutboxMessage.event == "approval_requested", OutboxMessage.recipient == P86)
        ).first()
    answer = {"agent_email": P86, "approval_code": "AAAA-BBBB", "decision": "record", **minutes(ids["actions86"])}
    with unit_of_work(engine) as s:
        out = engine_steps.decide(
            s,
            pilotage.COMITE,
            entity_id=comite.id,
            step=d.step,
            flow_run_id=d.run_id,
            attempt=1,
            answer=answer,
            link=None,
        )
    assert codes_of(out) == {"IDENTIFICATION_REFUSEE"}


def test_a_cancelled_comite_tells_the_parties_why(engine):
    setting(engine)
    comite = plan(engine)
    d = ComiteDriver(engine, comite.id)
    out = d.answer(P86, "cancel", comment="Préfète empêchée ; comité reporté à l'automne.")
    assert out.accepted and out.leaves_step
    with Session(engine) as s:
        assert s.get(Comite, comite.id).status == ComiteStatus.CANCELLED
    told = mails(engine, "step_decided", comite.reference)
    assert {m.recipient for m in told} >= {POITIERS, P86}
    poitiers_mail = next(m for m in told if m.recipient == POITIERS)
    assert poitiers_mail.context["commentaire"] == "Préfète empêchée ; comité reporté à l'automne."


def test_the_dashboard_shows_the_minutes_with_what_people_typed_escaped(engine):
    ids = setting(engine)
    comite = plan(engine)
    d = ComiteDriver(engine, comite.id)
    assert d.answer(
        P86, "record", **minutes(ids["actions86"], minutes="Voir [ici](http://piege.example) <b>gras</b>")
    ).accepted
    with Session(engine) as s:
        text = comite_markdown(s, comite.id)
        shown = records.show(s, comite.id)
    assert "\\[ici\\]\\(http\\:\\/\\/piege\\.example\\)" in text and "<b>" not in text
    assert "| oui | action la plus importante du contrat |" in text
    assert shown["statut"] == "held" and shown["actions_examinees"][0]["a_revoir_au_bilan"] is True


def test_a_comite_can_be_started_again_by_the_sweep_like_any_case(engine):
    """The recovery sweep asks the kind which flow carries the step: the comité's one flow, with its step."""
    setting(engine)
    comite = plan(engine, level="national", departement=None)
    with Session(engine) as s:
        case = s.get(Comite, comite.id)
        step = pilotage.COMITE.step_of(case.status)
        assert pilotage.COMITE.run_request(s, case, step, "k") == (
            "comite-pilotage",
            {"comite_id": comite.id, "step": "compte_rendu_national", "trigger": "k"},
        )


def _fr(day: date) -> str:
    from notifications.formatting import date_fr

    return date_fr(day)


def test_comite_list_and_show_print_the_comites_as_json(app_env, engine):
    import json

    from tests.cli import run, run_json

    ids = setting(engine)
    comite = plan(engine)
    ComiteDriver(engine, comite.id).answer(P86, "record", **minutes(ids["actions86"]))
    result, listed = run_json("comite", "list")
    assert result.exit_code == 0 and [(c["reference"], c["statut"], c["contrats"]) for c in listed] == [
        (comite.reference, "held", 1)
    ]
    shown = run("comite", "show", str(comite.id), "--json")
    data = json.loads(shown.stdout)
    assert data["niveau"] == "local" and data["departement"] == {"code": "86", "nom": "Vienne"}
    assert [p["nom"] for p in data["participants"]] == ["Préfète de la Vienne", "Mme Durand"]
    assert data["actions_examinees"][0]["motif"] == "action la plus importante du contrat"
    missing = run("comite", "show", "999", "--json")
    assert missing.exit_code == 2 and "INTROUVABLE" in missing.stdout
