"""The PTAI instruction chain as a kind of case: local instruction and the préfet's validation
as approval steps, and the applicant's answer to a request for more information."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from models.actors import Porteur
from models.ptai import PtaiRequest
from services.engine.kind import CollectiviteCase
from services.engine.money import amounts_changed
from services.ptai import records, steps, texts
from services.ptai.records import NotAwaitingApplicant
from services.ptai.steps import PTAI_MACHINE

__all__ = ["PTAI", "NotAwaitingApplicant", "complete"]

ENTITY = steps.CASE


class PtaiCase(CollectiviteCase[PtaiRequest]):
    """A funding request, from its local instruction to its transmission to the ministry."""

    entity = ENTITY
    model = PtaiRequest
    machine = PTAI_MACHINE
    parameter = "request_id"
    steps = steps.STEPS_BY_NAME
    history_labels = texts.HISTORY_LABELS

    run_name = staticmethod(texts.run_name)
    description = staticmethod(texts.description)
    email_base = staticmethod(texts.email_base)
    summary = staticmethod(texts.summary)
    dashboard = staticmethod(texts.request_markdown)

    def after_decision(self, session: Session, case: PtaiRequest, transition, agent, form) -> None:
        """An opinion, a validation or a rejection changes the amount that counts (or ends it):
        R13's acts of the beneficiary's year follow, in the decision's transaction."""
        session.add(case)
        amounts_changed(session, ptai_request_ids=[case.id])

    def applicants(self, session: Session, case: PtaiRequest) -> list[tuple[str, str]]:
        """The collectivité, and the association that carries the project, if any."""
        out = super().applicants(session, case)
        if case.porteur_id:
            porteur = session.get(Porteur, case.porteur_id)
            out.append((porteur.email, porteur.name))
        return out


PTAI = PtaiCase()


def complete(session: Session, request_id: int, text: str, today: date | None = None) -> tuple[PtaiRequest, int]:
    """The applicant's answer to a rework request: the whole file again, checked again."""
    return records.complete(session, PTAI.lock(session, request_id), text, today)
