"""The ministry's batch delegation of credits, as transactions.

- ``select_batch`` claims every transmitted request with one conditional UPDATE: a request can
  never be in two batches, even when two batch runs start at the same time on PostgreSQL.
- The ministry's decision goes through the step engine (kind ``lot``, step ``arbitrage``).
- ``delegate`` works one département per transaction: a failing département is put back in
  the pool and reported; the others stand. Running it again skips what is already delegated.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import func, update
from sqlmodel import Session, select

from models.actors import Agent, Collectivite, Porteur, Role
from models.delegation import (
    BatchItem, BatchStatus, DelegationBatch, DelegationLine, Envelope, batch_reference, check_envelope, group,
)
from models.errors import RuleViolation, Violation
from models.money import format_eur
from models.ptai import PtaiRequest, PtaiStatus
from models.reference import Departement
from models.state_machine import StateMachine, Transition
from models.types import paris_today
from notifications.outbox import Email, message_key, queue_many
from services.audit import SYSTEM, record_decisions
from services.ctai_text import decision_footer, refusal_banner
from services.db import is_postgresql, unit_of_work
from services.step_engine import Applied, CaseKind

R = PtaiRequest
ENTITY = "lot"
MINISTRY = "Le ministère de l'Intérieur (DGEF/DIAN)"

BATCH_MACHINE = StateMachine("lot", [
    Transition("arbitrage", BatchStatus.AWAITING, "approve", BatchStatus.APPROVED, Role.MINISTERE, "lot approuvé"),
    Transition("arbitrage", BatchStatus.AWAITING, "exclude", BatchStatus.APPROVED, Role.MINISTERE, "lot approuvé avec exclusions"),
    Transition("arbitrage", BatchStatus.AWAITING, "reject", BatchStatus.REJECTED, Role.MINISTERE, "lot rejeté"),
])


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
    claimed = session.execute(
        update(R).where(R.status == PtaiStatus.TRANSMITTED, R.batch_id.is_(None), R.campaign_year == year)
        .values(batch_id=batch.id, status=PtaiStatus.IN_BATCH).returning(R.id, R.proposed_cents)).all()
    batch.requests_count = len(claimed)
    batch.total_cents = sum(c for _, c in claimed)
    batch.status = BatchStatus.AWAITING if claimed else BatchStatus.EMPTY
    record_decisions(session, [dict(entity_type="ptai", entity_id=rid, step="delegation", from_status=PtaiStatus.TRANSMITTED,
                                    to_status=PtaiStatus.IN_BATCH, actor=SYSTEM, decision="batched",
                                    comment=batch.reference, amount_cents=cents) for rid, cents in claimed])
    session.add(batch)
    return batch


def items(session: Session, batch_id: int) -> list[BatchItem]:
    rows = session.execute(select(R.id, Collectivite.departement_code, R.p104_action, R.proposed_cents)
                           .join(Collectivite, Collectivite.id == R.collectivite_id)
                           .where(R.batch_id == batch_id, R.status == PtaiStatus.IN_BATCH).order_by(R.id)).all()
    return [BatchItem(*r) for r in rows]


def delegated_in(session: Session, year: int) -> int:
    return session.execute(select(func.coalesce(func.sum(DelegationLine.ae_cents), 0)).where(DelegationLine.year == year)).scalar_one()


def envelope_of(session: Session, year: int) -> int | None:
    row = session.get(Envelope, year)
    return row.amount_cents if row else None


def set_envelope(session: Session, year: int, amount_cents: int) -> Envelope:
    if amount_cents < 0:
        raise RuleViolation([Violation("MONTANT_NEGATIF", "amount", "l'enveloppe ne peut pas être négative")])
    row = session.get(Envelope, year) or Envelope(year=year, amount_cents=amount_cents)
    row.amount_cents = amount_cents
    session.add(row)
    return row


def table(session: Session, batch: DelegationBatch) -> list[dict]:
    """Per département: requests, amount per P104 action, running national total, envelope left."""
    envelope, delegated = envelope_of(session, batch.year), delegated_in(session, batch.year)
    names = {d.code: d.nom for d in session.exec(select(Departement))}
    per_dep: dict[str, dict] = {}
    for g in group(items(session, batch.id)):
        row = per_dep.setdefault(g.departement_code, {"departement": f"{names.get(g.departement_code, '')} ({g.departement_code})",
                                                      "demandes": 0, "action_12": 0, "action_15": 0})
        row["demandes"] += g.requests_count
        row[f"action_{g.p104_action}"] += g.amount_cents
    running, out = 0, []
    for row in per_dep.values():
        running += row["action_12"] + row["action_15"]
        left = None if envelope is None else envelope - delegated - running
        out.append({**row, "action_12": format_eur(row["action_12"]), "action_15": format_eur(row["action_15"]),
                    "total_national_cumule": format_eur(running),
                    "reste_enveloppe": "non fixée" if left is None else format_eur(left)})
    return out


# --- The ministry's decision (a step of the engine) ----------------------------------------------

def arbitrage(session: Session, batch: DelegationBatch, decision: str, answer: dict) -> Applied:
    batch_items = items(session, batch.id)
    if decision in {"exclude", "reject"} and not (answer.get("comment") or "").strip():
        raise RuleViolation([Violation("CHAMP_MANQUANT", "comment", "indiquez le motif (il est transmis aux demandeurs)")])
    if decision == "reject":
        _back_to_pool(session, batch, [i.request_id for i in batch_items], "batch_rejected", answer["comment"])
        return Applied()
    if decision == "exclude":
        excluded = {int(i) for i in answer.get("excluded_request_ids") or []}
        unknown = excluded - {i.request_id for i in batch_items}
        if not excluded or unknown:
            raise RuleViolation([Violation("DEMANDE_HORS_LOT", "excluded_request_ids",
                                           f"demandes absentes du lot : {sorted(unknown)}" if unknown else "indiquez les demandes à exclure")])
        _back_to_pool(session, batch, sorted(excluded), "excluded", answer["comment"])
        batch_items = [i for i in batch_items if i.request_id not in excluded]
    total = sum(i.amount_cents for i in batch_items)
    batch.total_cents, batch.requests_count = total, len(batch_items)
    checks = check_envelope(total, envelope_of(session, batch.year), delegated_in(session, batch.year), batch.year)
    return Applied(checks=checks, amount_cents=total)


def _back_to_pool(session: Session, batch: DelegationBatch, request_ids: list[int], decision: str, reason: str) -> None:
    if not request_ids:
        return
    session.execute(update(R).where(R.id.in_(request_ids), R.batch_id == batch.id, R.status == PtaiStatus.IN_BATCH)
                    .values(batch_id=None, status=PtaiStatus.TRANSMITTED))
    record_decisions(session, [dict(entity_type="ptai", entity_id=rid, step="delegation", from_status=PtaiStatus.IN_BATCH,
                                    to_status=PtaiStatus.TRANSMITTED, actor=SYSTEM, decision=decision,
                                    comment=f"{batch.reference} : {reason}") for rid in request_ids])


def _batch_base(session: Session, batch: DelegationBatch, name: str) -> dict:
    return {"reference": batch.reference, "objet": f"Lot de délégation de crédits P104 — campagne {batch.year}",
            "destinataire": name, "departement": "national", "expediteur": MINISTRY}


def _description(session: Session, batch: DelegationBatch, step: str, role: str, refusal) -> str:
    lines = [f"## Délégation de crédits {batch.year} — {batch.reference}", "", *refusal_banner(refusal)]
    envelope, delegated = envelope_of(session, batch.year), delegated_in(session, batch.year)
    total = sum(i.amount_cents for i in items(session, batch.id))
    lines += [f"**Demandes** : {batch.requests_count} · **Total du lot** : {format_eur(total)}",
              f"**Enveloppe {batch.year}** : {format_eur(envelope) if envelope is not None else 'non fixée'} · "
              f"**Déjà délégué** : {format_eur(delegated)}"]
    over = check_envelope(total, envelope, delegated, batch.year)
    lines += ["", f"**⚠ {over[0].message}**" if over else "✅ Le lot tient dans l'enveloppe.", "",
              "| Département | Demandes | Action 12 | Action 15 | Cumul national | Reste de l'enveloppe |", "|---|---:|---:|---:|---:|---:|"]
    lines += [f"| {r['departement']} | {r['demandes']} | {r['action_12']} | {r['action_15']} | {r['total_national_cumule']} | {r['reste_enveloppe']} |"
              for r in table(session, batch)]
    lines += ["", *decision_footer("lot", "arbitrage", [
        ("approve", "tout le lot est délégué"),
        ("exclude", "les demandes listées retournent au vivier, avec le motif ; les autres sont déléguées"),
        ("reject", "toutes les demandes retournent au vivier, avec le motif")])]
    return "\n".join(lines)


BATCH = CaseKind(
    entity=ENTITY, model=DelegationBatch, machine=BATCH_MACHINE, status_of_step={"arbitrage": BatchStatus.AWAITING},
    step_labels={"arbitrage": "arbitrage du lot par le ministère"}, handlers={"arbitrage": arbitrage},
    four_eyes_steps=frozenset(), departement=lambda session, batch: "national",
    run_name=lambda session, batch, step: f"Délégation de crédits {batch.year} — {batch.reference}",
    description=_description, email_base=_batch_base, applicants=lambda session, batch: [],
    summary=lambda session, batch: f"{batch.requests_count} demande(s), {format_eur(batch.total_cents)}.",
)


def batch_markdown(session: Session, batch_id: int) -> str:
    batch = session.get(DelegationBatch, batch_id)
    return _description(session, batch, "arbitrage", "ministere", None).split("### Votre décision")[0] + \
        f"\n**Statut** : {batch.status} · **Rapport** : {batch.report or '—'}\n"


# --- Delegating, one département per transaction ------------------------------------------------

def pending_departements(session: Session, batch_id: int) -> list[str]:
    return sorted({i.departement_code for i in items(session, batch_id)})


def delegate(batch_id: int, *, engine=None, on: date | None = None, fail_on: set[str] | None = None) -> dict:
    """Delegates every département still pending in an approved batch; returns the report.

    ``fail_on`` lists départements to fail on purpose (tests: what a failing département does).
    """
    on = on or paris_today()
    with unit_of_work(engine) as session:
        by_dep: dict[str, list[int]] = defaultdict(list)
        for item in items(session, batch_id):
            by_dep[item.departement_code].append(item.request_id)
    done, failed = [], {}
    for dep, ids in sorted(by_dep.items()):
        try:
            with unit_of_work(engine) as session:
                if fail_on and dep in fail_on:
                    raise RuntimeError(f"échec simulé pour le département {dep}")
                if _delegate_departement(session, batch_id, dep, ids, on):
                    done.append(dep)
        except Exception as exc:  # noqa: BLE001 - one département's failure must not stop the others
            failed[dep] = f"{type(exc).__name__}: {exc}"
            with unit_of_work(engine) as session:
                batch = session.get(DelegationBatch, batch_id)
                ids = [i.request_id for i in items(session, batch_id) if i.departement_code == dep]
                _back_to_pool(session, batch, ids, "excluded", f"échec de la délégation pour le département {dep}")
    with unit_of_work(engine) as session:
        batch = session.get(DelegationBatch, batch_id)
        report = dict(batch.report or {})
        report["delegues"] = sorted(set(report.get("delegues", [])) | set(done))
        report["echecs"] = {**report.get("echecs", {}), **failed}
        batch.report = report
        if not pending_departements(session, batch_id):
            batch.status = BatchStatus.DELEGATED
        session.add(batch)
    return report


def _delegate_departement(session: Session, batch_id: int, dep: str, request_ids: list[int], on: date) -> bool:
    """One département, one transaction. Loads columns, not ORM objects: a batch can carry
    thousands of requests. Rows are re-read (and locked) by id, so a second run skips them."""
    cols = (R.id, R.reference, R.title, R.proposed_cents, R.p104_action, R.legal_act, R.collectivite_id, R.porteur_id)
    stmt = select(*cols).where(R.id.in_(request_ids), R.batch_id == batch_id, R.status == PtaiStatus.IN_BATCH)
    if is_postgresql(session):
        stmt = stmt.with_for_update()
    requests = session.execute(stmt).all()
    if not requests:
        return False  # already delegated by an earlier run
    batch = session.get(DelegationBatch, batch_id)
    ids = [r.id for r in requests]
    session.execute(update(R).where(R.id.in_(ids), R.status == PtaiStatus.IN_BATCH)
                    .values(status=PtaiStatus.DELEGATED, granted_cents=R.proposed_cents)
                    .execution_options(synchronize_session=False))
    record_decisions(session, [dict(entity_type="ptai", entity_id=r.id, step="delegation", from_status=PtaiStatus.IN_BATCH,
                                    to_status=PtaiStatus.DELEGATED, actor=SYSTEM, decision="delegated",
                                    comment=batch.reference, amount_cents=r.proposed_cents) for r in requests])
    totals = defaultdict(lambda: [0, 0])
    for r in requests:
        totals[r.p104_action][0] += 1
        totals[r.p104_action][1] += r.proposed_cents
    session.add_all([DelegationLine(batch_id=batch_id, year=batch.year, departement_code=dep, p104_action=action,
                                    requests_count=n, ae_cents=cents, cp_cents=cents) for action, (n, cents) in sorted(totals.items())])
    queue_many(session, _delegation_emails(session, batch, dep, requests, totals, on))
    return True


def _delegation_emails(session: Session, batch: DelegationBatch, dep: str, requests: list, totals, on: date) -> list[Email]:
    """To the préfecture (one summary) and to each applicant and porteur (one each)."""
    dep_row = session.get(Departement, dep)
    place = f"{dep_row.nom} ({dep})" if dep_row else dep
    prefecture = list(session.exec(select(Agent).where(Agent.departement_code == dep, Agent.role == Role.PREFET, Agent.active == True)))  # noqa: E712
    collectivites = {c.id: c for c in session.exec(select(Collectivite).where(Collectivite.id.in_({r.collectivite_id for r in requests})))}
    porteur_ids = {r.porteur_id for r in requests if r.porteur_id}
    porteurs = {p.id: p for p in session.exec(select(Porteur).where(Porteur.id.in_(porteur_ids)))} if porteur_ids else {}
    lines = [{"action_p104": a, "nombre_demandes": n, "montant_cents": c} for a, (n, c) in sorted(totals.items())]
    emails = []
    for agent in prefecture:
        context = {"reference": batch.reference, "objet": f"Délégation de crédits P104 — {place}", "destinataire": agent.name,
                   "departement": place, "expediteur": MINISTRY, "lot": batch.reference, "date_delegation": on,
                   "lignes": lines, "total_cents": sum(c for _, c in totals.values()), "demandes": [r.reference for r in requests]}
        emails.append(Email("credits_delegated_prefecture", agent.email, context,
                            message_key(ENTITY, batch.id, f"delegated:{dep}", agent.email, "credits_delegated_prefecture")))
    for r in requests:
        parties = [collectivites[r.collectivite_id]] + ([porteurs[r.porteur_id]] if r.porteur_id else [])
        for party in parties:
            context = {"reference": r.reference, "objet": f"Projet territorial « {r.title} »", "destinataire": party.name,
                       "departement": place, "expediteur": MINISTRY, "lot": batch.reference, "projet": r.title,
                       "montant_cents": r.proposed_cents, "action_p104": r.p104_action, "acte_juridique": r.legal_act,
                       "date_delegation": on}
            emails.append(Email("credits_delegated_porteur", party.email, context,
                                message_key("ptai", r.id, "delegated", party.email, "credits_delegated_porteur")))
    return emails


def unfinished_batches(session: Session) -> list[int]:
    """Approved batches whose delegation a crash interrupted."""
    return list(session.exec(select(DelegationBatch.id).where(DelegationBatch.status == BatchStatus.APPROVED)))

