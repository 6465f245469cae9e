"""Delegating an approved batch's credits, one département per transaction: a failing
département is put back in the pool and reported; the others stand. Running it again skips
what is already delegated."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from types import SimpleNamespace

from sqlalchemy import update
from sqlmodel import Session, select

from models.actors import Agent, Role
from models.delegation import BatchEvent, BatchStatus, DelegationBatch, DelegationLine
from models.ptai import PtaiEvent, PtaiRequest, PtaiStatus
from models.types import paris_today
from notifications.outbox import Email, message_key, queue_many
from services.acts.records import prepare as prepare_acts
from services.db import is_postgresql, unit_of_work
from services.engine.audit import SYSTEM, record_decisions
from services.engine.kind import machine_of
from services.engine.texts import departement_named, prefecture_of
from services.finance.acts import recompute_legal_acts
from services.finance.batches import ENTITY, MINISTRY, back_to_pool, items

R = PtaiRequest


# --- Delegating, one département per transaction ------------------------------------------------


def pending_departements(session: Session, batch_id: int) -> list[str]:
    return sorted({i.departement_code for i in items(session, batch_id)})


def delegate(batch_id: int, *, engine=None, on: date | None = None) -> dict:
    """Delegates every département still pending in an approved batch; returns the report."""
    on = on or paris_today()
    with unit_of_work(engine) as session:
        by_dep: dict[str, list[int]] = defaultdict(list)
        for item in items(session, batch_id):
            by_dep[item.departement_code].append(item.request_id)
    done, failed = [], {}
    for dep, ids in sorted(by_dep.items()):
        try:
            with unit_of_work(engine) as session:
                if delegate_departement(session, batch_id, dep, ids, on):
                    done.append(dep)
        except Exception as exc:  # noqa: BLE001 - one département's failure must not stop the others
            failed[dep] = f"{type(exc).__name__}: {exc}"
            with unit_of_work(engine) as session:
                batch = session.get(DelegationBatch, batch_id)
                ids = [i.request_id for i in items(session, batch_id) if i.departement_code == dep]
                back_to_pool(
                    session,
                    batch,
                    ids,
                    PtaiEvent.DELEGATION_FAILED,
                    f"échec de la délégation pour le département {dep}",
                )
    with unit_of_work(engine) as session:
        batch = session.get(DelegationBatch, batch_id)
        report = dict(batch.report or {})
        report["delegues"] = sorted(set(report.get("delegues", [])) | set(done))
        report["echecs"] = {**report.get("echecs", {}), **failed}
        batch.report = report
        if batch.status == BatchStatus.APPROVED and not pending_departements(session, batch_id):
            machine_of(ENTITY).apply(batch, BatchEvent.DELEGATED)
        session.add(batch)
    return report


def delegate_departement(session: Session, batch_id: int, dep: str, request_ids: list[int], on: date) -> bool:
    """One département, one transaction. Loads columns, not ORM objects: a batch can carry
    thousands of requests. Rows are re-read (and locked) by id, so a second run skips them."""
    cols = (R.id, R.reference, R.title, R.proposed_cents, R.p104_action, R.legal_act, R.collectivite_id, R.porteur_id)
    delegated, moved = machine_of("ptai").moved(PtaiStatus.IN_BATCH, PtaiEvent.DELEGATED)
    stmt = select(*cols).where(R.id.in_(request_ids), R.batch_id == batch_id, R.status == delegated.source)
    if is_postgresql(session):
        stmt = stmt.with_for_update()
    requests = session.execute(stmt).all()
    if not requests:
        return False  # already delegated by an earlier run
    batch = session.get(DelegationBatch, batch_id)
    ids = [r.id for r in requests]
    session.execute(
        update(R)
        .where(R.id.in_(ids), R.status == delegated.source)
        .values(granted_cents=R.proposed_cents, **moved)
        .execution_options(synchronize_session=False)
    )
    recompute_legal_acts(session, ptai_request_ids=ids)  # R13 on the amounts granted
    prepare_acts(session, ptai_request_ids=ids)  # the act of each beneficiary, to be signed by the préfet
    acts = dict(session.execute(select(R.id, R.legal_act).where(R.id.in_(ids))).all())
    requests = [SimpleNamespace(**{**r._asdict(), "legal_act": acts[r.id]}) for r in requests]
    record_decisions(
        session,
        [
            dict(
                entity_type="ptai",
                entity_id=r.id,
                step=delegated.step,
                from_status=delegated.source,
                to_status=delegated.target,
                actor=SYSTEM,
                decision=delegated.decision,
                comment=batch.reference,
                amount_cents=r.proposed_cents,
            )
            for r in requests
        ],
    )
    totals = defaultdict(lambda: [0, 0])
    for r in requests:
        totals[r.p104_action][0] += 1
        totals[r.p104_action][1] += r.proposed_cents
    session.add_all(
        [
            DelegationLine(
                batch_id=batch_id,
                year=batch.year,
                departement_code=dep,
                p104_action=action,
                requests_count=n,
                ae_cents=cents,
                cp_cents=cents,
            )
            for action, (n, cents) in sorted(totals.items())
        ]
    )
    queue_many(session, _delegation_emails(session, batch, dep, requests, totals, on))
    return True


def _delegation_emails(
    session: Session, batch: DelegationBatch, dep: str, requests: list, totals, on: date
) -> list[Email]:
    """To the préfecture, one service notice. The applicants and porteurs learn nothing from the
    ministry: a delegation gives them no right yet; their letter comes from the préfecture, with
    the signed act (``services.acts``)."""
    named = departement_named(session, dep)
    prefecture = list(
        session.exec(
            select(Agent).where(Agent.departement_code == dep, Agent.role == Role.PREFET, Agent.active.is_(True))
        )
    )
    lines = [{"action_p104": a, "nombre_demandes": n, "montant_cents": c} for a, (n, c) in sorted(totals.items())]
    emails = []
    for agent in prefecture:
        context = {
            "reference": batch.reference,
            "objet": f"Délégation de crédits P104 — {prefecture_of(session, dep)}",
            "destinataire": agent.name,
            "departement": named,
            "expediteur": MINISTRY,
            "lot": batch.reference,
            "date_delegation": on,
            "lignes": lines,
            "total_cents": sum(c for _, c in totals.values()),
            "demandes": [r.reference for r in requests],
        }
        emails.append(
            Email(
                "credits_delegated_prefecture",
                agent.email,
                context,
                message_key(ENTITY, batch.id, f"delegated:{dep}", agent.email, "credits_delegated_prefecture"),
            )
        )
    return emails


def unfinished_batches(session: Session) -> list[int]:
    """Approved batches whose delegation a crash interrupted."""
    return list(session.exec(select(DelegationBatch.id).where(DelegationBatch.status == BatchStatus.APPROVED)))
