"""The commands that talk to Prefect check first that the platform's API answers: with no
reachable Prefect they stop with « PREFECT_INJOIGNABLE » (exit 2) and say how to start it,
instead of starting a temporary server or failing half-way."""

from __future__ import annotations

import asyncio

from services.engine.prefect_api import PrefectUnreachable


def require_prefect() -> str:
    """The API address; raises PrefectUnreachable (a DomainError: reported with its code)."""
    from services.engine.prefect_api import ensure_reachable

    return asyncio.run(ensure_reachable())


def prefect_problem() -> str | None:
    """Why Prefect cannot be used now, for commands that do their database part anyway."""
    try:
        require_prefect()
    except PrefectUnreachable as exc:
        return str(exc)
    return None
