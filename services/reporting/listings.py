"""The lists agents ask for: contracts, requests, batches and acts, narrowed by département,
status, year, awaited party and « en retard ». Each row carries the case's current wait
(``services.reporting.waits``); rows are French-keyed dicts, for tables, JSON and CSV alike.

Each list imports the tables of its own kind of case when it runs: ``territoires ctai liste``
imports no batch, act or request model (the command line's start, ``bench/cli_start.py``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import date

from sqlmodel import Session, func, select

from models.actors import Collectivite, Porteur
from models.listing import NO_WAIT, ListFilter, Wait, check_filter, keep
from models.money import format_eur
from models.reference import Departement
from models.types import to_paris
from services.reporting.waits import IN_LIST_MAX, live_waits, wait_between_steps

MAX_ROWS = 100_000  # a national year is a few thousand cases: the bound is never an agent's limit


def statuses(entity: str) -> dict[str, str]:
    """The statuses of a kind of case: code → French label."""
    if entity == "ctai":
        from models.ctai import CTAI_STATUS_LABELS as labels
    elif entity == "ptai":
        from models.ptai import PTAI_STATUS_LABELS as labels
    elif entity == "lot":
        from models.delegation import BATCH_STATUS_LABELS as labels
    else:
        from models.acts import ACT_STATUS_LABELS as labels
    return {str(status.value): label for status, label in labels.items()}


def list_filter(session: Session, entity: str, **given) -> ListFilter:
    """The agent's filter for a list of ``entity``, checked against the database's départements."""
    known = set(session.exec(select(Departement.code)))
    return check_filter(statuses=statuses(entity), known_departements=known, **given)


def other_list_filter(session: Session, **given) -> ListFilter:
    """The filter of a list with no status to narrow on (payments, comptes rendus financiers,
    waiting runs), checked exactly as the four lists' are: an unknown département is refused
    (``DEPARTEMENT_INCONNU``), as is an unknown awaited party (``ATTENDU_INCONNU``)."""
    known = set(session.exec(select(Departement.code)))
    return check_filter(statuses={}, known_departements=known, **given)


def _with_wait(row: dict, wait: Wait | None) -> dict:
    row.update(wait.columns() if wait is not None else NO_WAIT)
    return row


def _finish(rows: list[tuple[dict, Wait | None]], flt: ListFilter) -> list[dict]:
    return [_with_wait(row, wait) for row, wait in rows if keep(wait, flt)]


def contracts(session: Session, flt: ListFilter, today: date) -> list[dict]:
    """CTAI and CTAIR; a year keeps the contracts that cover it."""
    from models.ctai import CTAI_STATUS_LABELS, Action, Ctai, CtaiFunding, CtaiKind, CtaiStatus

    stmt = select(Ctai, Collectivite).join(Collectivite, Collectivite.id == Ctai.collectivite_id)
    stmt = _narrowed(stmt, flt, departement=Collectivite.departement_code, status=Ctai.status)
    if flt.year:
        stmt = stmt.where(Ctai.first_year <= flt.year, Ctai.last_year >= flt.year)
    found = list(session.exec(stmt.order_by(Collectivite.departement_code, Ctai.id).limit(MAX_ROWS)))
    ids = [c.id for c, _ in found]
    waits = live_waits(session, "ctai", today, ids)
    funded = _sums(
        session,
        select(CtaiFunding.ctai_id, func.sum(CtaiFunding.socle_cents + CtaiFunding.complementary_cents)).group_by(
            CtaiFunding.ctai_id
        ),
        CtaiFunding.ctai_id,
        ids,
    )
    actions = _sums(session, select(Action.ctai_id, func.count()).group_by(Action.ctai_id), Action.ctai_id, ids)
    rows = []
    for ctai, coll in found:
        wait = waits.get(ctai.id) or wait_between_steps(
            "ctai", ctai.status, since=to_paris(ctai.updated_at).date(), deadline=None, today=today
        )
        rows.append(
            (
                {
                    "id": ctai.id,
                    "reference": ctai.reference,
                    "type": "CTAIR" if ctai.kind == CtaiKind.CTAIR else "CTAI",
                    "collectivite": coll.name,
                    "departement": coll.departement_code,
                    "annees": f"{ctai.first_year}–{ctai.last_year}",
                    "statut": ctai.status,
                    "statut_libelle": CTAI_STATUS_LABELS[CtaiStatus(ctai.status)],
                    "signe_le": ctai.prefet_signed_on.isoformat() if ctai.prefet_signed_on else None,
                    "actions": actions.get(ctai.id, 0),
                    "finance_cents": funded.get(ctai.id, 0),
                    "finance": format_eur(funded.get(ctai.id, 0), centimes=True),
                },
                wait,
            )
        )
    return _finish(rows, flt)


def requests(session: Session, flt: ListFilter, today: date) -> list[dict]:
    """PTAI requests; a year is their campaign."""
    from models.ptai import PTAI_STATUS_LABELS, PtaiRequest, PtaiStatus

    stmt = (
        select(PtaiRequest, Collectivite, Porteur.name)
        .join(Collectivite, Collectivite.id == PtaiRequest.collectivite_id)
        .join(Porteur, Porteur.id == PtaiRequest.porteur_id, isouter=True)
    )
    stmt = _narrowed(
        stmt, flt, departement=Collectivite.departement_code, status=PtaiRequest.status, year=PtaiRequest.campaign_year
    )
    found = list(session.exec(stmt.order_by(Collectivite.departement_code, PtaiRequest.id).limit(MAX_ROWS)))
    waits = live_waits(session, "ptai", today, [r.id for r, _, _ in found])
    rows = []
    for request, coll, porteur in found:
        wait = waits.get(request.id) or wait_between_steps(
            "ptai",
            request.status,
            since=to_paris(request.updated_at).date(),
            deadline=request.rework_deadline,
            today=today,
        )
        rows.append(
            (
                {
                    "id": request.id,
                    "reference": request.reference,
                    "campagne": request.campaign_year,
                    "demandeur": coll.name,
                    "departement": coll.departement_code,
                    "porteur": porteur,
                    "intitule": request.title,
                    "statut": request.status,
                    "statut_libelle": PTAI_STATUS_LABELS[PtaiStatus(request.status)],
                    "demande_cents": request.requested_cents,
                    "demande": format_eur(request.requested_cents, centimes=True),
                    "accorde_cents": request.granted_cents,
                    "accorde": None
                    if request.granted_cents is None
                    else format_eur(request.granted_cents, centimes=True),
                },
                wait,
            )
        )
    return _finish(rows, flt)


def batches(session: Session, flt: ListFilter, today: date) -> list[dict]:
    """The ministry's delegation batches; a département keeps those holding one of its requests."""
    from models.delegation import BATCH_STATUS_LABELS, BatchStatus, DelegationBatch

    stmt = select(DelegationBatch)
    deps = _batch_departements(session)
    if flt.departement:
        stmt = stmt.where(DelegationBatch.id.in_([b for b, d in deps.items() if flt.departement in d] or [-1]))
    stmt = _narrowed(stmt, flt, status=DelegationBatch.status, year=DelegationBatch.year)
    found = list(session.exec(stmt.order_by(DelegationBatch.year, DelegationBatch.id).limit(MAX_ROWS)))
    waits = live_waits(session, "lot", today, [b.id for b in found])
    rows = [
        (
            {
                "id": b.id,
                "reference": b.reference,
                "annee": b.year,
                "statut": b.status,
                "statut_libelle": BATCH_STATUS_LABELS[BatchStatus(b.status)],
                "demandes": b.requests_count,
                "montant_cents": b.total_cents,
                "montant": format_eur(b.total_cents, centimes=True),
                "departements": ", ".join(sorted(deps.get(b.id, ()))),
            },
            waits.get(b.id),
        )
        for b in found
    ]
    return _finish(rows, flt)


def acts(session: Session, flt: ListFilter, today: date) -> list[dict]:
    """Arrêtés and conventions; a year is the year funded."""
    from models.acts import ACT_KIND_LABELS, ACT_STATUS_LABELS, ActKind, ActStatus, LegalAct

    stmt = select(LegalAct)
    stmt = _narrowed(stmt, flt, departement=LegalAct.departement_code, status=LegalAct.status, year=LegalAct.year)
    found = list(session.exec(stmt.order_by(LegalAct.year, LegalAct.departement_code, LegalAct.id).limit(MAX_ROWS)))
    names = _beneficiaries(session, found)
    waits = live_waits(session, "acte", today, [a.id for a in found])
    rows = [
        (
            {
                "id": a.id,
                "reference": a.reference,
                "type": a.kind,
                "type_libelle": ACT_KIND_LABELS[ActKind(a.kind)],
                "version": a.version,
                "annee": a.year,
                "departement": a.departement_code,
                "beneficiaire": names[("p", a.porteur_id)] if a.porteur_id else names[("c", a.collectivite_id)],
                "statut": a.status,
                "statut_libelle": ACT_STATUS_LABELS[ActStatus(a.status)],
                "montant_cents": a.total_cents,
                "montant": format_eur(a.total_cents, centimes=True),
                "signe_le": a.signed_on.isoformat() if a.signed_on else None,
            },
            waits.get(a.id),
        )
        for a in found
    ]
    return _finish(rows, flt)


LISTS: dict[str, Callable[[Session, ListFilter, date], list[dict]]] = {
    "ctai": contracts,
    "ptai": requests,
    "lot": batches,
    "acte": acts,
}


def _narrowed(stmt, flt: ListFilter, *, status, departement=None, year=None):
    """The filters that are an equality on a column; a list whose kind reads the département or
    the year its own way leaves that column out and narrows it itself."""
    for column, wanted in ((departement, flt.departement), (status, flt.status), (year, flt.year)):
        if column is not None and wanted:
            stmt = stmt.where(column == wanted)
    return stmt


def _sums(session: Session, stmt, column, ids: list[int]) -> dict[int, int]:
    """A per-contract aggregate, for ``ids`` (read for all contracts when they are many)."""
    if len(ids) <= IN_LIST_MAX:
        stmt = stmt.where(column.in_(ids or [-1]))
    return {key: int(value or 0) for key, value in session.exec(stmt)}


def _batch_departements(session: Session) -> dict[int, set[str]]:
    """The départements of each batch: its delegated lines, and the requests it holds."""
    from models.delegation import DelegationLine
    from models.ptai import PtaiRequest

    deps: dict[int, set[str]] = defaultdict(set)
    for batch_id, dep in session.exec(select(DelegationLine.batch_id, DelegationLine.departement_code).distinct()):
        deps[batch_id].add(dep)
    for batch_id, dep in session.exec(
        select(PtaiRequest.batch_id, Collectivite.departement_code)
        .distinct()
        .join(Collectivite, Collectivite.id == PtaiRequest.collectivite_id)
        .where(PtaiRequest.batch_id.is_not(None))
    ):
        deps[batch_id].add(dep)
    return deps


def _beneficiaries(session: Session, found: list) -> dict[tuple[str, int], str]:
    """The beneficiary of each act (``found``: LegalAct rows): a porteur's or a collectivité's name."""
    names: dict[tuple[str, int], str] = defaultdict(str)
    for p in session.exec(select(Porteur).where(Porteur.id.in_({a.porteur_id for a in found if a.porteur_id} or {-1}))):
        names[("p", p.id)] = p.name
    for c in session.exec(
        select(Collectivite).where(Collectivite.id.in_({a.collectivite_id for a in found if a.collectivite_id} or {-1}))
    ):
        names[("c", c.id)] = c.name
    return names
