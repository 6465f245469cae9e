"""French texts about a ministry batch: the arbitrage form's Markdown and the batch's dashboard."""

from __future__ import annotations

from sqlmodel import Session, select

from models.actors import Collectivite
from models.delegation import BatchItem, BatchStatus, DelegationBatch, check_envelope
from models.money import format_eur
from models.ptai import PtaiRequest
from services.engine.texts import decision_footer, md, refusal_banner
from services.finance import steps
from services.finance.batches import items, table
from services.finance.envelope import approved_undelegated, delegated_in, envelope_of

R = PtaiRequest

LISTED_IN_FORM = 300  # requests listed one by one in the form; beyond, the export lists them all


def description(session: Session, batch: DelegationBatch, step: str, role: str, refusal) -> str:
    lines = [f"## Délégation de crédits {batch.year} — {batch.reference}", "", *refusal_banner(refusal)]
    envelope, delegated = envelope_of(session, batch.year), delegated_in(session, batch.year)
    approved = approved_undelegated(session, batch.year, but=batch.id) if batch.status == BatchStatus.AWAITING else 0
    batch_items = items(session, batch.id)
    total = sum(i.amount_cents for i in batch_items)
    lines += [
        f"**Demandes** : {len(batch_items)} · **Total du lot** : {format_eur(total)}",
        f"**Enveloppe {batch.year}** : {format_eur(envelope) if envelope is not None else 'non fixée'} · "
        f"**Déjà délégué** : {format_eur(delegated)}"
        + (f" · **Lots approuvés en cours de délégation** : {format_eur(approved)}" if approved else ""),
    ]
    over = check_envelope(total, envelope, delegated, batch.year, approved)
    lines += [
        "",
        f"**⚠ {over[0].message}**" if over else "✅ Le lot tient dans l'enveloppe.",
        "",
        "| Département | Demandes | Action 12 | Action 15 | Cumul national | Reste de l'enveloppe |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {r['departement']} | {r['demandes']} | {r['action_12']} | {r['action_15']} | "
        f"{r['total_national_cumule']} | {r['reste_enveloppe']} |"
        for r in table(session, batch)
    ]
    lines += ["", *request_lines(session, batch_items)]
    lines += [
        "",
        *decision_footer(steps.ARBITRAGE),
    ]
    lines += [
        "",
        "**Décisions par demande (si vous approuvez le lot)** — indiquez les demandes par leur n° (colonne « N° ») :",
        "- **Réductions** : une ligne par demande : son n°, le nouveau montant en euros (entier, inférieur au "
        "montant actuel et supérieur à zéro) et le motif, transmis au demandeur ; le montant réduit est celui "
        "qui est délégué.",
        "- **Reports au lot suivant** : les n° des demandes, séparés par des virgules, et un seul motif pour "
        "toutes ; une demande ne peut être reportée qu'**une fois** (colonne « Reports »).",
        "- **Refus définitifs** : les n° des demandes et un seul motif, cité dans la lettre envoyée au demandeur "
        "et à l'association porteuse, avec les voies et délais de recours.",
        "- Une demande ne reçoit qu'une décision ; le total retenu, après réductions, doit tenir dans le reste "
        "de l'enveloppe.",
    ]
    return "\n".join(lines)


def request_lines(session: Session, batch_items: list[BatchItem]) -> list[str]:
    """The requests of the batch, one per line, with the number the ministry types."""
    if not batch_items:
        return []
    shown = batch_items[:LISTED_IN_FORM]
    rows = {
        r.id: r
        for r in session.execute(
            select(R.id, R.reference, R.title, R.postponements, Collectivite.name)
            .join(Collectivite, Collectivite.id == R.collectivite_id)
            .where(R.id.in_([i.request_id for i in shown]))
        )
    }
    lines = [
        "### Demandes du lot",
        "",
        "| N° | Référence | Demandeur | Projet | Action | Montant | Reports |",
        "|---:|---|---|---|---:|---:|---:|",
    ]
    for i in shown:
        r = rows[i.request_id]
        lines.append(
            f"| {i.request_id} | {r.reference} | {md(r.name)} | {md(r.title)} | {i.p104_action} | "
            f"{format_eur(i.amount_cents)} | {r.postponements} |"
        )
    if len(batch_items) > len(shown):
        lines += [
            "",
            f"… et {len(batch_items) - len(shown)} autres demandes, retenues à leur montant sauf décision "
            "de votre part (indiquez-les par leur n°, comme les autres).",
        ]
    return lines


def batch_markdown(session: Session, batch_id: int) -> str:
    batch = session.get(DelegationBatch, batch_id)
    return (
        description(session, batch, steps.ARBITRAGE.name, str(steps.ARBITRAGE.role), None).split("### Votre décision")[
            0
        ]
        + f"\n**Statut** : {batch.status} · **Rapport** : {md(batch.report) if batch.report else '—'}\n"
    )
