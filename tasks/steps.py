"""Prefect tasks of the approval steps: each opens one transaction over ``services.engine.steps``."""

from __future__ import annotations

from dataclasses import asdict

from uuid import UUID

from prefect import task
from prefect.artifacts import acreate_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.exceptions import ObjectNotFound, PrefectHTTPStatusError
from prefect.input import keyset_from_base_key
from prefect.input.actions import adelete_flow_run_input, aread_flow_run_input

from services.cases import kind
from services.db import unit_of_work
from services.engine import steps as engine

TASK = {"cache_policy": NO_CACHE, "persist_result": False}


@task(name="ouvrir-l-etape", **TASK)
def open_step(*, case: str, entity_id: int, step: str, flow_run_id: str, trigger: str | None, link: str | None) -> dict:
    """Issues the approval codes and queues the emails, once; returns what the form shows."""
    with unit_of_work() as session:
        return asdict(engine.open_step(session, kind(case), entity_id=entity_id, step=step,
                                       flow_run_id=flow_run_id, trigger=trigger, link=link))


@task(name="juger-la-reponse", **TASK)
def judge(*, case: str, entity_id: int, step: str, flow_run_id: str, attempt: int, answer: dict, link: str | None) -> dict:
    """Checks the decider, the form and the rules, then records the decision and queues its
    emails, in one transaction; an answer already judged returns its stored outcome."""
    with unit_of_work() as session:
        return asdict(engine.decide(session, kind(case), entity_id=entity_id, step=step, flow_run_id=flow_run_id,
                                    attempt=attempt, answer=answer, link=link))


@task(name="lire-la-reponse-brute", **TASK)
async def read_answer(*, flow_run_id: str, pause_key: str) -> dict:
    """The answer as the server stored it, when the form's stricter checks refuse to load it (a
    hidden character, an impossible date): the engine judges it, and refuses it with the reason."""
    value = await aread_flow_run_input(keyset_from_base_key(f"suspended-{pause_key}")["response"], UUID(flow_run_id))
    return value if isinstance(value, dict) else {}


@task(name="effacer-les-reponses-lues", **TASK)
async def forget_answers(*, flow_run_id: str, pause_keys: list[str]) -> int:
    """Deletes from Prefect the answers already judged (they hold the code typed by the agent):
    nothing readable through Prefect's API keeps them. Returns how many were still there."""
    deleted = 0
    for pause_key in pause_keys:
        try:
            await adelete_flow_run_input(keyset_from_base_key(f"suspended-{pause_key}")["response"], UUID(flow_run_id))
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
    await acreate_markdown_artifact(key=f"{case}-{entity_id}", markdown=markdown,
                                    description=f"Tableau de bord du dossier {case.upper()} n° {entity_id}")
