"""The comité de pilotage as a kind of case for the step engine, its after-effects (audit lines,
the minutes emailed to the parties) and the start of its run, scheduled for its date."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlmodel import Session

from models.actors import Agent
from models.french import pluriel
from models.pilotage import LEVEL_LABELS, Comite, ComiteDecision, ComiteEvent, ComiteLevel
from models.state_machine import Transition
from models.types import PARIS, paris_today
from notifications.outbox import Email, message_key, queue_many
from services.db import unit_of_work
from services.engine import prefect_api, runs
from services.engine.audit import Actor, record_decisions
from services.engine.forms import ApprovalForm
from services.engine.kind import CaseKind, NotAtStep
from services.engine.steps import launch_info
from services.pilotage import records, steps, texts
from services.pilotage.records import ENTITY
from services.pilotage.steps import COMITE_MACHINE

OPENS_AT = time(8, 0)  # a comité planned for a later day: its run starts that morning, Paris time


class ComiteCase(CaseKind[Comite]):
    """A comité de pilotage: its one step records the compte rendu (or the cancellation)."""

    entity = ENTITY
    model = Comite
    machine = COMITE_MACHINE
    parameter = "comite_id"
    steps = steps.STEPS_BY_NAME
    history_labels = texts.STEP_LABELS

    run_name = staticmethod(texts.run_name)
    description = staticmethod(texts.form_description)
    email_base = staticmethod(texts.email_base)
    summary = staticmethod(texts.summary)
    dashboard = staticmethod(texts.comite_markdown)

    def departement(self, session: Session, case: Comite) -> str:
        return case.departement_code if case.level == ComiteLevel.LOCAL else "national"

    def applicants(self, session: Session, case: Comite) -> list[tuple[str, str]]:
        """Nobody is told of the step's opening and decision as an applicant: the parties get the
        comité's own emails (its planning, its minutes or its cancellation)."""
        return []

    def run_request(self, session: Session, case: Comite, step: str, trigger: str) -> tuple[str, dict] | None:
        return (steps.FLOW, {"comite_id": case.id, "step": step, "trigger": trigger}) if step in self.steps else None

    def after_decision(
        self, session: Session, case: Comite, transition: Transition, agent: Agent, form: ApprovalForm
    ) -> None:
        """In the decision's transaction: who recorded it, one audit line per action reviewed and
        per contract followed, and the emails to the parties."""
        case.recorded_by_agent_id = agent.id
        session.add(case)
        actor = Actor(agent.email, agent.id)
        if transition.decision == ComiteDecision.CANCEL:
            _cancelled_emails(session, case)
            return
        reviews = records.reviews(session, case.id)
        rows = [
            dict(
                entity_type=ENTITY,
                entity_id=case.id,
                step=transition.step,
                from_status=case.status,
                to_status=case.status,
                actor=actor,
                decision=ComiteEvent.ACTION_FLAGGED if r.flag_for_review else ComiteEvent.ACTION_REVIEWED,
                comment=f"action n° {r.action_id}"
                + (f" : {r.decision}" if r.decision else "")
                + (f" — à revoir au bilan annuel : {r.reason}" if r.flag_for_review else ""),
            )
            for r in reviews
        ]
        flagged: dict[int, int] = {}
        for r in reviews:
            flagged[r.ctai_id] = flagged.get(r.ctai_id, 0) + int(r.flag_for_review)
        for ctai in records.contracts(session, case):
            rows.append(
                dict(
                    entity_type="ctai",
                    entity_id=ctai.id,
                    step="pilotage",
                    from_status=ctai.status,
                    to_status=ctai.status,
                    actor=actor,
                    decision=ComiteEvent.MINUTES,
                    comment=f"{case.reference} tenu le {case.held_on:%d/%m/%Y} : "
                    f"{pluriel(sum(1 for r in reviews if r.ctai_id == ctai.id), 'action examinée')}, "
                    f"{flagged.get(ctai.id, 0)} à revoir au bilan annuel",
                )
            )
        record_decisions(session, rows)
        queue_minutes(session, case)


COMITE = ComiteCase()


def queue_minutes(session: Session, comite: Comite, link: str | None = None) -> int:
    """The compte rendu, to each party once (a comité is held once: the key needs no round)."""
    context = texts.minutes_context(session, comite, link)
    reviewed = [r.action_id for r in records.reviews(session, comite.id)]
    return queue_many(
        session,
        [
            Email(
                "comite_minutes",
                address,
                {**texts.email_base(session, comite, name), **context},
                message_key(ENTITY, comite.id, "minutes", address, "comite_minutes"),
            )
            for address, name in texts.parties(session, comite, reviewed)
        ],
    )


def _cancelled_emails(session: Session, comite: Comite) -> None:
    step = steps.STEPS_BY_NAME[records.step_of(comite)]
    queue_many(
        session,
        [
            Email(
                "step_decided",
                address,
                {
                    **texts.email_base(session, comite, name),
                    "etape": step.label,
                    "decision": step.decision(ComiteDecision.CANCEL).label,
                    "decideur": texts.organiser(session, comite),
                    "commentaire": comite.cancel_reason,
                },
                message_key(ENTITY, comite.id, "cancelled", address, "step_decided"),
            )
            for address, name in texts.parties(session, comite, [])
        ],
    )


def queue_planned(session: Session, comite: Comite) -> int:
    """The collectivités of the contracts followed learn the comité's date, once."""
    action = (
        f"Participer au comité de pilotage {LEVEL_LABELS[ComiteLevel(comite.level)]} prévu le "
        f"{comite.planned_on:%d/%m/%Y} : préparer le point d'étape des actions du contrat."
    )
    parties = [
        (a, n)
        for a, n in texts.parties(session, comite, [])
        if a.lower() in {c.lower() for c in records.collectivite_emails(session, comite)}
    ]
    return queue_many(
        session,
        [
            Email(
                "step_started",
                address,
                {
                    **texts.email_base(session, comite, name),
                    "etape": steps.STEPS_BY_NAME[records.step_of(comite)].label,
                    "action_attendue": action,
                    "echeance": comite.planned_on,
                },
                message_key(ENTITY, comite.id, "planned", address, "step_started"),
            )
            for address, name in parties
        ],
    )


# --- Planning a comité and starting its run -------------------------------------------------------


def plan(
    session: Session,
    *,
    level: str,
    departement_code: str | None,
    planned_on: date,
    ctai_ids: list[int] | None = None,
    by: str | None = None,
) -> tuple[Comite, bool]:
    """The comité (new, or the same one planned already) and the collectivités told of it."""
    comite, created = records.plan(
        session, level=level, departement_code=departement_code, planned_on=planned_on, ctai_ids=ctai_ids, by=by
    )
    if created:
        queue_planned(session, comite)
    return comite, created


def scheduled_time(planned_on: date, today: date | None = None) -> datetime | None:
    """When the comité's run starts: now for a comité of today or of the past, else at 08:00
    (Paris) on its day."""
    if planned_on <= (today or paris_today()):
        return None
    return datetime.combine(planned_on, OPENS_AT, tzinfo=PARIS)


async def start_run(comite_id: int, cause: str = "start") -> dict:
    """The comité's run, created once (the step is reserved first, the run created with the
    same key, then attached: every move can be repeated after a crash), scheduled for the
    comité's day when it is to come. Returns the run's id and when it starts."""
    with unit_of_work() as session:
        comite = records.load(session, comite_id)
        step = COMITE.step_of(comite.status)
        if step is None:
            raise NotAtStep(
                f"[{NotAtStep.code}] le comité {comite.reference} n'attend plus de compte rendu "
                f"(statut « {comite.status} »)"
            )
        when = scheduled_time(comite.planned_on)
        live = runs.live_step(session, ENTITY, comite_id, step)
        if live is not None and live.flow_run_id:
            return {"flow_run_id": live.flow_run_id, "planifie_pour": when}
        key = live.trigger_key if live is not None else runs.trigger_key(session, ENTITY, comite_id, step, cause)
        if live is None:
            runs.reserve(
                session,
                entity_type=ENTITY,
                entity_id=comite_id,
                step=step,
                key=key,
                awaited_role=COMITE.awaited_role(step),
            )
    with unit_of_work() as session:
        info = launch_info(session, COMITE, comite_id, step)
        flow_name, parameters = COMITE.run_request(session, session.get(Comite, comite_id), step, key)
    run_id = await prefect_api.start_run(
        flow_name,
        parameters=parameters,
        run_name=info["run_name"],
        tags=info["tags"],
        idempotency_key=key,
        scheduled_time=when,
    )
    with unit_of_work() as session:
        runs.attach(session, key, run_id)
    return {"flow_run_id": run_id, "planifie_pour": when}


async def open_now(comite_id: int) -> dict:
    """A comité scheduled for a later day, opened today (brought forward, or to cancel it): its
    run, still Scheduled, is scheduled for now; a run already open is left as it is."""
    with unit_of_work() as session:
        comite = records.load(session, comite_id)
        step = COMITE.step_of(comite.status)
        live = runs.live_step(session, ENTITY, comite_id, step) if step else None
    if live is None or not live.flow_run_id:
        raise NotAtStep(
            f"[{NotAtStep.code}] le comité {comite.reference} n'a pas d'exécution en attente de son jour "
            "(territoires comite start, ou comite resume)"
        )
    state = (await prefect_api.run_states([live.flow_run_id])).get(live.flow_run_id)
    if state is None or state.type != "SCHEDULED":
        return {
            "flow_run_id": live.flow_run_id,
            "ouvert": False,
            "constat": f"l'exécution n'attend pas son jour (état {state.type if state else 'inconnu'})",
        }
    await prefect_api.reschedule(live.flow_run_id, f"comité {comite.reference} ouvert avant la date prévue")
    return {"flow_run_id": live.flow_run_id, "ouvert": True, "constat": "exécution démarrée"}
