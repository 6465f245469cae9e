"""Prefect tasks of the approval steps: each opens one transaction over ``services.engine.steps``,
or one call to the Prefect API; all are idempotent, so transient trouble is retried."""

from __future__ import annotations

from dataclasses import asdict
from uuid import UUID

from prefect import task
from prefect.artifacts import acreate_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import get_client
from prefect.exceptions import ObjectNotFound, PrefectHTTPStatusError
from prefect.input.actions import adelete_flow_run_input, aread_flow_run_input

from services.cases import kind
from services.db import unit_of_work
from services.engine import steps as engine
from services.engine.prefect_api import answer_key
from services.engine.runs import pause_key
from tasks.retry import RETRY_TRANSIENT

TASK = {"cache_policy": NO_CACHE, "persist_result": False, **RETRY_TRANSIENT}


@task(name="ouvrir-l-etape", **TASK)
def open_step(
    *,
    case: str,
    entity_id: int,
    step: str,
    flow_run_id: str,
    trigger: str | None,
    link: str | None,
    worker: str | None = None,
) -> dict:
    """Issues the approval codes and queues the emails, once; returns what the form shows."""
    with unit_of_work() as session:
        return asdict(
            engine.open_step(
                session,
                kind(case),
                entity_id=entity_id,
                step=step,
                flow_run_id=flow_run_id,
                trigger=trigger,
                link=link,
                worker=worker,
            )
        )


@task(name="juger-la-reponse", **TASK)
def judge(
    *, case: str, entity_id: int, step: str, flow_run_id: str, attempt: int, answer: dict, link: str | None
) -> dict:
    """Checks the decider, the form and the rules, then records the decision and queues its
    emails, in one transaction; an answer already judged returns its stored outcome."""
    with unit_of_work() as session:
        return asdict(
            engine.decide(
                session,
                kind(case),
                entity_id=entity_id,
                step=step,
                flow_run_id=flow_run_id,
                attempt=attempt,
                answer=answer,
                link=link,
            )
        )


async def _stored_answer(flow_run_id: str, key: str) -> dict | None:
    value = await aread_flow_run_input(answer_key(key), UUID(flow_run_id))
    return value if isinstance(value, dict) else None


@task(name="lire-la-reponse-brute", **TASK)
async def read_answer(*, flow_run_id: str, pause_key: str) -> dict:
    """The answer as the server stored it, when the form's stricter checks refuse to load it (a
    hidden character, an impossible date): the engine judges it, and refuses it with the reason."""
    return await _stored_answer(flow_run_id, pause_key) or {}


@task(name="reprendre-une-reponse-non-jugee", **TASK)
async def recover_answer(*, flow_run_id: str, step: str, attempt: int, generation: int) -> dict | None:
    """After a restart: the answer to ``attempt`` that the run received before the incident and
    never judged (it waits under the key of an earlier generation), or None."""
    for earlier in range(generation - 1, -1, -1):
        found = await _stored_answer(flow_run_id, pause_key(step, attempt, earlier))
        if found:
            return found
    return None


@task(name="effacer-les-reponses-lues", **TASK)
async def forget_answers(*, flow_run_id: str, pause_keys: list[str] | None = None, keep: str | None = None) -> int:
    """Deletes from Prefect the answers already read (they hold the code typed by the agent), or,
    when ``pause_keys`` is None, every answer stored on the run but the one to the wait ``keep``
    (the answer the run was resumed with, read next): nothing readable through Prefect's API
    keeps them. Returns how many were still there."""
    if pause_keys is None:
        stored: set[str] = set()
        async with get_client() as client:
            while batch := await client.filter_flow_run_input(UUID(flow_run_id), "suspended-", 200, stored):
                stored |= {item.key for item in batch}
        kept = answer_key(keep) if keep else None
        keys = sorted(k for k in stored if k.endswith("-response") and k != kept)
    else:
        keys = [answer_key(k) for k in pause_keys]
    deleted = 0
    for key in keys:
        try:
            await adelete_flow_run_input(key, UUID(flow_run_id))
            deleted += 1
        except ObjectNotFound:
            pass  # erased already
        except PrefectHTTPStatusError as exc:
            if exc.response.status_code != 404:
                raise
    return deleted


@task(name="publier-le-tableau-de-bord", **TASK)
async def publish_artifact(*, case: str, entity_id: int) -> None:
    """The case's Markdown artifact, kept current (a new version at each change)."""
    with unit_of_work() as session:
        markdown = kind(case).dashboard(session, entity_id)
    await acreate_markdown_artifact(
        key=f"{case}-{entity_id}",
        markdown=markdown,
        description=f"Tableau de bord du dossier {case.upper()} n° {entity_id}",
    )
