"""The one door to Prefect's API for the services: start a deployment's run, list the runs
suspended on a form, answer a form, link to a run in the UI, publish and read table artifacts.

No other module of ``services`` imports ``prefect`` (a test checks it). What comes back is plain
data, so the rest of the services neither knows Prefect's client nor its schemas.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from uuid import UUID

from prefect.artifacts import acreate_table_artifact
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter, ArtifactFilterKey, FlowRunFilter, FlowRunFilterState, FlowRunFilterStateType, FlowRunFilterTags,
)
from prefect.client.schemas.objects import StateType
from prefect.client.schemas.sorting import ArtifactSort
from prefect.deployments.flow_runs import arun_deployment
from prefect.exceptions import ObjectNotFound
from prefect.flow_runs import NotPausedError, aresume_flow_run
from prefect.settings import PREFECT_UI_URL

from models.errors import DomainError, RuleViolation, Violation

DEPLOYMENT_NAME = "territoires"  # every flow's deployment, served or deployed to a work pool


class RunNotWaiting(DomainError):
    code = "EXECUTION_NON_EN_ATTENTE"


def deployment_for(flow_name: str) -> str:
    return f"{flow_name}/{DEPLOYMENT_NAME}"


async def start_run(flow_name: str, *, parameters: dict, tags: list[str], idempotency_key: str | None,
                    run_name: str | None = None) -> str:
    """Creates a run of the flow's deployment (not waiting for it); returns its id. The same
    idempotency key returns the same run."""
    flow_run = await arun_deployment(deployment_for(flow_name), parameters=parameters, flow_run_name=run_name, tags=tags,
                                     idempotency_key=idempotency_key, timeout=0, as_subflow=False)
    return str(flow_run.id)


@dataclass(frozen=True)
class SuspendedRun:
    """A run suspended on a form, as the API shows it."""

    run_id: str
    name: str
    tags: list[str]
    parameters: dict
    since: str | None  # ISO timestamp of the suspension
    pause_key: str | None
    schema: dict  # the form's JSON schema


async def suspended_runs(tags: list[str], limit: int = 200) -> list[SuspendedRun]:
    flt = FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.PAUSED])),
                        tags=FlowRunFilterTags(all_=tags) if tags else None)
    out = []
    async with get_client() as client:
        for run in await client.read_flow_runs(flow_run_filter=flt, limit=limit):
            details = run.state.state_details if run.state else None
            keyset = details.run_input_keyset if details else None
            schema = {}
            if keyset:
                try:
                    schema = await client.read_flow_run_input(run.id, keyset["schema"])
                except ObjectNotFound:
                    schema = {}
                if isinstance(schema, str):
                    schema = json.loads(schema)
            out.append(SuspendedRun(
                run_id=str(run.id), name=run.name, tags=list(run.tags), parameters=dict(run.parameters or {}),
                since=run.state.timestamp.isoformat() if run.state and run.state.timestamp else None,
                pause_key=details.pause_key if details else None, schema=schema or {}))
    return out


async def resume(run_id: str, run_input: dict) -> None:
    """What the UI's Resume button sends: ``POST /flow_runs/{id}/resume`` with the form's values;
    the server validates them against the form's schema."""
    try:
        await aresume_flow_run(UUID(run_id), run_input=run_input)
    except NotPausedError:
        raise RunNotWaiting(f"[{RunNotWaiting.code}] l'exécution {run_id} n'attend aucune décision") from None
    except ObjectNotFound:
        raise RunNotWaiting(f"[{RunNotWaiting.code}] aucune exécution {run_id}") from None
    except RuntimeError as exc:  # the server refused the values (schema)
        raise RuleViolation([Violation("FORMULAIRE_REFUSE", "run_input", f"le serveur Prefect refuse ces valeurs : {exc}")]) from None


async def publish_table(key: str, rows: list[dict], description: str) -> None:
    """A new version of the table artifact ``key`` (lowercase letters, digits and dashes)."""
    await acreate_table_artifact(key=key, table=rows, description=description)


PAGE = 200  # the most the API returns at once


async def published_tables(key: str) -> list[tuple[str, list[dict]]]:
    """Every version of the table artifact ``key``, oldest first: (creation time, rows)."""
    found = []
    async with get_client() as client:
        while True:
            page = await client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])),
                                               sort=ArtifactSort.CREATED_DESC, limit=PAGE, offset=len(found))
            found += page
            if len(page) < PAGE:
                break
    out = []
    for artifact in reversed(found):
        data = json.loads(artifact.data) if isinstance(artifact.data, str) else artifact.data
        out.append((artifact.created.isoformat() if artifact.created else "", data if isinstance(data, list) else []))
    return out


def run_link(flow_run_id: str | None) -> str | None:
    """The run's page in the Prefect UI, for emails; None when no UI address is configured."""
    ui = PREFECT_UI_URL.value()
    return f"{ui}/runs/flow-run/{flow_run_id}" if ui and flow_run_id else None
