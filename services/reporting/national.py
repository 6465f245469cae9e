"""The national dashboard's figures, computed in the database (grouped queries, no row by row).

What is engaged in a year: the actions of the contracts signed (CTAI and CTAIR, from the
préfet's signature on), for the year they are funded, and the requests whose credits were
delegated (PTAI), for their campaign. Every breakdown (domain, P104 action, département) adds up
to the same yearly total. A request with several domains counts under its first (its main one).
A territory is engaged in a year when one of its contracts, signed, covers that year."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime

from sqlmodel import Session, func, select

from models.actors import Collectivite
from models.ctai import SIGNED_STATUSES, Action, Ctai
from models.dashboard import TERRITORY_GROUPS, group_of
from models.delegation import DelegationLine, Envelope
from models.ptai import PtaiRequest, PtaiStatus
from models.reminders import policy
from models.types import utcnow
from services.cases import kind as case_kind
from services.followup.reminders import late_step_runs

FUNDED_REQUEST = PtaiStatus.DELEGATED


def figures(session: Session, today: date, *, now: datetime | None = None) -> dict:
    """Every figure of the dashboard, as plain data (years as ints, amounts in cents)."""
    amounts = _amounts(session)
    out = {
        "genere_le": (now or utcnow()).isoformat(),
        "territoires": _territories(session),
        "montants": amounts,
        "delegations": _delegations(session),
        "etapes_en_retard": _late_steps(session, today),
    }
    out["annees"] = sorted(set(out["territoires"]) | set(amounts["par_annee"]) | set(out["delegations"]))
    return out


def _territories(session: Session) -> dict[int, dict[str, int]]:
    """Per year, the collectivités engaged by a signed contract, by group of type."""
    rows = session.exec(
        select(Ctai.first_year, Ctai.last_year, Collectivite.id, Collectivite.type)
        .join(Collectivite, Collectivite.id == Ctai.collectivite_id)
        .where(Ctai.status.in_(SIGNED_STATUSES))
        .distinct()
    )
    engaged: dict[int, dict[int, str]] = defaultdict(dict)
    for first, last, coll_id, kind in rows:
        for year in range(first, last + 1):
            engaged[year][coll_id] = group_of(kind)
    out = {}
    for year, by_coll in sorted(engaged.items()):
        counts = {group: 0 for group in TERRITORY_GROUPS}
        for group in by_coll.values():
            counts[group] += 1
        out[year] = {**counts, "total": len(by_coll)}
    return out


def _amounts(session: Session) -> dict:
    """Engaged amounts and funded lines per year, and per domain, P104 action and département."""
    ctai_lines = (
        select(
            Action.year,
            Action.domain,
            Action.p104_action,
            Collectivite.departement_code,
            func.sum(Action.amount_cents),
            func.count(),
        )
        .join(Ctai, Ctai.id == Action.ctai_id)
        .join(Collectivite, Collectivite.id == Ctai.collectivite_id)
        .where(Ctai.status.in_(SIGNED_STATUSES))
        .group_by(Action.year, Action.domain, Action.p104_action, Collectivite.departement_code)
    )
    main_domain = PtaiRequest.domains[0].as_string()
    ptai_lines = (
        select(
            PtaiRequest.campaign_year,
            main_domain,
            PtaiRequest.p104_action,
            Collectivite.departement_code,
            func.sum(PtaiRequest.granted_cents),
            func.count(),
        )
        .join(Collectivite, Collectivite.id == PtaiRequest.collectivite_id)
        .where(PtaiRequest.status == FUNDED_REQUEST)
        .group_by(PtaiRequest.campaign_year, main_domain, PtaiRequest.p104_action, Collectivite.departement_code)
    )
    by_year: dict[int, dict[str, int]] = defaultdict(
        lambda: {
            "ctai_cents": 0,
            "ptai_cents": 0,
            "total_cents": 0,
            "actions_ctai": 0,
            "demandes_ptai": 0,
            "lignes_financees": 0,
        }
    )
    by = {
        "domaine": defaultdict(lambda: defaultdict(int)),
        "action_p104": defaultdict(lambda: defaultdict(int)),
        "departement": defaultdict(lambda: defaultdict(int)),
    }
    for source, stmt in (("ctai", ctai_lines), ("ptai", ptai_lines)):
        for year, domain, p104, dep, cents, count in session.exec(stmt):
            cents = int(cents or 0)
            totals = by_year[year]
            totals[f"{source}_cents"] += cents
            totals["total_cents"] += cents
            totals["actions_ctai" if source == "ctai" else "demandes_ptai"] += count
            totals["lignes_financees"] += count
            by["domaine"][year][domain or "non_renseigne"] += cents
            by["action_p104"][year][str(p104)] += cents
            by["departement"][year][dep] += cents
    return {
        "par_annee": dict(sorted(by_year.items())),
        **{
            f"par_{name}": {year: dict(sorted(values.items())) for year, values in sorted(table.items())}
            for name, table in by.items()
        },
    }


def _delegations(session: Session) -> dict[int, dict]:
    """Per year: the ministry's envelope, what was delegated (AE), what is left, per département."""
    envelopes = {year: cents for year, cents in session.exec(select(Envelope.year, Envelope.amount_cents))}
    delegated: dict[int, dict[str, int]] = defaultdict(dict)
    for year, dep, cents in session.exec(
        select(DelegationLine.year, DelegationLine.departement_code, func.sum(DelegationLine.ae_cents)).group_by(
            DelegationLine.year, DelegationLine.departement_code
        )
    ):
        delegated[year][dep] = int(cents or 0)
    out = {}
    for year in sorted(set(envelopes) | set(delegated)):
        total = sum(delegated[year].values())
        envelope = envelopes.get(year)
        out[year] = {
            "enveloppe_cents": envelope,
            "delegue_cents": total,
            "reste_cents": None if envelope is None else envelope - total,
            "par_departement": dict(sorted(delegated[year].items())),
        }
    return out


def _late_steps(session: Session, today: date) -> dict:
    """The steps past their service level today (as the reminders see them), by département
    and by step."""
    by_dep: dict[str, int] = defaultdict(int)
    by_step: dict[str, int] = defaultdict(int)
    late = late_step_runs(session, today)
    ids: dict[str, set[int]] = defaultdict(set)
    for row in late:
        ids[row.entity_type].add(row.entity_id)
    where = {entity: case_kind(entity).departements(session, found) for entity, found in ids.items()}
    for row in late:
        by_dep[where[row.entity_type].get(row.entity_id, "?")] += 1
        by_step[f"{row.entity_type}:{row.step}"] += 1
    return {
        "total": sum(by_dep.values()),
        "par_departement": dict(sorted(by_dep.items())),
        "par_etape": dict(sorted(by_step.items())),
        "delais": {k: policy().sla_for(*k.split(":")) for k in by_step},
    }
