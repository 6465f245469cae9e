"""The ministry's batches: selecting the transmitted requests, the table by département, and
the ministry's arbitrage as a step of the engine (kind ``lot``).

``select_batch`` claims every transmitted request with one conditional UPDATE: a request can
never be in two batches, even when two batch runs start at the same time on PostgreSQL.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import Session, select

from models.actors import Collectivite
from models.delegation import BATCH_MACHINE, BatchItem, BatchStatus, DelegationBatch, batch_reference, check_envelope, group
from models.errors import RuleViolation, Violation
from models.money import format_eur
from models.ptai import PTAI_MACHINE, PtaiRequest, PtaiStatus
from models.reference import Departement
from services.engine.audit import SYSTEM, record_decisions
from services.engine.kind import Applied, CaseKind, Step
from services.engine.texts import decision_footer, md, refusal_banner
from services.finance.envelope import delegated_in, envelope_of
from services.finance.forms import ArbitrageForm

R = PtaiRequest
ENTITY = "lot"
MINISTRY = "Le ministère de l'Intérieur (DGEF/DIAN)"


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
    batched, moved = PTAI_MACHINE.moved(PtaiStatus.TRANSMITTED, "batched")
    claimed = session.execute(
        update(R).where(R.status == batched.source, R.batch_id.is_(None), R.campaign_year == year)
        .values(batch_id=batch.id, **moved).returning(R.id, R.proposed_cents)).all()
    batch.requests_count = len(claimed)
    batch.total_cents = sum(c for _, c in claimed)
    if not claimed:
        BATCH_MACHINE.apply(batch, "empty")
    record_decisions(session, [dict(entity_type="ptai", entity_id=rid, step=batched.step, from_status=batched.source,
                                    to_status=batched.target, actor=SYSTEM, decision=batched.decision,
                                    comment=batch.reference, amount_cents=cents) for rid, cents in claimed])
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
    rows = session.execute(select(R.id, Collectivite.departement_code, R.p104_action, R.proposed_cents)
                           .join(Collectivite, Collectivite.id == R.collectivite_id)
                           .where(R.batch_id == batch_id, R.status == PtaiStatus.IN_BATCH).order_by(R.id)).all()
    return [BatchItem(*r) for r in rows]


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

def arbitrage(session: Session, batch: DelegationBatch, decision: str, form: ArbitrageForm) -> Applied:
    batch_items = items(session, batch.id)
    comment = (form.comment or "").strip()
    if decision in {"exclude", "reject"} and not comment:
        raise RuleViolation([Violation("CHAMP_MANQUANT", "comment", "indiquez le motif (il est transmis aux demandeurs)")])
    if decision == "reject":
        back_to_pool(session, batch, [i.request_id for i in batch_items], "batch_rejected", form.comment)
        return Applied()
    if decision == "exclude":
        excluded = set(form.excluded_request_ids)
        unknown = excluded - {i.request_id for i in batch_items}
        if not excluded or unknown:
            raise RuleViolation([Violation("DEMANDE_HORS_LOT", "excluded_request_ids",
                                           f"demandes absentes du lot : {sorted(unknown)}" if unknown else "indiquez les demandes à exclure")])
        back_to_pool(session, batch, sorted(excluded), "excluded", form.comment)
        batch_items = [i for i in batch_items if i.request_id not in excluded]
    total = sum(i.amount_cents for i in batch_items)
    batch.total_cents, batch.requests_count = total, len(batch_items)
    checks = check_envelope(total, envelope_of(session, batch.year), delegated_in(session, batch.year), batch.year)
    return Applied(checks=checks, amount_cents=total)


def back_to_pool(session: Session, batch: DelegationBatch, request_ids: list[int], decision: str, reason: str) -> None:
    """The listed requests of the batch go back to the transmitted pool (the next batch takes them)."""
    if not request_ids:
        return
    back, moved = PTAI_MACHINE.moved(PtaiStatus.IN_BATCH, decision)
    session.execute(update(R).where(R.id.in_(request_ids), R.batch_id == batch.id, R.status == back.source)
                    .values(batch_id=None, **moved))
    record_decisions(session, [dict(entity_type="ptai", entity_id=rid, step=back.step, from_status=back.source,
                                    to_status=back.target, actor=SYSTEM, decision=decision,
                                    comment=f"{batch.reference} : {reason}") for rid in request_ids])


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


def batch_markdown(session: Session, batch_id: int) -> str:
    batch = session.get(DelegationBatch, batch_id)
    return _description(session, batch, "arbitrage", "ministere", None).split("### Votre décision")[0] + \
        f"\n**Statut** : {batch.status} · **Rapport** : {md(batch.report) if batch.report else '—'}\n"


class BatchCase(CaseKind[DelegationBatch]):
    """A ministry batch: its one step is the arbitrage, inside the monthly delegation flow."""

    entity = ENTITY
    model = DelegationBatch
    machine = BATCH_MACHINE
    parameter = "batch_id"
    steps = {"arbitrage": Step("arbitrage", BatchStatus.AWAITING, "arbitrage du lot par le ministère", ArbitrageForm,
                               arbitrage, has_flow=False)}

    def departement(self, session: Session, case: DelegationBatch) -> str:
        return "national"

    def run_name(self, session: Session, case: DelegationBatch, step: str) -> str:
        return f"Délégation de crédits {case.year} — {case.reference}"

    def description(self, session: Session, case: DelegationBatch, step: str, role: str, refusal) -> str:
        return _description(session, case, step, role, refusal)

    def email_base(self, session: Session, case: DelegationBatch, recipient_name: str) -> dict:
        return {"reference": case.reference, "objet": f"Lot de délégation de crédits P104 — campagne {case.year}",
                "destinataire": recipient_name, "departement": "national", "expediteur": MINISTRY}

    def applicants(self, session: Session, case: DelegationBatch) -> list[tuple[str, str]]:
        return []

    def summary(self, session: Session, case: DelegationBatch) -> str:
        return f"{case.requests_count} demande(s), {format_eur(case.total_cents)}."

    def run_request(self, session: Session, case: DelegationBatch, step: str, trigger: str) -> tuple[str, dict]:
        """The arbitrage lives in the monthly delegation flow: a run of it resumes this batch."""
        return "delegation-credits", {"year": case.year, "batch_id": case.id}

    def dashboard(self, session: Session, entity_id: int) -> str:
        return batch_markdown(session, entity_id)


BATCH = BatchCase()
