"""The national dashboard over 100 national years, against the same aggregates in plain SQL.

    python bench/dashboard.py [--contracts 10000] [--requests 300000] [--database sqlite|postgresql|both]
                              [--rounds 5] [--profile]

Data (fictitious, generated with a fixed seed and loaded in bulk: Core ``insert()`` executemany on
SQLite, COPY on PostgreSQL): collectivités of every type over the 101 départements; 10 000 signed
contracts (CTAIR and CTAI, every signed status, renewals and CTAIR→CTAI overlaps, so a territory
may hold two contracts in one year), each with 5 to 20 actions spread over its years; about 15 %
more contracts not signed yet (their actions must not count); 300 000 PTAI requests over the
campaigns 2021-2026 (a realistic mix of statuses, about half ``delegated`` with their granted
amount, domains as a JSON list); the delegation batches and their lines (per département and P104
action, summed from the delegated requests); the envelopes 2021-2027; one live step run per case
waiting at a step (a few thousand, opened over the last five months, most of them past their
service level). PostgreSQL is vacuumed and analysed after the load (autovacuum's steady state);
SQLite is left as the platform leaves it.

Measured: ``services.reporting.national.figures(session, TODAY)``, in a fresh session each time.

Floor, in the same run on the same database: the same figures from a handful of plain SQL
statements (``text()``) and a minimal Python fold: territories engaged per year and group of type
(a recursive CTE of the years joined on the signed spans, COUNT(DISTINCT)), amounts per
year / domain (a request's first domain) / P104 action / département (CTAI actions of signed
contracts plus delegated requests), delegations against the envelope per year and département,
and the late steps by département and step (one statement joining each step run to its case
with the same per-step cut-offs as ``late_step_runs``). The bench asserts that both give exactly
the same figures before timing anything.

Each side: one warm-up, then the best (min) of ``--rounds`` alternated repetitions. Last line:
``dashboard: ratio <dashboard / floor, the worse of the databases> (target 2)``.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import random
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _harness import fresh_database  # noqa: E402 - imported once the repository root is on sys.path
from sqlalchemy import insert, text  # noqa: E402 - imported once the repository root is on sys.path
from sqlmodel import Session  # noqa: E402 - imported once the repository root is on sys.path

import cli  # noqa: E402,F401 - turns Prefect's usage analytics off before Prefect is imported
from models.actors import Collectivite  # noqa: E402 - imported once the repository root is on sys.path
from models.approval import StepRun  # noqa: E402 - imported once the repository root is on sys.path
from models.ctai import SIGNED_STATUSES, Action, Ctai  # noqa: E402 - imported once the repository root is on sys.path
from models.dashboard import GROUP_OF_TYPE, TERRITORY_GROUPS  # noqa: E402 - imported once the repository root is on sys.path
from models.delegation import DelegationBatch, DelegationLine, Envelope  # noqa: E402 - imported once the repository root is on sys.path
from models.ptai import PtaiRequest  # noqa: E402 - imported once the repository root is on sys.path
from models.reference import Domain, load_departements  # noqa: E402 - imported once the repository root is on sys.path
from models.reminders import latest_late_opening, policy  # noqa: E402 - imported once the repository root is on sys.path
from models.types import PARIS  # noqa: E402 - imported once the repository root is on sys.path
from services.cases import KINDS  # noqa: E402 - imported once the repository root is on sys.path
from services.db import get_engine, unit_of_work  # noqa: E402 - imported once the repository root is on sys.path
from services.migrate import upgrade  # noqa: E402 - imported once the repository root is on sys.path
from services.registry import seed_reference  # noqa: E402 - imported once the repository root is on sys.path
from services.reporting.national import figures  # noqa: E402 - imported once the repository root is on sys.path

TARGET = 2.0
TODAY = date(2026, 7, 13)
NOW = datetime(2026, 7, 13, 6, 30, tzinfo=UTC)
SEED = 2026
CAMPAIGNS = range(2021, 2027)
DOMAINS = [d.value for d in Domain]
# Communes and groupings, by share of type (0.75 collectivité per signed contract in all: some hold
# several contracts, some none), besides a conseil départemental per département and 18 régions.
TYPE_SHARES = [("commune", 0.70), ("epci", 0.16), ("metropole", 0.07), ("communaute_urbaine", 0.03)]
# PTAI statuses: a closed campaign, and the current one (2026).
PAST_MIX = [("delegated", 60), ("rejected", 22), ("closed", 15), ("transmitted", 3)]
CURRENT_MIX = [
    ("submitted", 3),
    ("awaiting_applicant", 3),
    ("prefet_validation", 2),
    ("transmitted", 22),
    ("in_batch", 8),
    ("delegated", 45),
    ("rejected", 12),
    ("closed", 5),
]
UNSIGNED_STATUSES = [
    ("awaiting_letter", 20),
    ("exchange", 10),
    ("diagnostic", 15),
    ("coordinator", 8),
    ("proposal", 20),
    ("signature", 12),
    ("refused", 10),
    ("widening", 5),
]
WITH_ACTIONS = {"proposal", "signature", "refused", "widening"}  # unsigned contracts whose actions exist already


# --- The data ---------------------------------------------------------------------------------


def _pick(rng: random.Random, mix: list[tuple[str, int]]) -> str:
    return rng.choices([k for k, _ in mix], weights=[w for _, w in mix])[0]


def _at(day: date, rng: random.Random) -> datetime:
    return datetime.combine(day, dtime(8), tzinfo=UTC) + timedelta(minutes=rng.randrange(600))


def build(contracts: int, requests: int) -> dict[str, list[dict]]:
    """Every row to load, per table, with explicit ids (so the rows can refer to each other)."""
    rng = random.Random(SEED)
    deps = [d.code for d in load_departements()]
    rows: dict[str, list[dict]] = defaultdict(list)

    # Collectivités: the conseils départementaux and régionaux, then the communes and groupings.
    types = [("departement", dep) for dep in deps] + [("region", rng.choice(deps)) for _ in range(18)]
    others = int(contracts * 0.75) - len(types)
    for kind, share in TYPE_SHARES:
        types += [(kind, rng.choice(deps)) for _ in range(round(others * share / sum(s for _, s in TYPE_SHARES)))]
    rng.shuffle(types)
    colls = []
    for cid, (kind, dep) in enumerate(types, start=1):
        colls.append((cid, dep))
        rows["collectivite"].append(
            dict(
                id=cid,
                name=f"Collectivité fictive n° {cid}",
                type=kind,
                siren=f"9{cid:08d}",
                departement_code=dep,
                email=f"integration@c{cid}.example",
                created_at=_at(date(2019, 1, 2), rng),
            )
        )

    # Contracts: per collectivité, a chain (a CTAIR replaced by a CTAI, renewals), until the signed count.
    ctai_id = action_id = 0
    signed_count = 0

    def contract(cid: int, dep: str, kind: str, first: int, last: int, status: str) -> None:
        nonlocal ctai_id, action_id
        ctai_id += 1
        signed = status in SIGNED_STATUSES
        rows["ctai"].append(
            dict(
                id=ctai_id,
                reference=f"CTAI-{dep}-{first}-{ctai_id:05d}",
                kind=kind,
                collectivite_id=cid,
                status=status,
                first_year=first,
                last_year=last,
                public_scope="bpi" if kind == "ctair" else "primo_arrivants",
                prefet_signed_on=date(first, 3, 15) if signed else None,
                created_at=_at(date(first - 1, 9, 1), rng),
                updated_at=_at(date(first, 3, 15), rng),
            )
        )
        if signed or status in WITH_ACTIONS:
            for n in range(rng.randint(5, 20)):
                refugees = kind == "ctair" or rng.random() < 0.35
                action_id += 1
                rows["action"].append(
                    dict(
                        id=action_id,
                        ctai_id=ctai_id,
                        title=f"Action n° {n + 1}",
                        domain=rng.choice(DOMAINS),
                        public="bpi" if refugees else "primo_arrivants",
                        p104_action=15 if refugees else 12,
                        amount_cents=rng.randint(20, 600) * 100_00,
                        year=rng.randint(first, last),
                        diair_review="compliant" if signed else "pending",
                        nature="fonctionnement",
                    )
                )

    for cid, dep in colls:
        if signed_count >= contracts:
            break
        if rng.random() < 0.2:  # a CTAIR first, replaced by a CTAI from its last year on
            first = rng.choice((2019, 2020))
            contract(cid, dep, "ctair", first, first + 1, "replaced")
            first += 1
            signed_count += 1
        else:
            first = rng.randint(2019, 2026)
        while first <= 2026 and signed_count < contracts:
            last = first + 2
            if last < 2026:
                status = "ended"
            elif first == 2026:
                status = _pick(rng, [("active", 80), ("diair_review", 14), ("diair_rework", 6)])
            else:
                status = _pick(rng, [("active", 78), ("yearly_review", 16), ("review_signature", 6)])
            contract(cid, dep, "ctai", first, last, status)
            signed_count += 1
            if rng.random() > 0.6:
                break
            first = last + 1
    for _ in range(contracts * 15 // 100):  # contracts under way, not signed: they engage nothing
        cid, dep = rng.choice(colls)
        first = rng.choice((2026, 2027))
        contract(cid, dep, "ctai", first, first + 2, _pick(rng, UNSIGNED_STATUSES))

    # PTAI requests, batches, delegation lines, envelopes.
    per_campaign = requests // len(CAMPAIGNS)
    batch_ids: dict[tuple[int, int], int] = {}
    for year in CAMPAIGNS:
        for k in (1, 2, 3):
            batch_ids[(year, k)] = len(batch_ids) + 1
    lines: dict[tuple[int, str, int], list[int]] = defaultdict(lambda: [0, 0])
    batch_totals: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    rid = 0
    for year in CAMPAIGNS:
        for _ in range(per_campaign + (requests % len(CAMPAIGNS) if year == CAMPAIGNS[-1] else 0)):
            rid += 1
            cid, dep = rng.choice(colls)
            status = _pick(rng, CURRENT_MIX if year == CAMPAIGNS[-1] else PAST_MIX)
            refugees = rng.random() < 0.35
            if year >= 2022:  # two domains at least, housing among them (R5), in any order
                domains = ["logement", *rng.sample([d for d in DOMAINS if d != "logement"], rng.randint(1, 2))]
                rng.shuffle(domains)
            else:
                domains = rng.sample(DOMAINS, rng.randint(1, 3))
            requested = round(rng.triangular(5, 120, 20)) * 1000_00
            proposed = requested if status in ("transmitted", "in_batch", "delegated") else None
            granted = None
            batch = None
            if status == "delegated":
                granted = requested if rng.random() < 0.8 else requested * rng.randint(50, 90) // 100 // 100 * 100
                batch = batch_ids[(year, rng.choice((1, 2)) if year == CAMPAIGNS[-1] else rng.choice((1, 2, 3)))]
                line = lines[(batch, dep, 15 if refugees else 12)]
                line[0] += 1
                line[1] += granted
            elif status == "in_batch":
                batch = batch_ids[(year, 3)]
            if batch is not None:
                batch_totals[batch][0] += 1
                batch_totals[batch][1] += granted or proposed
            created = _at(date(year, 1, 15) + timedelta(days=rng.randrange(150)), rng)
            rows["ptai_request"].append(
                dict(
                    id=rid,
                    reference=f"PTAI-{dep}-{year}-{rid:06d}",
                    campaign_year=year,
                    collectivite_id=cid,
                    title=f"Projet d'intégration n° {rid}",
                    objectives="Favoriser l'autonomie des personnes accueillies",
                    domains=domains,
                    public_categories=["refugie"] if refugees else ["primo_arrivant"],
                    public="bpi" if refugees else "primo_arrivants",
                    bpi_justification="Public réfugié du territoire" if refugees else None,
                    widening_perspective="Ouverture aux primo-arrivants" if refugees else None,
                    cir_complementarity="Complète le contrat d'intégration républicaine",
                    engagement=[{"type": "cofinancement", "montant_cents": requested // 4}],
                    nature="fonctionnement",
                    p104_action=15 if refugees else 12,
                    period_start=date(year, 1, 1),
                    period_end=date(year, 12, 31),
                    total_cost_cents=requested * 2,
                    requested_cents=requested,
                    proposed_cents=proposed,
                    granted_cents=granted,
                    legal_act="arrete" if requested <= 23_000_00 else "convention",
                    postponements=0,
                    status=status,
                    batch_id=batch,
                    submitted_payload={},
                    created_at=created,
                    updated_at=created + timedelta(days=30),
                )
            )
    awaiting = {batch_ids[(CAMPAIGNS[-1], 3)]}
    for (year, k), bid in batch_ids.items():
        count, cents = batch_totals[bid]
        rows["delegation_batch"].append(
            dict(
                id=bid,
                reference=f"LOT-{year}-{k}",
                year=year,
                status="awaiting" if bid in awaiting else "delegated",
                total_cents=cents,
                requests_count=count,
                report={},
                created_at=_at(date(year, 3 + 3 * k, 1), rng),
                updated_at=_at(date(year, 3 + 3 * k, 10), rng),
            )
        )
    batch_year = {bid: year for (year, _), bid in batch_ids.items()}
    delegated_by_year: dict[int, int] = defaultdict(int)
    for (bid, dep, action), (count, cents) in sorted(lines.items()):
        rows["delegation_line"].append(
            dict(
                batch_id=bid,
                year=batch_year[bid],
                departement_code=dep,
                p104_action=action,
                requests_count=count,
                ae_cents=cents,
                cp_cents=cents,
                created_at=_at(date(batch_year[bid], 10, 1), rng),
            )
        )
        delegated_by_year[batch_year[bid]] += cents
    for year in range(CAMPAIGNS[0], CAMPAIGNS[-1] + 2):  # 2027: an envelope, nothing delegated yet
        spent = delegated_by_year.get(year, 0)
        envelope = (spent * 3 // 2 if year == CAMPAIGNS[-1] else spent * 108 // 100) or 1_000_000_000_00
        rows["envelope"].append(
            dict(
                year=year,
                amount_cents=envelope // 100_000_000 * 100_000_000 + 100_000_000,
                updated_at=_at(date(year, 1, 5), rng),
            )
        )

    # One live step run per case waiting at a step.
    waiting = (
        [("ctai", r["id"], r["status"]) for r in rows["ctai"]]
        + [("ptai", r["id"], r["status"]) for r in rows["ptai_request"]]
        + [("lot", r["id"], r["status"]) for r in rows["delegation_batch"]]
    )
    for entity, case_id, status in waiting:
        kind = KINDS[entity]
        step = kind.step_of(status)
        if step is None:
            continue
        opened = NOW - timedelta(minutes=rng.randrange(150 * 24 * 60))
        rows["step_run"].append(
            dict(
                entity_type=entity,
                entity_id=case_id,
                step=step,
                trigger_key=f"{entity}:{case_id}:{step}:1",
                flow_run_id=str(uuid.UUID(int=rng.getrandbits(128))),
                state="live",
                round=1,
                awaited_role=kind.awaited_role(step),
                opened_at=opened,
                created_at=opened,
                restarts=0,
            )
        )
    return rows


TABLES = {
    "collectivite": Collectivite,
    "ctai": Ctai,
    "action": Action,
    "delegation_batch": DelegationBatch,
    "ptai_request": PtaiRequest,
    "delegation_line": DelegationLine,
    "envelope": Envelope,
    "step_run": StepRun,
}


def load(url: str, rows: dict[str, list[dict]]) -> float:
    """The reference data, then every table in bulk in one transaction; returns the seconds."""
    engine = get_engine(url)
    with unit_of_work(engine) as s:
        seed_reference(s)
    start = time.perf_counter()
    postgresql = engine.dialect.name == "postgresql"
    with engine.begin() as conn:
        for name, model in TABLES.items():
            table_rows = rows[name]
            if not postgresql:
                conn.execute(insert(model.__table__), table_rows)
                continue
            columns = list(table_rows[0])
            names = ", ".join(f'"{c}"' for c in columns)
            with (
                conn.connection.driver_connection.cursor() as cursor,
                cursor.copy(f"COPY {name} ({names}) FROM STDIN") as copy,
            ):
                for row in table_rows:
                    copy.write_row([json.dumps(v) if isinstance(v, (list, dict)) else v for v in row.values()])
            if "id" in columns:
                conn.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT max(id) FROM {name}))")
                )
    if postgresql:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    return time.perf_counter() - start


# --- The two sides ----------------------------------------------------------------------------


def measured(url: str) -> tuple[float, dict]:
    engine = get_engine(url)
    start = time.perf_counter()
    with Session(engine) as session:
        out = figures(session, TODAY, now=NOW)
    return time.perf_counter() - start, out


SIGNED_SQL = ", ".join(f"'{s.value}'" for s in SIGNED_STATUSES)
# The years as a small table (a recursive CTE) joined on each signed span (first_year..last_year,
# distinct per collectivité first): the fastest plain form on both databases. generate_series per
# contract (LATERAL) gives the same rows, but PostgreSQL then estimates 1 000 years per contract
# and compiles the query with its JIT (+200 ms): no floor.
TERRITORIES_SQL = (
    "SELECT y.year, x.type, count(DISTINCT x.id) "
    "FROM (SELECT DISTINCT t.first_year, t.last_year, c.id, c.type FROM ctai t "
    f"      JOIN collectivite c ON c.id = t.collectivite_id WHERE t.status IN ({SIGNED_SQL})) x "
    "JOIN (WITH RECURSIVE years(year) AS (SELECT min(first_year) FROM ctai UNION ALL "
    "      SELECT year + 1 FROM years WHERE year < (SELECT max(last_year) FROM ctai)) SELECT year FROM years) y "
    "  ON y.year BETWEEN x.first_year AND x.last_year "
    "GROUP BY y.year, x.type"
)
MAIN_DOMAIN = {"postgresql": "r.domains ->> 0", "sqlite": "json_extract(r.domains, '$[0]')"}
AMOUNTS_SQL = (
    "SELECT 'ctai', a.year, a.domain, a.p104_action, c.departement_code, sum(a.amount_cents), count(*) "
    "FROM action a JOIN ctai t ON t.id = a.ctai_id JOIN collectivite c ON c.id = t.collectivite_id "
    f"WHERE t.status IN ({SIGNED_SQL}) GROUP BY a.year, a.domain, a.p104_action, c.departement_code "
    "UNION ALL "
    "SELECT 'ptai', r.campaign_year, {domain}, r.p104_action, c.departement_code, sum(r.granted_cents), count(*) "
    "FROM ptai_request r JOIN collectivite c ON c.id = r.collectivite_id "
    "WHERE r.status = 'delegated' GROUP BY r.campaign_year, {domain}, r.p104_action, c.departement_code"
)
# Every kind of case and how its département is found (as each CaseKind.departement does).
LATE_SQL = (
    "WITH cut(entity_type, step, cutoff) AS (VALUES {values}) "
    "SELECT s.entity_type, s.step, coalesce(CASE s.entity_type "
    "  WHEN 'ctai' THEN tc.departement_code WHEN 'ptai' THEN rc.departement_code "
    "  WHEN 'lot' THEN CASE WHEN b.id IS NOT NULL THEN 'national' END "
    "  WHEN 'comite' THEN CASE WHEN m.level = 'local' THEN m.departement_code "
    "WHEN m.id IS NOT NULL THEN 'national' END "
    "  WHEN 'acte' THEN la.departement_code WHEN 'crf' THEN f.departement_code END, '?'), count(*) "
    "FROM step_run s JOIN cut ON cut.entity_type = s.entity_type AND cut.step = s.step AND s.opened_at < cut.cutoff "
    "LEFT JOIN ctai t ON s.entity_type = 'ctai' AND t.id = s.entity_id "
    "LEFT JOIN collectivite tc ON tc.id = t.collectivite_id "
    "LEFT JOIN ptai_request r ON s.entity_type = 'ptai' AND r.id = s.entity_id "
    "LEFT JOIN collectivite rc ON rc.id = r.collectivite_id "
    "LEFT JOIN delegation_batch b ON s.entity_type = 'lot' AND b.id = s.entity_id "
    "LEFT JOIN comite m ON s.entity_type = 'comite' AND m.id = s.entity_id "
    "LEFT JOIN legal_act la ON s.entity_type = 'acte' AND la.id = s.entity_id "
    "LEFT JOIN compte_rendu_financier f ON s.entity_type = 'crf' AND f.id = s.entity_id "
    "WHERE s.state = 'live' GROUP BY 1, 2, 3"
)


def _late_query(dialect: str) -> tuple[str, dict]:
    """The late-steps statement with its cut-offs: the same per-step cut-off dates as the reminders
    (midnight in Paris after the last late opening day), bound as the column stores them."""
    p = policy()
    values, params = [], {}
    for n, (entity, kind) in enumerate(KINDS.items()):
        for m, step in enumerate(kind.steps):
            last = latest_late_opening(TODAY, p.sla_for(entity, step))
            cutoff = datetime.combine(last + timedelta(days=1), dtime(0), tzinfo=PARIS).astimezone(UTC)
            key = f"{n}_{m}"
            values.append(f"(:e{key}, :s{key}, :c{key})")
            params.update(
                {
                    f"e{key}": entity,
                    f"s{key}": step,
                    f"c{key}": cutoff if dialect == "postgresql" else cutoff.strftime("%Y-%m-%d %H:%M:%S.%f"),
                }
            )
    return LATE_SQL.format(values=", ".join(values)), params


def floor(url: str) -> tuple[float, dict]:
    """The same figures, from plain SQL statements and a minimal fold."""
    engine = get_engine(url)
    dialect = engine.dialect.name
    territories_sql = text(TERRITORIES_SQL)
    amounts_sql = text(AMOUNTS_SQL.replace("{domain}", MAIN_DOMAIN[dialect]))
    late_sql, late_params = _late_query(dialect)
    late_sql = text(late_sql)
    slas = policy()
    start = time.perf_counter()
    with engine.connect() as conn:
        territories: dict[int, dict[str, int]] = {}
        for year, kind, count in conn.execute(territories_sql):
            counts = territories.setdefault(year, dict.fromkeys([*TERRITORY_GROUPS, "total"], 0))
            counts[GROUP_OF_TYPE[kind]] += count
            counts["total"] += count

        by_year: dict[int, dict[str, int]] = {}
        by = {"par_domaine": {}, "par_action_p104": {}, "par_departement": {}}
        for source, year, domain, p104, dep, cents, count in conn.execute(amounts_sql):
            cents = int(cents or 0)
            totals = by_year.setdefault(
                year,
                dict.fromkeys(
                    ("ctai_cents", "ptai_cents", "total_cents", "actions_ctai", "demandes_ptai", "lignes_financees"), 0
                ),
            )
            totals[f"{source}_cents"] += cents
            totals["total_cents"] += cents
            totals["actions_ctai" if source == "ctai" else "demandes_ptai"] += count
            totals["lignes_financees"] += count
            for name, key in (
                ("par_domaine", domain or "non_renseigne"),
                ("par_action_p104", str(p104)),
                ("par_departement", dep),
            ):
                table = by[name].setdefault(year, {})
                table[key] = table.get(key, 0) + cents

        envelopes = dict(conn.execute(text("SELECT year, amount_cents FROM envelope")).all())
        delegated: dict[int, dict[str, int]] = defaultdict(dict)
        for year, dep, cents in conn.execute(
            text("SELECT year, departement_code, sum(ae_cents) FROM delegation_line GROUP BY year, departement_code")
        ):
            delegated[year][dep] = int(cents)
        delegations = {}
        for year in set(envelopes) | set(delegated):
            total = sum(delegated[year].values())
            envelope = envelopes.get(year)
            delegations[year] = {
                "enveloppe_cents": envelope,
                "delegue_cents": total,
                "reste_cents": None if envelope is None else envelope - total,
                "par_departement": delegated[year],
            }

        by_dep: dict[str, int] = defaultdict(int)
        by_step: dict[str, int] = defaultdict(int)
        for entity, step, dep, count in conn.execute(late_sql, late_params):
            by_dep[dep] += count
            by_step[f"{entity}:{step}"] += count
        late = {
            "total": sum(by_dep.values()),
            "par_departement": dict(by_dep),
            "par_etape": dict(by_step),
            "delais": {k: slas.sla_for(*k.split(":")) for k in by_step},
        }
    out = {
        "territoires": territories,
        "montants": {"par_annee": by_year, **by},
        "delegations": delegations,
        "etapes_en_retard": late,
    }
    out["annees"] = sorted(set(territories) | set(by_year) | set(delegations))
    return time.perf_counter() - start, out


def same_figures(ours: dict, base: dict) -> None:
    """Every figure equal (genere_le aside), part by part, so a failure says where."""
    for part in ("territoires", "montants", "delegations", "etapes_en_retard", "annees"):
        if ours[part] != base[part]:
            raise SystemExit(
                f"figures() and the floor disagree on « {part} »:\n  figures: {_short(ours[part])}\n"
                f"  floor:   {_short(base[part])}"
            )


def _short(value) -> str:
    s = repr(value)
    return s if len(s) < 600 else s[:600] + " …"


def profile(url: str) -> None:
    profiler = cProfile.Profile()
    with Session(get_engine(url)) as session:
        profiler.runcall(figures, session, TODAY, now=NOW)
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
    print(out.getvalue())


# --- The run ----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contracts", type=int, default=10_000, help="signed contracts")
    parser.add_argument("--requests", type=int, default=300_000, help="PTAI requests")
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="print a cProfile of one figures() call")
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]

    start = time.perf_counter()
    rows = build(args.contracts, args.requests)
    built = time.perf_counter() - start
    counts = {name: len(rows[name]) for name in TABLES}
    signed = sum(1 for r in rows["ctai"] if r["status"] in SIGNED_STATUSES)
    delegated = sum(1 for r in rows["ptai_request"] if r["status"] == "delegated")
    print(
        f"data generated in {built:.1f} s: {signed} signed contracts of {counts['ctai']}, "
        f"{delegated} delegated requests of {counts['ptai_request']}"
    )

    ratios = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind in kinds:
            url, drop = fresh_database(kind, Path(tmp), "dashboard")
            try:
                upgrade(url)
                loaded = load(url, rows)
                with get_engine(url).connect() as conn:  # what the database holds, as the bench measures it
                    in_db = {name: conn.execute(text(f"SELECT count(*) FROM {name}")).scalar() for name in TABLES}
                assert in_db == counts, (in_db, counts)
                _, ours = measured(url)  # warm-up, and the figures to check
                _, base = floor(url)
                same_figures(ours, base)
                ours_t, base_t = [], []
                for _ in range(args.rounds):
                    ours_t.append(measured(url)[0])
                    base_t.append(floor(url)[0])
                if args.profile:
                    profile(url)
            finally:
                drop()
            o, b = min(ours_t), min(base_t)
            ratios.append(o / b)
            late = ours["etapes_en_retard"]["total"]
            print(f"{kind}: loaded in {loaded:.1f} s: " + ", ".join(f"{n} {name}" for name, n in in_db.items()))
            print(
                f"{kind}: {len(ours['annees'])} years, {late} late steps of {counts['step_run']} live; "
                "figures() equal to the floor's"
            )
            print(
                f"{kind}: dashboard figures() {o * 1000:.0f} ms, plain SQL floor {b * 1000:.0f} ms "
                f"(best of {args.rounds}); ratio {o / b:.2f}"
            )
    print(f"dashboard: ratio {max(ratios):.2f} (target {TARGET:g})")


if __name__ == "__main__":
    main()
