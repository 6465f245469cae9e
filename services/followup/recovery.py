"""The recovery sweep: every open step compared with its Prefect run, and brought back.

It runs in the daily run, when ``territoires up`` and ``territoires serve`` start, and on demand
(``territoires steps repair``). For each open step it reads the facts (the run's state in
Prefect, whether the process that executes it is alive) and applies ``models.recovery.diagnose``:

- a run that is failed, crashed, cancelled, or running in a dead process is run again from the
  top (the same run: its form, codes and links stay valid); an answer it had received but not
  judged is judged when it restarts; an answer lost with it earns the awaited agents a new code;
- a run Prefect does not know any more is replaced by a new run (new codes, mailed);
- a step reserved whose run was never created gets it (same idempotency key);
- a case standing at a step that has a flow but no live run (a crash between a decision and
  the start of the next step) gets that step started, under the key the flow itself would use;
- a run still shown running for a step already decided, whose process is gone, is marked crashed;
- an approved batch whose delegation a crash interrupted is finished.

Each repair is one transaction, then one call to Prefect, both safe to repeat. The
administrators get one email per distinct set of repairs.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import asdict, dataclass, field
from datetime import timedelta

from sqlmodel import Session, select

import liveness
from models.actors import Agent, Role
from models.approval import StepRun, StepRunState
from models.decision import Decision
from models.delegation import DelegationBatch
from models.errors import DomainError
from models.recovery import ACTION_LABELS, Action, Diagnosis, RecoveryPolicy, StepFacts, diagnose
from models.types import paris_today, to_paris, utcnow
from notifications.outbox import Email, message_key, queue_many
from services.cases import KINDS
from services.cases import kind as case_kind
from services.db import unit_of_work
from services.engine import codes, launch, mail, prefect_api, runs
from services.engine.codes import CaseRef
from services.engine.runs import StepAlreadyLive, pause_key
from services.finance import delegation

log = logging.getLogger("territoires.reprise")
DEFAULT_POLICY = RecoveryPolicy()


class RecoveryFailed(DomainError):
    code = "REPRISE_IMPOSSIBLE"


CLOSED = "cloture"
LABELS = {**ACTION_LABELS, CLOSED: "exécution marquée comme plantée"}


@dataclass
class Repair:
    entity_type: str
    entity_id: int
    reference: str
    step: str  # the step's label
    action: str  # an ``Action``, or CLOSED
    reason: str
    run_id: str | None = None
    error: str | None = None

    @property
    def line(self) -> dict:
        action = f"échec de la reprise ({self.error})" if self.error else LABELS.get(self.action, self.action)
        return {
            "dossier": self.reference,
            "etape": self.step,
            "constat": self.reason,
            "action": action,
            "lien": prefect_api.run_link(self.run_id),
        }


@dataclass
class SweepReport:
    checked: int = 0
    repairs: list[Repair] = field(default_factory=list)
    delegations_finished: list[int] = field(default_factory=list)
    simulated: bool = False

    @property
    def escalations(self) -> int:
        return sum(1 for r in self.repairs if r.action == Action.ESCALATE)

    def as_dict(self) -> dict:
        return {
            "etapes_controlees": self.checked,
            "simulation": self.simulated,
            "reprises": [{**asdict(r), "libelle": r.line["action"]} for r in self.repairs],
            "lots_termines": self.delegations_finished,
            "interventions_requises": self.escalations,
        }


async def sweep(*, policy: RecoveryPolicy = DEFAULT_POLICY, dry_run: bool = False, notify: bool = True) -> SweepReport:
    """Compares every open step with Prefect and repairs what is dead (see the module)."""
    report = SweepReport(simulated=dry_run)
    with unit_of_work() as session:
        rows = runs.open_rows(session)
        for row in rows:
            session.expunge(row)
    report.checked = len(rows)
    states = await prefect_api.run_states([r.flow_run_id for r in rows if r.flow_run_id])
    for row in rows:
        diagnosis = diagnose(facts_of(row, states.get(row.flow_run_id) if row.flow_run_id else None), policy)
        if diagnosis.needs_repair:
            report.repairs.append(await _repair(row, diagnosis, states.get(row.flow_run_id or ""), dry_run))
    active = await prefect_api.active_runs()
    report.repairs += await _close_dead_runs_of_decided_steps(active, dry_run)
    report.repairs += await _start_missing_steps(dry_run)
    if not dry_run:
        report.delegations_finished = await _finish_interrupted_delegations(active)
        if notify and report.repairs:
            with unit_of_work() as session:
                notify_operators(session, report)
    for repair in report.repairs:
        log.warning(
            "reprise : %s %s, étape « %s » : %s — %s",
            repair.entity_type,
            repair.reference,
            repair.step,
            repair.reason,
            repair.error or repair.action,
        )
    return report


def facts_of(row: StepRun, state: prefect_api.RunState | None) -> StepFacts:
    now = utcnow()
    since = state.since if state is not None and state.since is not None else now
    reserved = max(t for t in (row.created_at, row.incident_at) if t is not None)
    return StepFacts(
        has_run=row.flow_run_id is not None,
        run_state=state.type if state else None,
        state_age=now - since,
        reserved_age=now - reserved,
        worker=_worker(row, since),
        restarts=row.restarts,
    )


def _worker(row: StepRun, running_since) -> str:
    """How the process recorded on the step stands, for the run's current execution."""
    if not row.worker or row.worker_at is None or row.worker_at < running_since - timedelta(seconds=5):
        return "unrecorded"
    alive = liveness.alive(row.worker)
    return "elsewhere" if alive is None else ("alive" if alive else "dead")


async def _repair(row: StepRun, diagnosis: Diagnosis, state: prefect_api.RunState | None, dry_run: bool) -> Repair:
    kind = case_kind(row.entity_type)
    with unit_of_work() as session:
        repair = Repair(
            row.entity_type,
            row.entity_id,
            _reference(session, kind, row.entity_id),
            kind.steps[row.step].label,
            diagnosis.action,
            diagnosis.reason,
            row.flow_run_id,
        )
    if dry_run:
        return repair
    try:
        if diagnosis.action == Action.START:
            with unit_of_work() as session:
                runs.record_incident(session, session.get(StepRun, row.id), diagnosis.reason)
            repair.run_id = await launch.create_reserved_run(kind, row.entity_id, row.step, row.trigger_key)
        elif diagnosis.action == Action.RESCHEDULE:
            await _rerun(row, diagnosis.reason, state)
        elif diagnosis.action == Action.RECREATE:
            with unit_of_work() as session:
                key = runs.restart_new(session, session.get(StepRun, row.id), diagnosis.reason)
            repair.run_id = await launch.create_reserved_run(kind, row.entity_id, row.step, key)
        elif diagnosis.action == Action.ESCALATE:
            with unit_of_work() as session:
                runs.record_incident(session, session.get(StepRun, row.id), diagnosis.reason)
    except Exception as exc:  # noqa: BLE001 - one step's failure must not stop the sweep; it is reported
        log.exception("reprise impossible de l'étape %s de %s n° %s", row.step, row.entity_type, row.entity_id)
        repair.error = f"{type(exc).__name__} : {str(exc)[:200]}"
    return repair


async def _rerun(row: StepRun, reason: str, state: prefect_api.RunState | None) -> None:
    """The same run, from the top. If it had been answered and the answer is gone (erased after a
    failed judgement), the awaited agents are told and get new codes."""
    kind = case_kind(row.entity_type)
    with unit_of_work() as session:
        attempt = len(codes.attempts_of(session, row.flow_run_id)) + 1
    waited = pause_key(row.step, attempt, row.restarts)
    lost = bool(state and waited in state.pause_keys) and not await prefect_api.has_answer(row.flow_run_id, waited)
    if state is not None and state.type in ("RUNNING", "PENDING"):
        await prefect_api.mark_crashed(row.flow_run_id, f"Reprise : {reason}")
    with unit_of_work() as session:
        current = session.get(StepRun, row.id)
        runs.restart_same(session, current, reason)
        if lost:
            case = kind.lock(session, row.entity_id)
            ref = CaseRef(row.flow_run_id, kind.entity, row.entity_id, row.step, current.round)
            mail.codes_after_lost_answer(
                session, kind, case, ref, kind.awaited_role(row.step), prefect_api.run_link(row.flow_run_id)
            )
    await prefect_api.reschedule(row.flow_run_id, f"Reprise : {reason}")


async def _close_dead_runs_of_decided_steps(active: dict[str, prefect_api.RunState], dry_run: bool) -> list[Repair]:
    """Runs still shown running for a step already decided, whose process is gone (killed
    between the decision and the end of the run): shown as crashed, nothing else to do."""
    found = []
    with unit_of_work() as session:
        for row in runs.rows_for_runs(session, list(active)):
            if row.state == StepRunState.DONE and _worker(row, active[row.flow_run_id].since or utcnow()) == "dead":
                kind = case_kind(row.entity_type)
                found.append(
                    Repair(
                        row.entity_type,
                        row.entity_id,
                        _reference(session, kind, row.entity_id),
                        kind.steps[row.step].label,
                        CLOSED,
                        "l'étape est décidée mais son exécution, interrompue, paraissait en cours",
                        row.flow_run_id,
                    )
                )
    for repair in found if not dry_run else []:
        await prefect_api.mark_crashed(repair.run_id, "Étape déjà décidée ; le processus de l'exécution s'est arrêté.")
    return found


def _reference(session: Session, kind, entity_id: int) -> str:
    case = session.get(kind.model, entity_id)
    return getattr(case, "reference", None) or f"{kind.entity} n° {entity_id}"


async def _start_missing_steps(dry_run: bool) -> list[Repair]:
    """Cases standing at a step that has a flow, with no live run for it."""
    missing = []
    with unit_of_work() as session:
        for kind in KINDS.values():
            statuses = {spec.status: name for name, spec in kind.steps.items() if kind.flow_name(name)}
            if not statuses:
                continue
            live = {
                (r.entity_id, r.step)
                for r in session.exec(
                    select(StepRun).where(StepRun.entity_type == kind.entity, StepRun.state != StepRunState.DONE)
                )
            }
            for case in session.exec(select(kind.model).where(kind.model.status.in_(list(statuses)))):
                step = statuses[case.status]
                if (case.id, step) not in live:
                    missing.append(
                        (kind, case.id, case.reference, step, _cause(session, kind.entity, case.id, case.status))
                    )
    repairs = []
    for kind, entity_id, reference, step, cause in missing:
        repair = Repair(
            kind.entity,
            entity_id,
            reference,
            kind.steps[step].label,
            Action.START,
            "le dossier attend cette étape, mais aucune exécution ne la porte",
        )
        if not dry_run:
            try:
                repair.run_id = await launch.start_step_run(kind, entity_id, step, cause)
            except StepAlreadyLive:
                continue  # started meanwhile, by its own flow
            except Exception as exc:  # noqa: BLE001 - reported, the sweep goes on
                repair.error = f"{type(exc).__name__} : {str(exc)[:200]}"
        repairs.append(repair)
    return repairs


def _cause(session: Session, entity_type: str, entity_id: int, status: str) -> str:
    """The cause the flow that moved the case would have used for the next step (``d<decision>``),
    so that the sweep and a late flow start the same run."""
    moved = session.exec(
        select(Decision.id)
        .where(
            Decision.entity_type == entity_type,
            Decision.entity_id == entity_id,
            Decision.to_status == status,
            Decision.from_status != status,
        )
        .order_by(Decision.id.desc())
    ).first()
    return f"d{moved}" if moved else "reprise"


async def _finish_interrupted_delegations(active: dict[str, prefect_api.RunState]) -> list[int]:
    """Approved batches whose delegation stopped half-way, unless their run is delegating now."""
    with unit_of_work() as session:
        pending = [
            b
            for b in delegation.unfinished_batches(session)
            if session.get(DelegationBatch, b).flow_run_id not in active
        ]
    for batch_id in pending:
        delegation.delegate(batch_id)
    return pending


def notify_operators(session: Session, report: SweepReport) -> None:
    """One email per administrator and distinct set of repairs."""
    lines = [r.line for r in report.repairs]
    digest = hashlib.sha256(
        repr(
            sorted((r.entity_type, r.entity_id, r.step, r.action, r.reason, r.run_id or "") for r in report.repairs)
        ).encode()
    ).hexdigest()[:16]
    day = paris_today()
    admins = session.exec(select(Agent).where(Agent.role == Role.ADMIN, Agent.active.is_(True))).all()
    queue_many(
        session,
        [
            Email(
                "steps_repaired",
                a.email,
                {
                    "reference": f"REPRISE-{day:%Y-%m-%d}",
                    "objet": "Reprise des étapes interrompues",
                    "destinataire": a.name,
                    "departement": "national",
                    "expediteur": "La plateforme Territoires d'intégration",
                    "lignes": lines,
                    "interventions_requises": report.escalations,
                },
                message_key("plateforme", 0, f"reprise:{digest}", a.email, "steps_repaired"),
            )
            for a in admins
        ],
    )


# An operator's explicit request: no grace for a creation in progress, no limit on restarts.
ON_DEMAND = RecoveryPolicy(starting_grace=timedelta(0), max_restarts=10**6)


async def resume_case(kind_name: str, entity_id: int) -> dict:
    """The run of the step a case is at: a live one as it is, a dead one started again, a missing
    one created; returns the run's id and what was done (``ctai resume``, ``ptai resume``)."""
    kind = case_kind(kind_name)
    with unit_of_work() as session:
        case = kind.lock(session, entity_id)
        step = kind.step_of(case.status)
        if step is None or kind.flow_name(step) is None:
            return {
                "flow_run_id": None,
                "reprise": None,
                "constat": f"le dossier est au statut « {case.status} », qui n'attend aucune étape à exécuter",
            }
        live = runs.live_step(session, kind.entity, entity_id, step)
        cause = _cause(session, kind.entity, entity_id, case.status)
        if live is not None:
            session.expunge(live)
    if live is None:
        run_id = await launch.start_step_run(kind, entity_id, step, cause)
        return {
            "flow_run_id": run_id,
            "reprise": ACTION_LABELS[Action.START],
            "constat": "aucune exécution ne portait l'étape",
        }
    state = (await prefect_api.run_states([live.flow_run_id])).get(live.flow_run_id) if live.flow_run_id else None
    diagnosis = diagnose(facts_of(live, state), ON_DEMAND)
    if not diagnosis.needs_repair:
        return {"flow_run_id": live.flow_run_id, "reprise": None, "constat": "l'exécution est en cours ou en attente"}
    repair = await _repair(live, diagnosis, state, dry_run=False)
    if repair.error:
        raise RecoveryFailed(f"[{RecoveryFailed.code}] {diagnosis.reason} ; la reprise a échoué : {repair.error}")
    with unit_of_work() as session:
        now = session.get(StepRun, live.id)
        return {
            "flow_run_id": now.flow_run_id or repair.run_id,
            "reprise": LABELS[repair.action],
            "constat": diagnosis.reason,
        }


async def interrupted_steps(*, departement: str | None = None, role: str | None = None) -> list[dict]:
    """The open steps whose run is dead or missing (what the sweep would repair), for
    ``approvals list``: the same fields as a waiting run, with the incident."""
    with unit_of_work() as session:
        rows = runs.open_rows(session)
        for row in rows:
            session.expunge(row)
    states = await prefect_api.run_states([r.flow_run_id for r in rows if r.flow_run_id])
    found = []
    with unit_of_work() as session:
        for row in rows:
            state = states.get(row.flow_run_id) if row.flow_run_id else None
            diagnosis = diagnose(facts_of(row, state))
            if not diagnosis.needs_repair:
                continue
            kind = case_kind(row.entity_type)
            case = session.get(kind.model, row.entity_id)
            dep = kind.departement(session, case)
            if (departement and dep != departement) or (role and row.awaited_role != role):
                continue
            found.append(
                {
                    "etat": "interrompue",
                    "run_id": row.flow_run_id,
                    "name": kind.run_name(session, case, row.step),
                    "entity": row.entity_type,
                    "entity_id": row.entity_id,
                    "step": row.step,
                    "awaited_role": row.awaited_role,
                    "departement": dep,
                    "waiting_since": None,
                    "pause_key": None,
                    "fields": [],
                    "etat_prefect": state.type if state else "inconnue",
                    "incident": row.incident or diagnosis.reason,
                    "incident_le": to_paris(row.incident_at).strftime("%d/%m/%Y %H:%M") if row.incident_at else None,
                    "relances": row.restarts,
                }
            )
    return found
