"""The database phase of one ministry batch: 10 000 transmitted requests across 101 départements.

    python bench/delegation.py [--requests 10000] [--database sqlite|postgresql|both]

Measured: ``select_batch`` (claim every request, one Decision row each) then ``delegate`` (one
transaction per département: requests marked, Decision rows, delegation lines, emails queued).
The floor, in the same run and on the same data, is the equivalent writes as plain bulk SQL:
the same UPDATEs and the same number of rows inserted, with no rules, no hashing, no rendering.
Last line: ``delegation: ratio <worst of the databases> (target 3)``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _harness import fresh_database  # noqa: E402 - imported once the repository root is on sys.path
from sqlalchemy import create_engine, insert, text  # noqa: E402 - imported once the repository root is on sys.path

import cli  # noqa: E402,F401 - turns Prefect's usage analytics off before Prefect is imported
from demo.data import fictitious_siren  # noqa: E402 - imported once the repository root is on sys.path
from models.actors import Agent, Collectivite  # noqa: E402 - imported once the repository root is on sys.path
from models.ptai import PtaiRequest, PtaiStatus  # noqa: E402 - imported once the repository root is on sys.path
from models.reference import load_departements  # noqa: E402 - imported once the repository root is on sys.path
from services.db import get_engine, unit_of_work  # noqa: E402 - imported once the repository root is on sys.path
from services.finance import batches, delegation  # noqa: E402 - imported once the repository root is on sys.path
from services.finance.steps import BATCH_MACHINE  # noqa: E402 - imported once the repository root is on sys.path
from services.migrate import upgrade  # noqa: E402 - imported once the repository root is on sys.path
from services.registry import seed_reference  # noqa: E402 - imported once the repository root is on sys.path

TARGET = 3.0


def seed(url: str, count: int) -> None:
    """101 collectivités (one per département), a préfet each, and ``count`` transmitted requests."""
    engine = get_engine(url)
    deps = [d.code for d in load_departements()]
    now = datetime.now(UTC)
    with unit_of_work(engine) as s:
        seed_reference(s)
        s.execute(
            insert(Collectivite),
            [
                dict(
                    name=f"Commune {d}",
                    type="commune",
                    siren=fictitious_siren(1000 + i),
                    departement_code=d,
                    email=f"mairie@{d.lower()}.example",
                    created_at=now,
                )
                for i, d in enumerate(deps)
            ],
        )
        s.execute(
            insert(Agent),
            [
                dict(
                    email=f"prefet.{d.lower()}@prefecture.example",
                    name=f"Préfet {d}",
                    role="prefet",
                    departement_code=d,
                    active=True,
                    created_at=now,
                )
                for d in deps
            ],
        )
    with unit_of_work(engine) as s:
        ids = [c for (c,) in s.execute(text("SELECT id FROM collectivite ORDER BY id"))]
        base = dict(
            campaign_year=2026,
            title="Projet d'intégration",
            objectives="Favoriser l'autonomie",
            domains=["logement"],
            public_categories=["primo_arrivant"],
            public="primo_arrivants",
            cir_complementarity="complète le CIR",
            engagement=[],
            nature="fonctionnement",
            p104_action=12,
            period_start=date(2026, 1, 1),
            period_end=date(2026, 12, 31),
            total_cost_cents=4_000_000,
            requested_cents=2_000_000,
            proposed_cents=2_000_000,
            legal_act="arrete",
            status=PtaiStatus.TRANSMITTED.value,
            submitted_payload={},
            created_at=now,
            updated_at=now,
        )
        s.execute(
            insert(PtaiRequest),
            [
                dict(
                    base,
                    collectivite_id=ids[n % len(ids)],
                    reference=f"PTAI-B-{n:06d}",
                    p104_action=12 if n % 3 else 15,
                )
                for n in range(count)
            ],
        )


def measured(url: str) -> float:
    engine = get_engine(url)
    start = time.perf_counter()
    with unit_of_work(engine) as s:
        batch = batches.select_batch(s, year=2026, flow_run_id=str(uuid.uuid4()))
        BATCH_MACHINE.apply(batch, "approve", checks=[])  # the ministry's decision is not part of the database phase
        batch_id = batch.id
    report = delegation.delegate(batch_id, engine=engine)
    elapsed = time.perf_counter() - start
    if report["echecs"] or len(report["delegues"]) != 101:
        raise SystemExit(f"unexpected report: {report}")
    return elapsed


def floor(url: str, count: int) -> float:
    """The same writes in plain bulk SQL: one UPDATE + N decision rows to batch, then per
    département one UPDATE, its decision rows, its lines and its emails."""
    engine = create_engine(url)
    with engine.begin() as conn:
        rows = conn.execute(
            text(
                "SELECT r.id, c.departement_code, r.p104_action, r.proposed_cents, r.collectivite_id "
                "FROM ptai_request r JOIN collectivite c ON c.id = r.collectivite_id "
                "WHERE r.status = 'transmitted'"
            )
        ).all()
    by_dep: dict[str, list] = {}
    for r in rows:
        by_dep.setdefault(r[1], []).append(r)
    now = datetime.now(UTC).replace(tzinfo=None) if url.startswith("sqlite") else datetime.now(UTC)
    decision_sql = text(
        "INSERT INTO decision (id, entity_type, entity_id, step, from_status, to_status, actor_label, "
        "decision, comment, amount_cents, created_at, prev_hash, row_hash) VALUES (:id, 'ptai', :eid, "
        "'delegation', :f, :t, 'système', :d, 'LOT', :a, :now, :h, :h2)"
    )
    outbox_sql = text(
        "INSERT INTO outbox_message (idempotency_key, event, recipient, context, status, attempts, "
        "next_attempt_at, created_at) VALUES (:k, 'credits_delegated_prefecture', :r, :c, 'pending', 0, :now, :now)"
    )
    next_id = [10_000_000]

    def decisions(conn, items, f, t, d):
        conn.execute(
            decision_sql,
            [
                dict(
                    id=next_id[0] + i,
                    eid=r[0],
                    f=f,
                    t=t,
                    d=d,
                    a=r[3],
                    now=now,
                    h=uuid.uuid4().hex * 2,
                    h2=uuid.uuid4().hex * 2,
                )
                for i, r in enumerate(items)
            ],
        )
        next_id[0] += len(items)

    start = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO delegation_batch (id, reference, year, status, total_cents, requests_count, report, "
                "created_at, updated_at) VALUES (1, 'LOT-FLOOR', 2026, 'approved', 0, 0, '{}', :now, :now)"
            ),
            {"now": now},
        )
        conn.execute(
            text(
                "UPDATE ptai_request SET status = 'in_batch', batch_id = 1, updated_at = :now "
                "WHERE status = 'transmitted'"
            ),
            {"now": now},
        )
        decisions(conn, rows, "transmitted", "in_batch", "batched")
    context = json.dumps(
        {
            "reference": "PTAI",
            "objet": "Projet",
            "destinataire": "x",
            "departement": "x",
            "expediteur": "x",
            "lot": "LOT",
            "projet": "p",
            "montant_cents": 1,
            "action_p104": 12,
            "acte_juridique": "arrete",
            "date_delegation": "2026-07-01",
        }
    )
    for dep, items in by_dep.items():
        with engine.begin() as conn:
            conn.execute(
                text(
                    "UPDATE ptai_request SET status = 'delegated', granted_cents = proposed_cents, updated_at = :now "
                    "WHERE id IN (SELECT r.id FROM ptai_request r JOIN collectivite c ON c.id = r.collectivite_id "
                    "WHERE c.departement_code = :d AND r.status = 'in_batch')"
                ),
                {"d": dep, "now": now},
            )
            decisions(conn, items, "in_batch", "delegated", "delegated")
            conn.execute(
                text(
                    "INSERT INTO delegation_line (batch_id, year, departement_code, p104_action, requests_count, "
                    "ae_cents, cp_cents, created_at) VALUES (1, 2026, :d, :a, 1, 1, 1, :now)"
                ),
                [dict(d=dep, a=a, now=now) for a in sorted({r[2] for r in items})],
            )
            # The préfecture's notice (the applicants' letters come with their acts, from the préfecture).
            conn.execute(outbox_sql, [dict(k=f"floor:{dep}:prefet", r="prefet@x.example", c=context, now=now)])
    elapsed = time.perf_counter() - start
    engine.dispose()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    ratios = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind in kinds:
            ours_url, drop_ours = fresh_database(kind, Path(tmp))
            floor_url, drop_floor = fresh_database(kind, Path(tmp))
            try:
                for url in (ours_url, floor_url):
                    upgrade(url)
                    seed(url, args.requests)
                ours = measured(ours_url)
                base = floor(floor_url, args.requests)
            finally:
                drop_ours()
                drop_floor()
            ratios.append(ours / base)
            print(
                f"{kind}: batch database phase {ours:.2f} s for {args.requests} requests, 101 départements; "
                f"plain bulk SQL floor {base:.2f} s; ratio {ours / base:.2f}"
            )
    print(f"delegation: ratio {max(ratios):.2f} (target {TARGET})")


if __name__ == "__main__":
    main()
