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
from typing import Any, ClassVar, Generic, TypeVar

from sqlmodel import Session, select

from models.actors import Agent, Collectivite
from models.errors import DomainError, Violation
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
Handler = Callable[[Session, Any, str, Any], Applied]


@dataclass(frozen=True)
class Step:
    """One approval step of a kind of case."""

    name: str
    status: StrEnum  # the case's status while the step waits for its decision
    label: str  # French, in forms, run names and emails
    form: type[ApprovalForm]  # what the awaited agent fills in
    handler: Handler
    four_eyes: bool = False  # the agent who instructed the case may not decide it
    has_flow: bool = True  # carried by its own flow (deployment ``<entity>-<step>``)
    expectation: str | None = None  # what the applicants are asked while the step is open
    expectation_again: str | None = None  # … when the case comes back to the step
    expectation_rework: str | None = None  # … when the step sends the case back to them


class CaseKind(ABC, Generic[Case]):
    """A kind of case as the engine sees it. Subclasses set the class attributes and give the
    texts (methods, or their wing's text functions as static methods); one instance per kind
    lives in its wing (``services.cases`` lists them)."""

    entity: ClassVar[str]  # "ctai", "ptai", "lot": audit trail, run tags, flow names
    model: ClassVar[type]  # the table of the case
    machine: ClassVar[StateMachine]
    parameter: ClassVar[str]  # the flows' parameter that carries the case's id
    steps: ClassVar[Mapping[str, Step]]

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
        roles = {t.role for t in self.machine.allowed(self.steps[step].status) if t.role is not None}
        return str(roles.pop())

    def flow_name(self, step: str) -> str | None:
        """The flow (and deployment) that carries ``step``, if it has one of its own."""
        spec = self.steps.get(step)
        return f"{self.entity}-{step.replace('_', '-')}" if spec is not None and spec.has_flow else None

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
