"""The Prefect task that delivers the outbox after each state change."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from notifications.sender import OutboxSender
from notifications.smtp import smtp_target
from services.db import get_engine
from tasks.retry import RETRY_TRANSIENT


@task(name="envoyer-les-courriels", cache_policy=NO_CACHE, **RETRY_TRANSIENT)
async def send_outbox() -> dict:
    """Sends what is due. SMTP trouble never fails the flow: the rows wait for the next run. A
    database error that may pass (a lock, a restart) is retried: each message is marked in its
    own transaction, so a new try sends only what is still due."""
    report = await OutboxSender(get_engine(), smtp_target()).send_pending()
    return report.as_dict()
