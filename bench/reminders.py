"""The reminders' selection over 100 000 waiting steps, 1 % of them late, against plain SQL.

    python bench/reminders.py [--items 100000] [--database sqlite|postgresql|both] [--rounds 5]

Measured: ``late_step_runs`` (the selection the daily run starts from). Floor, in the same run
and on the same database: the same rows selected with plain SQL and the same cut-off dates. On
PostgreSQL the database is a throw-away one created on the test server, migrated, analysed
after the load, and dropped at the end. Last line: ``reminders: ratio <the worse of the
databases> (target 2)``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _harness import fresh_database  # noqa: E402 - imported once the repository root is on sys.path
from sqlalchemy import insert, text  # noqa: E402 - imported once the repository root is on sys.path

import cli  # noqa: E402,F401 - turns Prefect's usage analytics off before Prefect is imported
from models.approval import StepRun  # noqa: E402 - imported once the repository root is on sys.path
from models.reminders import latest_late_opening, policy  # noqa: E402 - imported once the repository root is on sys.path
from services.db import get_engine, unit_of_work  # noqa: E402 - imported once the repository root is on sys.path
from services.migrate import upgrade  # noqa: E402 - imported once the repository root is on sys.path

TARGET = 2.0
TODAY = date(2026, 7, 13)
STEPS = [
    ("ctai", "engagement"),
    ("ctai", "signature"),
    ("ptai", "instruction"),
    ("ptai", "validation"),
    ("lot", "arbitrage"),
]
ALL_STEPS = None  # filled in main(): every step the floor must query, as the run does


def seed(url: str, count: int) -> int:
    recent = datetime(2026, 7, 10, 9, tzinfo=UTC)
    old = datetime(2026, 5, 4, 9, tzinfo=UTC)
    rows = [
        dict(
            entity_type=STEPS[n % 5][0],
            entity_id=n,
            step=STEPS[n % 5][1],
            trigger_key=f"bench:{n}",
            flow_run_id=str(uuid.UUID(int=n)),
            state="live",
            round=1,
            awaited_role="instructeur",
            opened_at=old if n % 100 == 0 else recent,
            created_at=recent,
        )
        for n in range(count)
    ]
    with unit_of_work(get_engine(url)) as s:
        s.execute(insert(StepRun.__table__), rows)
    return sum(1 for r in rows if r["opened_at"] == old)


def floor(url: str) -> tuple[float, int]:
    engine = get_engine(url)
    p = policy()
    cutoffs = {
        (e, s): datetime.combine(latest_late_opening(TODAY, p.sla_for(e, s)) + timedelta(days=1), datetime.min.time())
        for e, s in ALL_STEPS
    }
    start = time.perf_counter()
    found = 0
    with engine.connect() as conn:
        for (entity, step), cutoff in cutoffs.items():
            found += len(
                conn.execute(
                    text(
                        "SELECT * FROM step_run WHERE state = 'live' AND entity_type = :e "
                        "AND step = :s AND opened_at < :c"
                    ),
                    {"e": entity, "s": step, "c": cutoff},
                ).all()
            )
    return time.perf_counter() - start, found


def measured(url: str) -> tuple[float, int]:
    from services.followup.reminders import late_step_runs

    start = time.perf_counter()
    with unit_of_work(get_engine(url)) as session:
        late = late_step_runs(session, TODAY)
    return time.perf_counter() - start, len(late)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    global ALL_STEPS
    from services.cases import kind as case_kind

    ALL_STEPS = [(e, s) for e in ("ctai", "ptai", "lot") for s in case_kind(e).steps]
    ratios = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind in kinds:
            url, drop = fresh_database(kind, Path(tmp), "reminders")
            try:
                upgrade(url)
                expected = seed(url, args.items)
                if kind == "postgresql":  # the planner's statistics, as autovacuum leaves them
                    with get_engine(url).connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                        conn.execute(text("VACUUM ANALYZE step_run"))
                ours, base = [], []
                for _ in range(args.rounds):
                    t, n = measured(url)
                    f, m = floor(url)
                    assert n == m == expected, (n, m, expected)
                    ours.append(t)
                    base.append(f)
            finally:
                drop()
            o, b = statistics.median(ours), statistics.median(base)
            ratios.append(o / b)
            print(
                f"{kind}: {args.items} waiting steps, {expected} late; selection {o * 1000:.1f} ms, "
                f"plain SQL floor {b * 1000:.1f} ms (medians of {args.rounds}); ratio {o / b:.2f}"
            )
    print(f"reminders: ratio {max(ratios):.2f} (target {TARGET:g})")


if __name__ == "__main__":
    main()
