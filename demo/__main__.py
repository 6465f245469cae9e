"""``python -m demo seed`` loads the demo; ``python -m demo runs`` starts its runs (Prefect must
be reachable); ``python -m demo national YEAR`` loads the fictitious national dataset of a year.
Each prints what it did as JSON on its last line."""

from __future__ import annotations

import asyncio
import json
import sys

USAGE = "usage : python -m demo seed | runs | previews DOSSIER | national ANNEE"


def main(argv: list[str]) -> int:
    if argv not in (["seed"], ["runs"]) and not (len(argv) == 2 and argv[0] in ("previews", "national")):
        print(USAGE, file=sys.stderr)
        return 2
    from models.errors import DomainError

    try:
        if argv[0] == "previews":
            from pathlib import Path

            from demo.previews import previews

            result = previews(Path(argv[1]))
        elif argv[0] == "national":
            from demo.national import seed_national
            from services.db import unit_of_work

            with unit_of_work() as session:
                result = seed_national(session, int(argv[1]))
        elif argv == ["seed"]:
            from demo.data import seed_demo
            from services.db import unit_of_work

            with unit_of_work() as session:
                result = seed_demo(session)
        else:
            from demo.runs import start_demo_runs

            result = asyncio.run(start_demo_runs())
    except DomainError as exc:
        print(f"[{exc.code}] {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
