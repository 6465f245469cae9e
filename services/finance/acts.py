"""R13 kept true: the legal act of every PTAI request and CTAI action follows the total that its
beneficiary is granted that year, recomputed whenever one of those amounts changes.

The beneficiary is the association that carries the line (its porteur), else the collectivité
itself. The amount is the one granted when it is known, else the best one known so far (the
préfet's validated or the instructeur's proposed amount, else the requested one; a contract's
action amount): the act shown during instruction is the one the current amounts call for.
Requests rejected or closed, and refused contracts, count for nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import func, or_, update
from sqlmodel import Session, select

from models.ctai import Action, Ctai, CtaiStatus
from models.ptai import PtaiRequest, PtaiStatus
from models.reference import rules_or_nearest
from models.rules import Beneficiary, FundedLine, legal_acts

R = PtaiRequest
DEAD_REQUESTS = (PtaiStatus.REJECTED.value, PtaiStatus.CLOSED.value)
DEAD_CONTRACTS = (CtaiStatus.REFUSED.value,)


def threshold_of_year(year: int) -> int:
    """The year's convention threshold (a year beyond the campaigns known takes the nearest one's)."""
    return rules_or_nearest(year).seuil_convention_cents


def recompute_legal_acts(
    session: Session, *, ptai_request_ids: Iterable[int] = (), ctai_ids: Iterable[int] = ()
) -> None:
    """Recomputes the act of every line of the beneficiaries and years that these requests and
    these contracts' actions touch; writes only the acts that change. Call it in the transaction
    that changed an amount (it flushes first)."""
    session.flush()
    request_ids, contract_ids = sorted(set(ptai_request_ids)), sorted(set(ctai_ids))
    touched: set[tuple[Beneficiary, int]] = set()
    if request_ids:
        for porteur, collectivite, year in session.execute(
            select(R.porteur_id, R.collectivite_id, R.campaign_year).where(R.id.in_(request_ids))
        ):
            touched.add((_beneficiary(porteur, collectivite), year))
    if contract_ids:
        for porteur, collectivite, year in session.execute(
            select(Action.porteur_id, Ctai.collectivite_id, Action.year)
            .join(Ctai, Ctai.id == Action.ctai_id)
            .where(Action.ctai_id.in_(contract_ids))
        ):
            touched.add((_beneficiary(porteur, collectivite), year))
    if not touched:
        return
    lines, current = _lines(session, touched)
    acts = legal_acts(lines, threshold_of_year)
    changes: dict[tuple[str, str], list[int]] = defaultdict(list)
    for key, act in acts.items():
        if current[key] != act:
            changes[(key[0], act)].append(key[1])
    for (table, act), ids in sorted(changes.items()):
        model = R if table == "ptai" else Action
        for start in range(0, len(ids), 1000):
            session.execute(
                update(model)
                .where(model.id.in_(ids[start : start + 1000]))
                .values(legal_act=act)
                .execution_options(synchronize_session="evaluate")
            )


def _beneficiary(porteur_id: int | None, collectivite_id: int) -> Beneficiary:
    return ("porteur", porteur_id) if porteur_id is not None else ("collectivite", collectivite_id)


def _lines(session: Session, touched: set[tuple[Beneficiary, int]]) -> tuple[list[FundedLine], dict]:
    """Every live line of the touched beneficiaries in the touched years, and its current act."""
    porteurs = {b[1] for b, _ in touched if b[0] == "porteur"}
    collectivites = {b[1] for b, _ in touched if b[0] == "collectivite"}
    years = {y for _, y in touched}
    lines, current = [], {}

    def whose(porteur_col, collectivite_col):
        clauses = []
        if porteurs:
            clauses.append(porteur_col.in_(porteurs))
        if collectivites:
            clauses.append(porteur_col.is_(None) & collectivite_col.in_(collectivites))
        return or_(*clauses)

    amount = func.coalesce(R.granted_cents, R.proposed_cents, R.requested_cents)
    for rid, porteur, collectivite, year, cents, act in session.execute(
        select(R.id, R.porteur_id, R.collectivite_id, R.campaign_year, amount, R.legal_act).where(
            whose(R.porteur_id, R.collectivite_id), R.campaign_year.in_(years), R.status.not_in(DEAD_REQUESTS)
        )
    ):
        beneficiary = _beneficiary(porteur, collectivite)
        if (beneficiary, year) in touched:
            lines.append(FundedLine(("ptai", rid), beneficiary, year, cents))
            current[("ptai", rid)] = act
    replaced_from = _replacement_years(session)
    for aid, porteur, collectivite, year, cents, act, ctai_id, _status in session.execute(
        select(
            Action.id,
            Action.porteur_id,
            Ctai.collectivite_id,
            Action.year,
            Action.amount_cents,
            Action.legal_act,
            Ctai.id,
            Ctai.status,
        )
        .join(Ctai, Ctai.id == Action.ctai_id)
        .where(
            whose(Action.porteur_id, Ctai.collectivite_id), Action.year.in_(years), Ctai.status.not_in(DEAD_CONTRACTS)
        )
    ):
        if year >= replaced_from.get(ctai_id, year + 1):
            continue  # the CTAI widening this CTAIR (signed or not yet) carries these years: its actions are copies
        beneficiary = _beneficiary(porteur, collectivite)
        if (beneficiary, year) in touched:
            lines.append(FundedLine(("action", aid), beneficiary, year, cents))
            current[("action", aid)] = act
    return lines, current


def _replacement_years(session: Session) -> dict[int, int]:
    """For each CTAIR a live CTAI replaces or is widening: the first year the CTAI carries."""
    rows = session.execute(
        select(Ctai.replaces_ctair_id, func.min(Ctai.first_year))
        .where(Ctai.replaces_ctair_id.is_not(None), Ctai.status.not_in(DEAD_CONTRACTS))
        .group_by(Ctai.replaces_ctair_id)
    )
    return {ctair: first for ctair, first in rows}
