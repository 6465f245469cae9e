"""A ministry batch (« lot ») as a kind of case for the step engine: its one step is the
arbitrage (``services.finance.steps``), inside the monthly delegation flow."""

from __future__ import annotations

from sqlalchemy import literal
from sqlmodel import Session, select

from models.delegation import DelegationBatch
from models.french import pluriel
from models.money import format_eur
from services.engine.kind import CaseKind, departements_in_chunks
from services.finance import steps, texts
from services.finance.batches import ENTITY, MINISTRY
from services.finance.steps import BATCH_MACHINE


class BatchCase(CaseKind[DelegationBatch]):
    """A ministry batch: its one step is the arbitrage, inside the monthly delegation flow."""

    entity = ENTITY
    model = DelegationBatch
    machine = BATCH_MACHINE
    parameter = "batch_id"
    steps = steps.STEPS_BY_NAME

    def departement(self, session: Session, case: DelegationBatch) -> str:
        return "national"

    def departements(self, session: Session, ids) -> dict[int, str]:
        return departements_in_chunks(
            session,
            ids,
            lambda chunk: select(DelegationBatch.id, literal("national")).where(DelegationBatch.id.in_(chunk)),
        )

    def run_name(self, session: Session, case: DelegationBatch, step: str) -> str:
        return f"Délégation de crédits {case.year} — {case.reference}"

    def description(self, session: Session, case: DelegationBatch, step: str, role: str, refusal) -> str:
        return texts.description(session, case, step, role, refusal)

    def email_base(self, session: Session, case: DelegationBatch, recipient_name: str) -> dict:
        return {
            "reference": case.reference,
            "objet": f"Lot de délégation de crédits P104 — campagne {case.year}",
            "destinataire": recipient_name,
            "departement": "national",
            "expediteur": MINISTRY,
        }

    def applicants(self, session: Session, case: DelegationBatch) -> list[tuple[str, str]]:
        return []

    def summary(self, session: Session, case: DelegationBatch) -> str:
        return f"{pluriel(case.requests_count, 'demande')}, {format_eur(case.total_cents)}."

    def run_request(self, session: Session, case: DelegationBatch, step: str, trigger: str) -> tuple[str, dict]:
        """The arbitrage lives in the monthly delegation flow: a run of it resumes this batch."""
        return "delegation-credits", {"year": case.year, "batch_id": case.id}

    def dashboard(self, session: Session, entity_id: int) -> str:
        return texts.batch_markdown(session, entity_id)


BATCH = BatchCase()
