"""The ministry's batches: selecting the transmitted requests, the table by département, and
the ministry's arbitrage as a step of the engine (kind ``lot``).

``select_batch`` claims every transmitted request with one conditional UPDATE: a request can
never be in two batches, even when two batch runs start at the same time on PostgreSQL.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import update
from sqlmodel import Session, select

from models.actors import Agent, Collectivite, Porteur
from models.delegation import (
    Arbitrage,
    ArbitrageDecision,
    BatchEvent,
    BatchItem,
    BatchStatus,
    DelegationBatch,
    Reduction,
    batch_reference,
    check_arbitrage,
    check_envelope,
    group,
    retained,
)
from models.errors import RuleViolation, Violation, raise_if_any
from models.money import euros_to_cents, format_eur
from models.ptai import PtaiEvent, PtaiRequest, PtaiStatus
from models.reference import Departement
from models.types import paris_today
from notifications.outbox import Email, message_key, queue_many
from services.engine.audit import SYSTEM, Actor, record_decisions
from services.engine.kind import Applied, machine_of
from services.engine.texts import departement_named
from services.finance.acts import recompute_legal_acts
from services.finance.envelope import approved_undelegated, delegated_in, envelope_of, lock_envelope
from services.finance.forms import ArbitrageForm

R = PtaiRequest
ENTITY = "lot"
MINISTRY = "Le ministère de l'Intérieur (direction générale des étrangers en France)"
# The ministry's letters (a refusal, a postponement): signed by delegation, the recourse to the minister.
MINISTRY_HEAD = {
    "expediteur": MINISTRY,
    "autorite": "ministre de l'Intérieur",
    "signature": [
        "Pour le ministre et par délégation,",
        "Le directeur de l'intégration et de l'accès à la nationalité",
    ],
}
NEXT_BATCH = "examen dans le prochain lot de délégation du ministère"


# --- Selecting ----------------------------------------------------------------------------------


def select_batch(session: Session, *, year: int, flow_run_id: str) -> DelegationBatch:
    """The batch of this run (idempotent), claiming every transmitted request not yet batched."""
    existing = session.exec(select(DelegationBatch).where(DelegationBatch.flow_run_id == flow_run_id)).first()
    if existing is not None:
        return existing
    batch = DelegationBatch(year=year, flow_run_id=flow_run_id)
    session.add(batch)
    session.flush()
    batch.reference = batch_reference(year, batch.id)
    batched, moved = machine_of("ptai").moved(PtaiStatus.TRANSMITTED, PtaiEvent.BATCHED)
    claimed = session.execute(
        update(R)
        .where(R.status == batched.source, R.batch_id.is_(None), R.campaign_year == year)
        .values(batch_id=batch.id, **moved)
        .returning(R.id, R.proposed_cents)
    ).all()
    batch.requests_count = len(claimed)
    batch.total_cents = sum(c for _, c in claimed)
    if not claimed:
        machine_of(ENTITY).apply(batch, BatchEvent.EMPTY)
    record_decisions(
        session,
        [
            dict(
                entity_type="ptai",
                entity_id=rid,
                step=batched.step,
                from_status=batched.source,
                to_status=batched.target,
                actor=SYSTEM,
                decision=batched.decision,
                comment=batch.reference,
                amount_cents=cents,
            )
            for rid, cents in claimed
        ],
    )
    session.add(batch)
    return batch


def resume_batch(session: Session, *, batch_id: int, flow_run_id: str) -> DelegationBatch:
    """A batch whose run was lost, taken over by a new run of the delegation flow (the sweep
    starts it with the batch's id): nothing is selected again."""
    batch = session.get(DelegationBatch, batch_id)
    if batch is None:
        raise RuleViolation([Violation("LOT_INCONNU", "batch_id", f"aucun lot n° {batch_id}")])
    if batch.flow_run_id != flow_run_id:
        batch.flow_run_id = flow_run_id
        session.add(batch)
    return batch


def items(session: Session, batch_id: int) -> list[BatchItem]:
    rows = session.execute(
        select(R.id, Collectivite.departement_code, R.p104_action, R.proposed_cents)
        .join(Collectivite, Collectivite.id == R.collectivite_id)
        .where(R.batch_id == batch_id, R.status == PtaiStatus.IN_BATCH)
        .order_by(R.id)
    ).all()
    return [BatchItem(*r) for r in rows]


def table(session: Session, batch: DelegationBatch) -> list[dict]:
    """Per département: requests, amount per P104 action, running national total, envelope left."""
    envelope, delegated = envelope_of(session, batch.year), delegated_in(session, batch.year)
    if batch.status == BatchStatus.AWAITING:  # what other approved batches commit is not left for this one
        delegated += approved_undelegated(session, batch.year, but=batch.id)
    names = {d.code: d.nom for d in session.exec(select(Departement))}
    per_dep: dict[str, dict] = {}
    for g in group(items(session, batch.id)):
        row = per_dep.setdefault(
            g.departement_code,
            {
                "departement": f"{names.get(g.departement_code, '')} ({g.departement_code})",
                "demandes": 0,
                "action_12": 0,
                "action_15": 0,
            },
        )
        row["demandes"] += g.requests_count
        row[f"action_{g.p104_action}"] += g.amount_cents
    running, out = 0, []
    for row in per_dep.values():
        running += row["action_12"] + row["action_15"]
        left = None if envelope is None else envelope - delegated - running
        out.append(
            {
                **row,
                "action_12": format_eur(row["action_12"]),
                "action_15": format_eur(row["action_15"]),
                "total_national_cumule": format_eur(running),
                "reste_enveloppe": "non fixée" if left is None else format_eur(left),
            }
        )
    return out


# --- The ministry's decision (a step of the engine) ----------------------------------------------


def arbitrage(session: Session, batch: DelegationBatch, decision: ArbitrageDecision, form: ArbitrageForm) -> Applied:
    """``reject``: every request back to the pool. ``approve``: the ministry's decisions on the
    requests it lists (reduce, postpone once, refuse for good, each with its reason), then the
    batch as a whole, its retained total checked against what remains of the envelope, the
    envelope's row locked, all in the transaction that records the decision."""
    batch_items = items(session, batch.id)
    plan = Arbitrage(
        reductions=tuple(Reduction(r.request_id, euros_to_cents(r.amount_eur), r.reason) for r in form.reductions),
        postponed=tuple(dict.fromkeys(form.postponed_request_ids)),
        postpone_reason=form.postpone_reason or None,
        refused=tuple(dict.fromkeys(form.refused_request_ids)),
        refusal_reason=form.refusal_reason or None,
    )
    if decision == ArbitrageDecision.REJECT:
        if plan.reductions or plan.postponed or plan.refused:
            raise RuleViolation(
                [
                    Violation(
                        "DECISIONS_SANS_OBJET",
                        "decision",
                        "un lot rejeté retourne en entier au vivier : "
                        "ne listez ni réduction, ni report, ni refus (ou approuvez le lot)",
                    )
                ]
            )
        if not (form.comment or "").strip():
            raise RuleViolation(
                [Violation("CHAMP_MANQUANT", "comment", "indiquez le motif (il est transmis aux demandeurs)")]
            )
        rejected = [i.request_id for i in batch_items]
        back_to_pool(session, batch, rejected, PtaiEvent.BATCH_REJECTED, form.comment)
        tell_applicants(session, batch, rejected, PtaiEvent.BATCH_REJECTED, form.comment, NEXT_BATCH)
        return Applied()
    ids = [i.request_id for i in batch_items]
    known = (
        {
            rid: (ref, n)
            for rid, ref, n in session.execute(select(R.id, R.reference, R.postponements).where(R.id.in_(ids)))
        }
        if ids
        else {}
    )
    raise_if_any(
        check_arbitrage(
            batch_items, plan, {rid: n for rid, (_, n) in known.items()}, {rid: ref for rid, (ref, _) in known.items()}
        )
    )
    kept = retained(batch_items, plan)
    total = sum(i.amount_cents for i in kept)
    raise_if_any(envelope_check(session, batch, total))
    actor = _ministry_actor(session, form.agent_email)
    _reduce(session, batch, plan.reductions, {i.request_id: i.amount_cents for i in batch_items}, actor)
    tell_applicants(
        session,
        batch,
        [r.request_id for r in plan.reductions],
        PtaiEvent.REDUCED,
        {r.request_id: r.reason for r in plan.reductions},
        "délégation des crédits",
        {r.request_id: r.amount_cents for r in plan.reductions},
    )
    back_to_pool(session, batch, list(plan.postponed), PtaiEvent.POSTPONED, plan.postpone_reason, actor=actor)
    tell_applicants(session, batch, list(plan.postponed), PtaiEvent.POSTPONED, plan.postpone_reason, NEXT_BATCH)
    _refuse(session, batch, list(plan.refused), plan.refusal_reason, actor)
    batch.total_cents, batch.requests_count = total, len(kept)
    changed = [r.request_id for r in plan.reductions] + list(plan.refused)
    if changed:
        recompute_legal_acts(session, ptai_request_ids=changed)
    return Applied(checks=[], amount_cents=total)


def envelope_check(session: Session, batch: DelegationBatch, total_cents: int) -> list:
    """The year's envelope row locked for the transaction (FOR UPDATE on PostgreSQL; SQLite's
    writers are serialized by BEGIN IMMEDIATE), then what remains of it once the delegated
    lines and the other approved batches, not yet delegated, are counted."""
    envelope = lock_envelope(session, batch.year)
    return check_envelope(
        total_cents,
        envelope,
        delegated_in(session, batch.year),
        batch.year,
        approved_undelegated(session, batch.year, but=batch.id),
    )


def _ministry_actor(session: Session, email: str) -> Actor:
    agent = session.exec(select(Agent).where(Agent.email == email.strip().lower()[:254])).first()
    return Actor(agent.email, agent.id) if agent is not None else SYSTEM


def _reduce(session: Session, batch: DelegationBatch, reductions, current: dict[int, int], actor: Actor) -> None:
    if not reductions:
        return
    reduced, moved = machine_of("ptai").moved(PtaiStatus.IN_BATCH, PtaiEvent.REDUCED)
    for r in reductions:
        session.execute(
            update(R)
            .where(R.id == r.request_id, R.batch_id == batch.id, R.status == reduced.source)
            .values(proposed_cents=r.amount_cents, **moved)
            .execution_options(synchronize_session=False)
        )
    record_decisions(
        session,
        [
            dict(
                entity_type="ptai",
                entity_id=r.request_id,
                step=reduced.step,
                from_status=reduced.source,
                to_status=reduced.target,
                actor=actor,
                decision=reduced.decision,
                amount_cents=r.amount_cents,
                comment=f"{batch.reference} : {r.reason} (montant précédent : {format_eur(current[r.request_id])})",
            )
            for r in reductions
        ],
    )


def _refuse(session: Session, batch: DelegationBatch, request_ids: list[int], reason: str | None, actor: Actor) -> None:
    """Refused for good by the ministry: the request is rejected, and its applicant and porteur
    get a letter with the reason and the voies et délais de recours."""
    if not request_ids:
        return
    refused, moved = machine_of("ptai").moved(PtaiStatus.IN_BATCH, PtaiEvent.REFUSED)
    rows = session.execute(
        select(R.id, R.reference, R.title, R.proposed_cents, R.requested_cents, R.collectivite_id, R.porteur_id).where(
            R.id.in_(request_ids), R.batch_id == batch.id, R.status == refused.source
        )
    ).all()
    session.execute(
        update(R)
        .where(R.id.in_(request_ids), R.batch_id == batch.id, R.status == refused.source)
        .values(**moved)
        .execution_options(synchronize_session=False)
    )
    record_decisions(
        session,
        [
            dict(
                entity_type="ptai",
                entity_id=r.id,
                step=refused.step,
                from_status=refused.source,
                to_status=refused.target,
                actor=actor,
                decision=refused.decision,
                comment=f"{batch.reference} : {reason}",
            )
            for r in rows
        ],
    )
    queue_many(session, refusal_letters(session, batch, rows, reason, paris_today()))


def _parties(session: Session, rows) -> dict[int, tuple[str, list]]:
    """Per request (rows with id, collectivite_id, porteur_id): its place and the parties told."""
    collectivites = {
        c.id: c
        for c in session.exec(select(Collectivite).where(Collectivite.id.in_({r.collectivite_id for r in rows})))
    }
    porteur_ids = {r.porteur_id for r in rows if r.porteur_id}
    porteurs = (
        {p.id: p for p in session.exec(select(Porteur).where(Porteur.id.in_(porteur_ids)))} if porteur_ids else {}
    )
    out = {}
    for r in rows:
        collectivite = collectivites[r.collectivite_id]
        place = departement_named(session, collectivite.departement_code)
        out[r.id] = (place, [collectivite] + ([porteurs[r.porteur_id]] if r.porteur_id else []))
    return out


def refusal_letters(session: Session, batch: DelegationBatch, rows, reason: str, on: date) -> list[Email]:
    emails = []
    for r in rows:
        place, parties = _parties(session, [r])[r.id]
        for party in parties:
            context = {
                "reference": r.reference,
                "objet": f"Projet territorial « {r.title} »",
                "destinataire": party.name,
                **MINISTRY_HEAD,
                "departement": place,
                "lot": batch.reference,
                "projet": r.title,
                "montant_demande_cents": r.requested_cents,
                "motif": reason,
                "date_decision": on,
                "recours": True,
            }
            emails.append(
                Email(
                    "request_refused_ministry",
                    party.email,
                    context,
                    message_key("ptai", r.id, PtaiEvent.REFUSED, party.email, "request_refused_ministry"),
                )
            )
    return emails


def tell_applicants(
    session: Session,
    batch: DelegationBatch,
    request_ids: list[int],
    decision: str,
    reason: str | dict[int, str] | None,
    next_step: str,
    amounts: dict[int, int] | None = None,
) -> None:
    """The applicants and porteurs of these requests learn the ministry's decision on them, with its reason."""
    if not request_ids:
        return
    label = machine_of("ptai").transition(PtaiStatus.IN_BATCH, decision).label
    rows = session.execute(
        select(R.id, R.reference, R.title, R.collectivite_id, R.porteur_id).where(R.id.in_(request_ids))
    ).all()
    parties = _parties(session, rows)
    emails = []
    for r in rows:
        place, people = parties[r.id]
        for party in people:
            context = {
                "reference": r.reference,
                "objet": f"Projet territorial « {r.title} »",
                "destinataire": party.name,
                **MINISTRY_HEAD,
                "departement": place,
                "etape": f"arbitrage du ministère ({batch.reference})",
                "decision": label,
                "decideur": "le ministère de l'Intérieur",
                "commentaire": (reason.get(r.id) if isinstance(reason, dict) else reason) or None,
                "montant_cents": (amounts or {}).get(r.id),
                "prochaine_etape": next_step,
            }
            emails.append(
                Email(
                    "step_decided",
                    party.email,
                    context,
                    message_key("ptai", r.id, f"{decision}:{batch.reference}", party.email, "step_decided"),
                )
            )
    queue_many(session, emails)


def back_to_pool(
    session: Session,
    batch: DelegationBatch,
    request_ids: list[int],
    decision: str,
    reason: str | None,
    *,
    actor: Actor = SYSTEM,
) -> None:
    """The listed requests of the batch go back to the transmitted pool (the next batch takes
    them); a postponement is counted on the request (once only)."""
    if not request_ids:
        return
    back, moved = machine_of("ptai").moved(PtaiStatus.IN_BATCH, decision)
    values = dict(batch_id=None, **moved)
    if decision == PtaiEvent.POSTPONED:
        values["postponements"] = R.postponements + 1
    session.execute(
        update(R)
        .where(R.id.in_(request_ids), R.batch_id == batch.id, R.status == back.source)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    record_decisions(
        session,
        [
            dict(
                entity_type="ptai",
                entity_id=rid,
                step=back.step,
                from_status=back.source,
                to_status=back.target,
                actor=actor,
                decision=decision,
                comment=f"{batch.reference} : {reason}",
            )
            for rid in request_ids
        ],
    )
