"""The daily reminders run (08:00 Europe/Paris): late steps, unanswered requests, the outbox."""

from __future__ import annotations

from datetime import date

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from services import reminders
from tasks.notify import send_outbox


@task(name="relances-du-jour", cache_policy=NO_CACHE, persist_result=False)
def remind(*, today: date) -> dict:
    return reminders.run(today)


@flow(name="relances", persist_result=True, log_prints=True)
async def relances(day: date | None = None) -> dict:
    """Reminds and escalates late steps, reminds then closes unanswered requests, and sends
    whatever the email outbox still holds. ``day`` simulates "today"."""
    report = remind(today=day or date.today())
    report["courriels"] = await send_outbox()
    print(report)
    return report
