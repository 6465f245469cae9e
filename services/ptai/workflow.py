"""The PTAI instruction chain as a kind of case: local instruction and the préfet's validation
as approval steps, and the applicant's answer to a request for more information."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from models.actors import Porteur
from models.ptai import PTAI_MACHINE, PtaiRequest, PtaiStatus
from services.engine.kind import CollectiviteCase, Step
from services.finance.acts import recompute_legal_acts
from services.ptai import forms, handlers, records, texts
from services.ptai.records import NotAwaitingApplicant

__all__ = ["PTAI", "NotAwaitingApplicant", "complete"]

ENTITY = "ptai"


class PtaiCase(CollectiviteCase[PtaiRequest]):
    """A funding request, from its local instruction to its transmission to the ministry."""

    entity = ENTITY
    model = PtaiRequest
    machine = PTAI_MACHINE
    parameter = "request_id"
    steps = {
        s.name: s
        for s in [
            Step(
                "instruction",
                PtaiStatus.SUBMITTED,
                texts.PTAI_STEP_LABELS["instruction"],
                forms.InstructionForm,
                handlers.instruction,
                expectation_again="Vos compléments ont bien été reçus : l'instruction de votre demande reprend. "
                "Aucune action n'est attendue de votre part.",
                expectation_rework="Adresser à la préfecture les compléments demandés avant la date limite, en rappelant la "
                "référence du dossier.",
            ),
            Step(
                "validation",
                PtaiStatus.PREFET_VALIDATION,
                texts.PTAI_STEP_LABELS["validation"],
                forms.ValidationForm,
                handlers.validation,
                four_eyes=True,
            ),  # never the instructing agent
        ]
    }

    run_name = staticmethod(texts.run_name)
    description = staticmethod(texts.description)
    email_base = staticmethod(texts.email_base)
    summary = staticmethod(texts.summary)
    dashboard = staticmethod(texts.request_markdown)

    def after_decision(self, session: Session, case: PtaiRequest, transition, agent, form) -> None:
        """An opinion, a validation or a rejection changes the amount that counts (or ends it):
        R13's acts of the beneficiary's year follow, in the decision's transaction."""
        session.add(case)
        recompute_legal_acts(session, ptai_request_ids=[case.id])

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
