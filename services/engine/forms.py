"""The approval forms as plain pydantic models, one per step, defined in each case's wing.

The flows turn them into Prefect ``RunInput`` forms (the UI's "Resume" dialog); the engine
validates an answer into the same model and hands it, typed, to the step's handler. Hard limits
are schema terms (the Prefect server checks them before it accepts a resume); business checks
run in the handlers, and a refused answer is asked again with the reason.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from models.errors import RuleViolation, Violation
from models.text import Comment, line

if TYPE_CHECKING:
    from services.engine.kind import Step

# The type of a form's ``decision`` field as its wing writes it: the step's declaration narrows it
# to the French wordings of its decisions when it binds the form (``ApprovalForm.bind``).
Choice = str


def plain_fields(schema: dict, model: type | None = None) -> None:
    """The form's JSON schema as the Prefect UI should draw it: an optional field is one plain
    input (its type, no « str | None » switch, no « Property is type "None" » line, no null
    default); left empty, the UI sends nothing and the field takes its default."""
    for prop in schema.get("properties", {}).values():
        branches = prop.get("anyOf")
        if branches and any(b.get("type") == "null" for b in branches):
            kept = [b for b in branches if b.get("type") != "null"]
            if len(kept) > 1:  # an amount (Decimal: number or string): typed as text, exact to the cent
                numeric = any(b.get("type") == "number" for b in kept)
                kept = [dict(b) for b in kept if b.get("type") == "string"][:1] or kept
                if numeric and kept[0].get("type") == "string":
                    kept[0].setdefault("pattern", r"^\d{1,10}(\.\d{1,2})?$")
            if len(kept) == 1:
                del prop["anyOf"]
                prop.update({k: v for k, v in kept[0].items() if k not in prop})
        if prop.get("default", ...) is None:
            del prop["default"]


class ApprovalForm(BaseModel):
    """What every approval form asks; subclasses add ``decision`` and the step's fields."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=plain_fields)

    declaration: ClassVar[Step]  # the step whose decisions the form offers (set by ``bind``)
    # The fields each decision cannot do without (its handler refuses the answer otherwise), from
    # the declaration: the form's text lists them under each decision, their titles say « (si … ) ».
    needs: ClassVar[dict[str, tuple[str, ...]]] = {}

    @classmethod
    def bind(cls, step: Step) -> None:
        """The form of ``step``: its ``decision`` field offers exactly the step's wordings."""
        if "declaration" in cls.__dict__ and cls.__dict__["declaration"] is not step:
            raise ValueError(f"{cls.__name__} is already the form of {cls.declaration.case}/{cls.declaration.name}")
        cls.declaration = step
        cls.needs = {d.code: d.needs for d in step.decisions if d.needs}
        cls.model_fields["decision"].annotation = Literal[step.wordings()]
        cls.model_rebuild(force=True)

    @classmethod
    def needed_titles(cls, decision: str) -> list[str]:
        """The titles of the fields ``decision`` needs, without their « (si …) »."""
        return [cls.model_fields[name].title.split(" (")[0] for name in cls.needs.get(decision, ())]

    agent_email: line(254, min_length=3) = Field(title="Votre courriel professionnel")
    approval_code: line(20, min_length=4) = Field(title="Code d'approbation (reçu par courriel)")
    comment: Comment | None = Field(
        default=None,
        title="Commentaire ou motif (si la décision l'exige : voir ci-dessus)",
        description="Motif repris dans la lettre qui notifie la décision, quand il y en a une.",
    )

    @field_validator("decision", mode="before", check_fields=False)
    @classmethod
    def _code_as_wording(cls, value):
        """Scripts may answer with a decision's stable code; the form holds its wording."""
        return cls.declaration.wording(value) if isinstance(value, str) else value

    @property
    def decision_code(self) -> StrEnum:
        return self.declaration.decision(self.declaration.code_of(self.decision)).code


EARLIEST = date(2015, 1, 1)  # before the first contracts: a typing error


def dated(value: date | None, name: str, label: str, *, latest: date, earliest: date = EARLIEST) -> date | None:
    """A date the decision states, within what is plausible (a letter received is not dated
    next year, a deadline not in year 9999)."""
    if value is not None and not earliest <= value <= latest:
        raise RuleViolation(
            [
                Violation(
                    "DATE_HORS_BORNES",
                    name,
                    f"{label} : date attendue entre le {earliest:%d/%m/%Y} et le {latest:%d/%m/%Y}",
                )
            ]
        )
    return value


def required(value, name: str, label: str):
    """A field the chosen decision needs, though the form leaves it optional."""
    if value in (None, "", []):
        raise RuleViolation(
            [Violation("CHAMP_MANQUANT", name, f"{label} : ce champ est obligatoire pour cette décision")]
        )
    return value


def parse_answer(form: type[ApprovalForm], answer: dict | ApprovalForm) -> tuple[ApprovalForm | None, list[Violation]]:
    """The answer as its typed form, or the French reasons it is not one."""
    if isinstance(answer, form):
        return answer, []
    try:
        return form.model_validate(answer if isinstance(answer, dict) else answer.model_dump()), []
    except ValidationError as exc:
        fields = form.model_fields
        return None, [
            Violation(
                e["type"] if e["type"].isupper() else "CHAMP_INVALIDE",  # our codes (models.text)
                ".".join(str(p) for p in e["loc"]) or "formulaire",
                f"{_title(fields, e['loc'])} : {e['msg'] if e['type'].isupper() else _reason(e)}",
            )
            for e in exc.errors()
        ]


def _title(fields: dict, loc: tuple) -> str:
    name = str(loc[0]) if loc else ""
    info = fields.get(name)  # the title without its « (si …) »: the message says why on its own
    return (info.title.split(" (")[0] if info is not None and info.title else name) or "formulaire"


def _reason(error: dict) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return "ce champ est obligatoire"
    if kind == "extra_forbidden":
        return "ce champ n'existe pas dans ce formulaire"
    if kind in {"date_from_datetime_parsing", "date_parsing", "date_type"}:
        return "date attendue au format AAAA-MM-JJ"
    if kind in {"int_parsing", "int_type", "int_from_float"}:
        return "nombre entier attendu"
    if kind == "literal_error":
        return f"choix attendu parmi : {str(ctx.get('expected', '')).replace(' or ', ', ')}"
    if kind in {"string_too_long", "too_long"}:
        return f"{ctx.get('max_length')} caractères au plus"
    if kind in {"string_too_short", "too_short"}:
        return f"{ctx.get('min_length')} caractères au moins"
    if kind in {"less_than_equal", "less_than"}:
        return f"valeur trop grande (au plus {ctx.get('le', ctx.get('lt'))})"
    if kind in {"greater_than_equal", "greater_than"}:
        return f"valeur trop petite (au moins {ctx.get('ge', ctx.get('gt'))})"
    return "valeur invalide"
