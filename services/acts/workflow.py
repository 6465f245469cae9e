"""The legal act as a kind of case for the step engine: the préfet's signature, then, in the same
transaction, the signed PDF (stamped with the signatory and date), its SHA-256 in the audit
trail, the version it replaces closed, the compte rendu financier opened, and the act mailed as
an attachment to the beneficiary and the collectivité."""

from __future__ import annotations

import hashlib

from sqlmodel import Session, select

from documents.render import render_pdf
from models.actors import Agent
from models.acts import ActEvent, ActSignatureDecision, ActStatus, LegalAct, LegalActDocument, act_policy
from models.state_machine import Transition
from notifications.outbox import Email, message_key, queue_many
from services.acts import records, reports, steps, texts
from services.acts.records import ENTITY
from services.acts.steps import ACT_MACHINE
from services.db import unit_of_work
from services.engine import launch, runs
from services.engine.audit import Actor, record_decision
from services.engine.forms import ApprovalForm
from services.engine.kind import CaseKind, departements_by_column


class ActCase(CaseKind[LegalAct]):
    entity = ENTITY
    model = LegalAct
    machine = ACT_MACHINE
    parameter = "acte_id"
    steps = steps.STEPS_BY_NAME
    history_labels = texts.ACT_STEP_LABELS

    run_name = staticmethod(texts.run_name)
    description = staticmethod(texts.form_description)
    email_base = staticmethod(texts.email_base)
    summary = staticmethod(texts.summary)
    dashboard = staticmethod(texts.act_markdown)

    def departement(self, session: Session, case: LegalAct) -> str:
        return case.departement_code

    def departements(self, session: Session, ids) -> dict[int, str]:
        return departements_by_column(session, LegalAct, ids)

    def applicants(self, session: Session, case: LegalAct) -> list[tuple[str, str]]:
        """Nobody is told of the signature step as an applicant: the beneficiary and the
        collectivité receive the signed act itself."""
        return []

    def after_decision(
        self, session: Session, case: LegalAct, transition: Transition, agent: Agent, form: ApprovalForm
    ) -> None:
        if transition.decision != ActSignatureDecision.SIGN:
            return
        case.signed_by_agent_id = agent.id
        session.add(case)
        stored = seal(session, case, Actor(agent.email, agent.id))
        replaced = session.get(LegalAct, case.replaces_act_id) if case.replaces_act_id else None
        if replaced is not None and replaced.status == ActStatus.SIGNED:
            before = replaced.status
            ACT_MACHINE.apply(replaced, ActEvent.REPLACED)
            session.add(replaced)
            record_decision(
                session,
                entity_type=ENTITY,
                entity_id=replaced.id,
                step="remplacement",
                from_status=before,
                to_status=replaced.status,
                actor=Actor(agent.email, agent.id),
                decision=ActEvent.REPLACED,
                comment=f"remplacé par {case.reference}",
            )
        reports.open_report(session, case)
        queue_signed_act(session, case, stored)


ACT = ActCase()


def seal(session: Session, act: LegalAct, actor: Actor) -> LegalActDocument:
    """The signed PDF, stored once with its SHA-256, which the audit trail records."""
    pdf = render_pdf(records.document(session, act))
    digest = hashlib.sha256(pdf).hexdigest()
    stored = LegalActDocument(act_id=act.id, filename=f"{act.reference}.pdf", sha256=digest, content=pdf)
    session.add(stored)
    session.flush()
    record_decision(
        session,
        entity_type=ENTITY,
        entity_id=act.id,
        step=steps.SIGNATURE.name,
        from_status=act.status,
        to_status=act.status,
        actor=actor,
        decision="document_sealed",
        amount_cents=act.total_cents,
        comment=f"{stored.filename} — SHA-256 {digest}",
    )
    return stored


def queue_signed_act(session: Session, act: LegalAct, stored: LegalActDocument) -> int:
    """The act, as an attachment, to the beneficiary and to each collectivité concerned, once."""
    beneficiary = records.beneficiary_of(session, act)
    parties = {beneficiary.email.lower(): (beneficiary.email, beneficiary.name)}
    for c in records.collectivites_of(session, act):
        parties.setdefault(c.email.lower(), (c.email, c.name))
    due = act_policy().report_due_on(act.year) if act.porteur_id else None
    context = {
        "type_acte": texts.kind_label(act),
        "montant_cents": act.total_cents,
        "annee": act.year,
        "date_signature": act.signed_on,
        "signataire": act.signatory_name,
        "signature": [act.signatory_title.rstrip(",") + ",", act.signatory_name],
        "beneficiaire": beneficiary.name,
        "echeance_compte_rendu": due,
        "piece_jointe": stored.id,
        "nom_fichier": stored.filename,
        "empreinte": stored.sha256,
    }
    return queue_many(
        session,
        [
            Email(
                "act_signed",
                address,
                {**texts.email_base(session, act, name), **context},
                message_key(ENTITY, act.id, "signed", address, "act_signed"),
            )
            for address, name in parties.values()
        ],
    )


async def start_signatures(limit: int = 500) -> list[str]:
    """Starts the signature run of every act awaiting the préfet that has none (once per act:
    the engine's key makes a second call return the same run)."""
    with unit_of_work() as session:
        drafts = session.exec(
            select(LegalAct.id)
            .where(LegalAct.status == ActStatus.AWAITING_SIGNATURE)
            .order_by(LegalAct.id)
            .limit(limit)
        ).all()
        started = {row.entity_id for row in runs.open_rows(session) if row.entity_type == ENTITY and row.flow_run_id}
    return [await launch.start_case_step(ACT, act_id, f"acte{act_id}") for act_id in drafts if act_id not in started]
