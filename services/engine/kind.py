"""What the step engine needs to know about a kind of case (a CTAI contract, a PTAI request, a
ministry batch): its table, its state machine, its steps and the French texts around them.

Each wing of ``services`` describes its case with a subclass of ``CaseKind`` and one ``Step``
per approval step; the engine (``services.engine.steps``) runs any of them the same way.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from importlib import import_module
from typing import Any, ClassVar, Generic, TypeVar

from sqlmodel import Session, select

from models.actors import Agent, Collectivite, Role
from models.errors import DomainError, Violation
from models.reminders import policy
from models.state_machine import StateMachine, Transition
from services.db import is_postgresql
from services.engine.forms import ApprovalForm

Case = TypeVar("Case")


class NotAtStep(DomainError):
    code = "ETAPE_NON_ATTENDUE"


@dataclass
class Applied:
    """What a step's handler did: the rule checks of a guarded transition, the amount to
    record, and the deadline given to the applicant (a rework with a date)."""

    checks: list[Violation] | None = None
    amount_cents: int | None = None
    deadline: date | None = None


# A handler receives the locked case, the decision's code and the agent's typed form; it changes
# the case's records (never its status: the state machine does) and says what it did.
Handler = Callable[[Session, Any, StrEnum, Any], Applied]


@dataclass(frozen=True)
class Decision:
    """One decision an awaited agent can take at a step: everything that follows from it."""

    code: StrEnum  # stored in the audit trail, typed by scripts
    wording: str  # French: what the agent picks in the form
    label: str  # French: the history's line and the decision's email
    target: StrEnum  # the status the case moves to
    needs: tuple[str, ...] = ()  # the form's fields it cannot do without (the handler refuses it otherwise)
    guarded: bool = False  # applied only with its rule checks, all passed
    grants: bool = False  # grants money: the legal acts of the years it funds are drawn up
    # Takes money back (a repayment, an act refused): R13/R14 follow. Documentation only: no production
    # code reads it (the handlers do the withdrawing); tests/unit/test_step_declarations_are_pinned.py pins it.
    withdraws: bool = False
    unfavourable: bool = False  # goes against the applicant: the letter gives the voies et délais de recours
    sends_back: bool = False  # the case goes back to the applicants, who are asked to rework it
    asks: str | None = None  # … what they are asked then (else the step's expectation)
    leads_to: str | None = None  # what the form says it leads to (else ``label``)


@dataclass(frozen=True)
class Step:
    """One approval step of a kind of case, declared once in its wing's ``steps`` module."""

    case: str  # the kind of case ("ctai"): audit trail, run tags, flow names
    name: str
    status: StrEnum  # the case's status while the step waits for its decision
    label: str  # French, in forms, run names and emails
    role: Role  # who is awaited
    form: type[ApprovalForm]  # what the awaited agent fills in
    handler: Handler
    decisions: tuple[Decision, ...]
    four_eyes: bool = False  # the agent who instructed the case may not decide it
    has_flow: bool = True  # carried by its own flow (deployment ``<entity>-<step>``, or ``flow``)
    flow: str | None = None  # the flow that carries it, when not named after the step
    expectation: str | None = None  # what the applicants are asked while the step is open
    expectation_again: str | None = None  # … when the case comes back to the step

    def __post_init__(self) -> None:
        codes = [d.code for d in self.decisions]
        if len(set(codes)) != len(codes) or len({d.wording for d in self.decisions}) != len(codes):
            raise ValueError(f"step {self.case}/{self.name}: a decision or a wording is declared twice")
        for d in self.decisions:
            unknown = set(d.needs) - set(self.form.model_fields)
            if unknown:
                raise ValueError(f"step {self.case}/{self.name}: {d.code} needs unknown fields {sorted(unknown)}")
        self.form.bind(self)

    @property
    def service_level(self) -> int:
        """Its service level in French business days (``models/data/reminders.json``: data)."""
        return policy().sla_for(self.case, self.name)

    @property
    def flow_name(self) -> str | None:
        """The flow (and deployment) that carries the step, if it has one of its own."""
        if not self.has_flow:
            return None
        return self.flow or f"{self.case}-{self.name.replace('_', '-')}"

    def decision(self, code: str) -> Decision:
        found = next((d for d in self.decisions if d.code == code), None)
        if found is None:
            raise KeyError(f"{self.case}/{self.name}: no decision {code!r}")
        return found

    def wordings(self) -> tuple[str, ...]:
        return tuple(d.wording for d in self.decisions)

    def wording(self, code: str) -> str:
        """The wording of a decision's code (anything else as given)."""
        return next((d.wording for d in self.decisions if d.code == code), code)

    def code_of(self, value: str) -> str:
        """The code of a wording (or the code itself, as a member of the step's enumeration);
        anything else is returned as given, for the state machine to refuse with its own message."""
        return next((d.code for d in self.decisions if value in (d.code, d.wording)), value)

    def transitions(self) -> list[Transition]:
        return [
            Transition(self.name, self.status, d.code, d.target, self.role, d.label, guarded=d.guarded)
            for d in self.decisions
        ]


# Every kind's state machine and steps, by entity, as its wing declares them (``build_machine``).
MACHINES: dict[str, StateMachine] = {}
STEPS: dict[str, dict[str, Step]] = {}


def build_machine(entity: str, title: str, steps: Iterable[Step], others: Iterable[Transition] = ()) -> StateMachine:
    """A kind's state machine: the decisions of its steps, then the transitions no agent's step
    makes (the applicant's answer, the system's moves). Registered for the audit trail's labels."""
    steps = list(steps)
    if any(step.case != entity for step in steps):
        raise ValueError(f"a step of another kind of case among the steps of {entity}")
    machine = StateMachine(title, [t for step in steps for t in step.transitions()] + list(others))
    MACHINES[entity], STEPS[entity] = machine, {step.name: step for step in steps}
    return machine


def machine_of(entity: str) -> StateMachine | None:
    """The state machine of ``entity`` (None for an entity with none). The wings build theirs when
    ``services.cases`` loads them."""
    if entity not in MACHINES:
        import_module("services.cases")  # loads every wing, each building its machine
    return MACHINES.get(entity)


def declared_step(entity: str, step: str | None) -> Step | None:
    """The declaration of ``step`` of ``entity``, if it is an approval step."""
    if entity not in STEPS:
        import_module("services.cases")
    return STEPS.get(entity, {}).get(step or "")


class CaseKind(ABC, Generic[Case]):
    """A kind of case as the engine sees it. Subclasses set the class attributes and give the
    texts (methods, or their wing's text functions as static methods); one instance per kind
    lives in its wing (``services.cases`` lists them)."""

    entity: ClassVar[str]  # "ctai", "ptai", "lot": audit trail, run tags, flow names (the steps' ``case``)
    model: ClassVar[type]  # the table of the case
    machine: ClassVar[StateMachine]
    parameter: ClassVar[str]  # the flows' parameter that carries the case's id
    steps: ClassVar[Mapping[str, Step]]
    # The French label of each step its history names, the steps no agent decides included (a
    # creation, an applicant's answer): the wing's table of ``services.engine.texts.step_labels``.
    history_labels: ClassVar[Mapping[str, str]] = {}

    def step_label(self, step: str) -> str:
        """French label of a step of the case's history (its code when nothing declares it)."""
        declared = self.steps.get(step)
        return self.history_labels.get(step) or (declared.label if declared else step)

    # --- French texts and parties -----------------------------------------------------------

    @abstractmethod
    def departement(self, session: Session, case: Case) -> str:
        """The code of the département whose agents decide ("national" for the ministry)."""

    def departements(self, session: Session, ids: Iterable[int]) -> dict[int, str]:
        """``departement`` for many cases at once (those that exist), by id: a dashboard reads
        thousands. Wings that can say it in SQL do so in one query per chunk of ids."""
        return {i: self.departement(session, case) for i in ids if (case := session.get(self.model, i)) is not None}

    @abstractmethod
    def run_name(self, session: Session, case: Case, step: str) -> str:
        """What an agent sees in the Prefect UI, e.g. « CTAI Poitiers (86) — signature »."""

    @abstractmethod
    def description(self, session: Session, case: Case, step: str, role: str, refusal: list[Violation] | None) -> str:
        """The approval form's Markdown: the case, the rules, the history, the choices."""

    @abstractmethod
    def email_base(self, session: Session, case: Case, recipient_name: str) -> dict:
        """The context every email about this case shares (reference, objet, signatory)."""

    @abstractmethod
    def applicants(self, session: Session, case: Case) -> list[tuple[str, str]]:
        """(email, name) of the parties told of each step: collectivité, porteur."""

    @abstractmethod
    def dashboard(self, session: Session, entity_id: int) -> str:
        """The case's Markdown artifact, kept current by the flows."""

    def summary(self, session: Session, case: Case) -> str | None:
        """One line for the approval email; None: the run name."""
        return None

    def after_decision(
        self, session: Session, case: Case, transition: Transition, agent: Agent, form: ApprovalForm
    ) -> None:
        """What else an accepted decision changes, in the same transaction."""

    def lock(self, session: Session, entity_id: int) -> Case:
        """The case, locked for the transaction (FOR UPDATE on PostgreSQL; SQLite writers are
        serialized by BEGIN IMMEDIATE)."""
        stmt = select(self.model).where(self.model.id == entity_id)
        if is_postgresql(session):
            stmt = stmt.with_for_update()
        case = session.exec(stmt).first()
        if case is None:
            raise NotAtStep(f"[{NotAtStep.code}] aucun dossier {self.entity} n° {entity_id}")
        return case

    # --- derived from the steps -------------------------------------------------------------

    def step_of(self, status: str) -> str | None:
        return next((s.name for s in self.steps.values() if s.status == status), None)

    def awaited_role(self, step: str) -> str:
        return str(self.steps[step].role)

    def flow_name(self, step: str) -> str | None:
        """The flow (and deployment) that carries ``step``, if it has one of its own."""
        spec = self.steps.get(step)
        return spec.flow_name if spec is not None else None

    def run_request(self, session: Session, case: Case, step: str, trigger: str) -> tuple[str, dict] | None:
        """The flow and parameters of a run that carries ``step`` for ``case`` under ``trigger``
        (its row's key); None when no flow can be started for it alone."""
        name = self.flow_name(step)
        return (name, {self.parameter: case.id, "trigger": trigger}) if name else None


class CollectiviteCase(CaseKind[Case]):
    """A case filed by a collectivité (a contract, a request): the agents of its département
    decide, and the collectivité is told of each step."""

    def departement(self, session: Session, case: Case) -> str:
        return session.get(Collectivite, case.collectivite_id).departement_code

    def departements(self, session: Session, ids: Iterable[int]) -> dict[int, str]:
        model = self.model
        return departements_in_chunks(
            session,
            ids,
            lambda chunk: (
                select(model.id, Collectivite.departement_code)
                .join(Collectivite, Collectivite.id == model.collectivite_id)
                .where(model.id.in_(chunk))
            ),
        )

    def applicants(self, session: Session, case: Case) -> list[tuple[str, str]]:
        collectivite = session.get(Collectivite, case.collectivite_id)
        return [(collectivite.email, collectivite.name)]


IDS_PER_QUERY = 1000  # well under SQLite's bound-parameter limit


def departements_in_chunks(session: Session, ids: Iterable[int], query: Callable) -> dict[int, str]:
    """(id, département) rows of ``query(chunk)`` for each chunk of ``ids``."""
    wanted, out = sorted(set(ids)), {}
    for start in range(0, len(wanted), IDS_PER_QUERY):
        out.update({case_id: dep for case_id, dep in session.exec(query(wanted[start : start + IDS_PER_QUERY]))})
    return out


def departements_by_column(session: Session, model: type, ids: Iterable[int]) -> dict[int, str]:
    """For a case that carries its ``departement_code`` (an act, a compte rendu)."""
    return departements_in_chunks(
        session, ids, lambda chunk: select(model.id, model.departement_code).where(model.id.in_(chunk))
    )


@dataclass
class StepView:
    """What the flow needs to wait: JSON-friendly, so Prefect can persist it."""

    entity_id: int
    step: str
    state: str  # "open" or "done"
    round: int
    next_attempt: int
    description: str
    run_name: str
    awaited_role: str
    closing_decision_id: int | None = None
    next_step: str | None = None
    generation: int = 0  # times the step's run was started again: the waits' keys carry it


@dataclass
class Outcome:
    accepted: bool
    leaves_step: bool = False
    next_step: str | None = None
    decision_id: int | None = None
    violations: list[dict] = field(default_factory=list)
    grants: bool = False  # the decision granted money: legal acts may have been drawn up
