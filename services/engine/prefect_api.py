"""The one door to Prefect's API for the services: start a deployment's run, list the runs
suspended on a form, answer a form, link to a run in the UI, publish artifacts (tables, Markdown,
links) and read table artifacts.

No other module of ``services`` imports ``prefect`` (a test checks it). What comes back is plain
data, so the rest of the services neither knows Prefect's client nor its schemas.

Prefect is imported inside each function, when it is first called: importing this module (as
most services do, for its exceptions and ``run_link``) costs nothing, so a command that needs no
platform starts without Prefect's 3 s of imports (``bench/cli_start.py``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from models.errors import DomainError, RuleViolation, Violation

DEPLOYMENT_NAME = "territoires"  # every flow's deployment, served or deployed to a work pool


class RunNotWaiting(DomainError):
    code = "EXECUTION_NON_EN_ATTENTE"


def deployment_for(flow_name: str) -> str:
    return f"{flow_name}/{DEPLOYMENT_NAME}"


async def start_run(
    flow_name: str,
    *,
    parameters: dict,
    tags: list[str],
    idempotency_key: str | None,
    run_name: str | None = None,
    scheduled_time: datetime | None = None,
) -> str:
    """Creates a run of the flow's deployment (not waiting for it); returns its id. The same
    idempotency key returns the same run. With ``scheduled_time`` (aware), the run is Scheduled
    for then (a comité de pilotage planned for a later day)."""
    from prefect.deployments.flow_runs import arun_deployment

    flow_run = await arun_deployment(
        deployment_for(flow_name),
        parameters=parameters,
        flow_run_name=run_name,
        tags=tags,
        idempotency_key=idempotency_key,
        timeout=0,
        as_subflow=False,
        scheduled_time=scheduled_time,
    )
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
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
        FlowRunFilterTags,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.exceptions import ObjectNotFound, PrefectHTTPStatusError

    flt = FlowRunFilter(
        state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.PAUSED])),
        tags=FlowRunFilterTags(all_=tags) if tags else None,
    )
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
                except PrefectHTTPStatusError as exc:  # a run between two waits: its form is not stored yet
                    if exc.response.status_code != 404:
                        raise
                    schema = {}
                if isinstance(schema, str):
                    schema = json.loads(schema)
            out.append(
                SuspendedRun(
                    run_id=str(run.id),
                    name=run.name,
                    tags=list(run.tags),
                    parameters=dict(run.parameters or {}),
                    since=run.state.timestamp.isoformat() if run.state and run.state.timestamp else None,
                    pause_key=details.pause_key if details else None,
                    schema=schema or {},
                )
            )
    return out


async def resume(run_id: str, run_input: dict) -> None:
    """What the UI's Resume button sends: ``POST /flow_runs/{id}/resume`` with the form's values;
    the server validates them against the form's schema."""
    from prefect.exceptions import ObjectNotFound
    from prefect.flow_runs import NotPausedError, aresume_flow_run

    try:
        await aresume_flow_run(UUID(run_id), run_input=run_input)
    except NotPausedError:
        raise RunNotWaiting(f"[{RunNotWaiting.code}] l'exécution {run_id} n'attend aucune décision") from None
    except ObjectNotFound:
        raise RunNotWaiting(f"[{RunNotWaiting.code}] aucune exécution {run_id}") from None
    except RuntimeError as exc:  # the server refused the values (schema)
        raise RuleViolation(
            [Violation("FORMULAIRE_REFUSE", "run_input", f"le serveur Prefect refuse ces valeurs : {exc}")]
        ) from None


async def publish_table(key: str, rows: list[dict], description: str) -> None:
    """A new version of the table artifact ``key`` (lowercase letters, digits and dashes)."""
    from prefect.artifacts import acreate_table_artifact

    await acreate_table_artifact(key=key, table=rows, description=description)


async def publish_markdown(key: str, markdown: str, description: str) -> None:
    """A new version of the Markdown artifact ``key``."""
    from prefect.artifacts import acreate_markdown_artifact

    await acreate_markdown_artifact(key=key, markdown=markdown, description=description)


async def publish_link(key: str, link: str, text: str, description: str) -> None:
    """A new version of the link artifact ``key`` (e.g. to a report the platform serves)."""
    from prefect.artifacts import acreate_link_artifact

    await acreate_link_artifact(key=key, link=link, link_text=text, description=description)


PAGE = 200  # the most the API returns at once


async def published_tables(key: str) -> list[tuple[str, list[dict]]]:
    """Every version of the table artifact ``key``, oldest first: (creation time, rows)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
    from prefect.client.schemas.sorting import ArtifactSort

    found = []
    async with get_client() as client:
        while True:
            page = await client.read_artifacts(
                artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])),
                sort=ArtifactSort.CREATED_DESC,
                limit=PAGE,
                offset=len(found),
            )
            found += page
            if len(page) < PAGE:
                break
    out = []
    for artifact in reversed(found):
        data = json.loads(artifact.data) if isinstance(artifact.data, str) else artifact.data
        out.append((artifact.created.isoformat() if artifact.created else "", data if isinstance(data, list) else []))
    return out


@dataclass(frozen=True)
class RunState:
    type: str  # SCHEDULED, PENDING, RUNNING, PAUSED, COMPLETED, FAILED, CRASHED, CANCELLED…
    since: datetime | None
    pause_keys: frozenset[str] = frozenset()  # the waits that fired in this run


async def run_states(run_ids: list[str]) -> dict[str, RunState]:
    """The current state of each run; a run Prefect does not know is absent from the result."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    found: dict[str, RunState] = {}
    async with get_client() as client:
        for start in range(0, len(run_ids), 200):
            ids = [UUID(r) for r in run_ids[start : start + 200]]
            for run in await client.read_flow_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=ids)), limit=200
            ):
                found[str(run.id)] = _state_of(run)
    return found


async def active_runs(page: int = 200) -> dict[str, RunState]:
    """Runs Prefect shows as pending or running, whatever their flow."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterState, FlowRunFilterStateType
    from prefect.client.schemas.objects import StateType

    flt = FlowRunFilter(
        state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.RUNNING, StateType.PENDING]))
    )
    found: dict[str, RunState] = {}
    async with get_client() as client:
        while True:
            batch = await client.read_flow_runs(flow_run_filter=flt, limit=page, offset=len(found))
            found.update((str(run.id), _state_of(run)) for run in batch)
            if len(batch) < page:
                return found


def _state_of(run) -> RunState:
    state = run.state
    keys = frozenset(run.empirical_policy.pause_keys or ()) if run.empirical_policy else frozenset()
    return RunState(state.type.value if state else "UNKNOWN", state.timestamp if state else None, keys)


async def mark_crashed(run_id: str, message: str) -> None:
    """A run left running by a process that died: shown as Crashed, so nobody waits for it."""
    from prefect.client.orchestration import get_client
    from prefect.states import Crashed

    async with get_client() as client:
        await client.set_flow_run_state(UUID(run_id), Crashed(message=message), force=True)


async def reschedule(run_id: str, message: str) -> None:
    """Runs a dead run again from the top: served deployments pick it up like a resumed run."""
    from prefect.client.orchestration import get_client
    from prefect.states import Scheduled

    async with get_client() as client:
        await client.set_flow_run_state(UUID(run_id), Scheduled(message=message), force=True)


def answer_key(pause_key: str) -> str:
    """The key under which Prefect stores the answer given to the wait ``pause_key``."""
    from prefect.input import keyset_from_base_key

    return keyset_from_base_key(f"suspended-{pause_key}")["response"]


async def has_answer(run_id: str, pause_key: str) -> bool:
    """Whether an answer to the wait ``pause_key`` is stored on the run (given, not yet erased)."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound, PrefectHTTPStatusError

    async with get_client() as client:
        try:
            await client.read_flow_run_input(UUID(run_id), answer_key(pause_key))
        except ObjectNotFound:
            return False
        except PrefectHTTPStatusError as exc:
            if exc.response.status_code == 404:
                return False
            raise
    return True


class PrefectUnreachable(DomainError):
    code = "PREFECT_INJOIGNABLE"


HOW_TO_START = (
    "démarrez la plateforme dans ce dossier (territoires up, ou make run), ou indiquez l'adresse de son "
    "API Prefect avec PREFECT_API_URL"
)


async def ensure_reachable() -> str:
    """The API address, once the server answers; else a refusal that says how to start it."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL

    api = PREFECT_API_URL.value()
    if not api:
        raise PrefectUnreachable(f"[{PrefectUnreachable.code}] aucune plateforme n'est connue ici : {HOW_TO_START}")
    async with get_client() as client:
        problem = await client.api_healthcheck()
    if problem is not None:
        raise PrefectUnreachable(
            f"[{PrefectUnreachable.code}] le serveur Prefect {api} ne répond pas "
            f"({type(problem).__name__}) : {HOW_TO_START}"
        )
    return api


def run_link(flow_run_id: str | None) -> str | None:
    """The run's page in the Prefect UI, for emails; None when no UI address is configured."""
    from prefect.settings import PREFECT_UI_URL

    ui = PREFECT_UI_URL.value()
    return f"{ui}/runs/flow-run/{flow_run_id}" if ui and flow_run_id else None
