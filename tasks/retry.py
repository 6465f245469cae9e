"""When a task may be tried again: only for transient trouble, and only on idempotent tasks.

The tasks that open and judge a step, send the outbox or talk to Prefect are safe to repeat
(each is one transaction, keyed on business ids). A transient error (a database lock not
obtained within its busy timeout, a connection lost while PostgreSQL restarts, the Prefect API
briefly unreachable) is retried with backoff; any other error fails the task at once, and the
flow's hooks record the incident on the step.
"""

from __future__ import annotations

import httpx
from prefect.exceptions import PrefectHTTPStatusError

from faults import is_transient

DELAYS = [2, 10, 30]  # seconds: about 40 s in all, enough for a PostgreSQL restart


def transient(exc: BaseException) -> bool:
    if is_transient(exc):
        return True
    if isinstance(exc, httpx.TransportError):
        return True
    if isinstance(exc, PrefectHTTPStatusError):
        return exc.response.status_code >= 500
    return False


def retry_if_transient(task, task_run, state) -> bool:
    """Prefect's ``retry_condition_fn``: the failed state carries the exception as its data."""
    exc = state.data if isinstance(state.data, BaseException) else None
    return exc is not None and transient(exc)


RETRY_TRANSIENT = {"retries": len(DELAYS), "retry_delay_seconds": DELAYS, "retry_condition_fn": retry_if_transient}
