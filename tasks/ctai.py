"""Prefect tasks of the CTAI flows: each opens one transaction over ``services.ctai_workflow``."""

from __future__ import annotations

from dataclasses import asdict

from prefect import task
from prefect.artifacts import acreate_markdown_artifact
from prefect.cache_policies import NO_CACHE

from services import ctai_workflow
from services.ctai_text import contract_markdown
from services.db import unit_of_work

TASK = {"cache_policy": NO_CACHE, "persist_result": False}


@task(name="ouvrir-l-etape", **TASK)
def open_step(*, ctai_id: int, step: str, flow_run_id: str, trigger: str | None, link: str | None) -> dict:
    """Issues the approval codes and queues the emails, once; returns what the form shows."""
    with unit_of_work() as session:
        return asdict(ctai_workflow.open_step(session, ctai_id=ctai_id, step=step, flow_run_id=flow_run_id,
                                              trigger=trigger, link=link))


@task(name="juger-la-reponse", **TASK)
def judge(*, ctai_id: int, step: str, flow_run_id: str, attempt: int, answer: dict, link: str | None) -> dict:
    """Checks the decider and the rules, then records the decision and queues its emails, in one
    transaction; an answer already judged returns its stored outcome."""
    with unit_of_work() as session:
        return asdict(ctai_workflow.decide(session, ctai_id=ctai_id, step=step, flow_run_id=flow_run_id,
                                           attempt=attempt, answer=answer, link=link))


@task(name="publier-le-tableau-de-bord", **TASK)
async def publish_artifact(*, ctai_id: int) -> None:
    """The contract's Markdown artifact, kept current (a new version at each change)."""
    with unit_of_work() as session:
        markdown = contract_markdown(session, ctai_id)
    await acreate_markdown_artifact(key=f"ctai-{ctai_id}", markdown=markdown,
                                    description=f"Tableau de bord du CTAI n° {ctai_id}")
