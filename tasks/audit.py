"""The Prefect task that publishes the audit trail's head outside the application database."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from services.db import unit_of_work
from services.engine import audit


@task(
    name="publier-la-tete-de-la-piste-d-audit",
    cache_policy=NO_CACHE,
    persist_result=False,
    retries=2,
    retry_delay_seconds=5,
)
async def publish_audit_head() -> dict:
    with unit_of_work() as session:
        head = audit.head_for_publication(session)
    await audit.publish_head(head)
    return head
