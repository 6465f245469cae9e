"""The runs waiting for a decision, read from the Prefect API: the CLI twin of the UI's Resume.

``answer`` sends exactly what the UI's form sends: ``POST /flow_runs/{id}/resume`` with the
form's values as ``run_input``; the server validates them against the stored schema.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from importlib import import_module

from models.errors import RuleViolation, Violation
from services.engine import codes, prefect_api
from services.engine.kind import declared_step
from services.engine.prefect_api import RunNotWaiting

__all__ = [
    "RunNotWaiting",
    "WaitingRun",
    "answer",
    "attempt_of",
    "coerce",
    "decision_for",
    "list_waiting",
    "wait_for_judgement",
]


@dataclass
class WaitingRun:
    run_id: str
    name: str
    entity: str
    entity_id: int | None
    step: str | None
    awaited_role: str | None
    departement: str | None
    waiting_since: str | None
    pause_key: str | None
    fields: list[dict]

    def as_dict(self) -> dict:
        return self.__dict__.copy()


def _tag(tags: list[str], prefix: str) -> str | None:
    return next((t.split(":", 1)[1] for t in tags if t.startswith(prefix + ":")), None)


def _fields(schema: dict) -> list[dict]:
    out = []
    required = set(schema.get("required", []))
    for name, prop in schema.get("properties", {}).items():
        if name == "metadata":
            continue
        options = prop.get("anyOf", [prop])
        kinds = [o.get("type") for o in options if o.get("type") and o.get("type") != "null"]
        choices = prop.get("enum") or next((o.get("enum") for o in options if o.get("enum")), None)
        if choices is None and "const" in prop:
            choices = [prop["const"]]
        out.append(
            {
                "nom": name,
                "libelle": prop.get("title", name),
                "type": kinds[0] if kinds else "string",
                "format": next((o.get("format") for o in options if o.get("format")), None),
                "obligatoire": name in required,
                "choix": choices,
            }
        )
    return out


def entity_parameters() -> dict[str, str]:
    """The kinds of case whose runs wait for a person, and the flow parameter that carries the case
    (``CaseKind.parameter``). ``services.cases`` is loaded when called, as ``kind.machine_of`` does:
    imported at the top, it would close the cycle services.engine -> services.cases -> the wings ->
    services.engine that lint-imports refuses (contract "the packages of services form no cycle")."""
    return {entity: k.parameter for entity, k in import_module("services.cases").KINDS.items()}


async def list_waiting(*, departement: str | None = None, role: str | None = None) -> list[WaitingRun]:
    tags: list[str] = []
    if departement:
        tags.append(f"dept:{departement}")
    if role:
        tags.append(f"awaiting:{role}")
    out = []
    parameters = entity_parameters()
    for run in await prefect_api.suspended_runs(tags):
        entity = next((e for e in parameters if e in run.tags), "?")
        params = run.parameters
        entity_id = params.get(parameters.get(entity, ""))
        out.append(
            WaitingRun(
                run_id=run.run_id,
                name=run.name,
                entity=entity,
                entity_id=entity_id,
                step=_tag(run.tags, "step"),
                awaited_role=_tag(run.tags, "awaiting"),
                departement=_tag(run.tags, "dept"),
                waiting_since=run.since,
                pause_key=run.pause_key,
                fields=_fields(run.schema),
            )
        )
    return sorted(out, key=lambda w: w.waiting_since or "")


def decision_for(run: WaitingRun, value: str) -> str:
    """What the run's form expects for a decision typed as its French wording or as its code."""
    choices = next((f["choix"] for f in run.fields if f["nom"] == "decision"), None) or []
    if not choices or value in choices:
        return value
    step = declared_step(run.entity, run.step)
    if step is not None:
        code = step.code_of(value)
        for candidate in (step.wording(code), code):
            if candidate in choices:
                return candidate
    raise RuleViolation(
        [
            Violation(
                "DECISION_INCONNUE",
                "decision",
                f"« {value} » n'est pas un choix de ce formulaire (choix : {', '.join(choices)})",
            )
        ]
    )


def coerce(fields: list[dict], raw: dict[str, str]) -> dict:
    """Turns ``k=v`` strings into the JSON types the form's schema expects."""
    by_name = {f["nom"]: f for f in fields}
    out, problems = {}, []
    for name, value in raw.items():
        field = by_name.get(name)
        if field is None:
            problems.append(
                Violation(
                    "CHAMP_INCONNU", name, f"ce formulaire n'a pas de champ « {name} » (champs : {', '.join(by_name)})"
                )
            )
            continue
        try:
            if field["type"] == "integer":
                out[name] = int(value)
            elif field["type"] == "array" and value.lstrip().startswith("["):
                out[name] = _json_list(value)  # a list of small objects, e.g. reductions or a bilan per action
            elif field["type"] == "array":
                out[name] = [int(v) for v in value.split(",") if v.strip()]
            elif field["type"] == "boolean":
                out[name] = value.lower() in {"1", "true", "oui", "vrai"}
            else:
                out[name] = value
        except ValueError:
            problems.append(
                Violation("CHAMP_INVALIDE", name, f"valeur « {value} » invalide pour un champ de type {field['type']}")
            )
    if problems:
        raise RuleViolation(problems)
    return out


MAX_JSON_FIELD = 200_000  # characters: well above 300 objects of a few fields


def _json_list(value: str) -> list:
    if len(value) > MAX_JSON_FIELD:
        raise ValueError("trop long")
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError:
        raise ValueError("JSON invalide") from None
    if not isinstance(parsed, list):
        raise ValueError("liste JSON attendue")
    return parsed


async def answer(run_id: str, run_input: dict) -> None:
    await prefect_api.resume(run_id, run_input)


async def wait_for_judgement(session_factory, run_id: str, attempt: int, timeout: float = 180) -> dict | None:
    """Waits until the flow has judged the answer given to ``attempt``; None after ``timeout``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        with session_factory() as session:
            found = codes.recorded_attempt(session, run_id, attempt)
            if found is not None:
                return {"resultat": found.outcome, "erreurs": found.violations, "decision_id": found.decision_id}
        await asyncio.sleep(0.5)
    return None


def attempt_of(pause_key: str | None) -> int | None:
    """Our pause keys are ``<step>-<attempt>``, then ``-r<n>`` after ``n`` restarts (``runs.pause_key``)."""
    parts = (pause_key or "").split("-")
    if len(parts) >= 3 and parts[-1].startswith("r") and parts[-1][1:].isdigit():
        parts = parts[:-1]
    return int(parts[-1]) if len(parts) >= 2 and parts[-1].isdigit() else None
