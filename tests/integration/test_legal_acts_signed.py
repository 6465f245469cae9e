"""The legal act after the decision, on both databases: drawn up from what was granted, signed by
the préfet, its PDF sealed in the audit trail and mailed as an attachment; a new version when
the grants change; one act per beneficiary and year."""

import asyncio
import hashlib
import json
from datetime import date

from sqlmodel import Session, select

from models.acts import ActStatus, FinancialReport, LegalAct, LegalActDocument
from models.decision import Decision
from models.outbox import OutboxMessage
from notifications.sender import OutboxSender
from services.acts.records import prepare
from services.db import unit_of_work
from tests.acts import ASSOCIATION, COLLECTIVITE, PREFET, StepDriver, act_of, delegated, report_of, sign
from tests.cli import run


def test_credits_delegated_draw_up_one_arrete_per_porteur_and_year(engine):
    request_id = delegated(engine, "Ateliers parents-enfants", "20000.00")
    act = act_of(engine, request_id)
    assert (act.kind, act.status, act.total_cents, act.version) == (
        "arrete",
        ActStatus.AWAITING_SIGNATURE,
        2_000_000,
        1,
    )
    assert act.reference == f"AP-86-2021-{act.id:04d}"
    with unit_of_work(engine) as s:
        assert prepare(s, ptai_request_ids=[request_id]) == []  # nothing new: nothing drawn up again
    with Session(engine) as s:
        assert len(s.exec(select(LegalAct)).all()) == 1


def test_a_second_grant_before_signature_updates_the_draft_and_r13_makes_it_a_convention(engine):
    first = delegated(engine, "Ateliers parents-enfants", "20000.00")
    second = delegated(engine, "Permanences d'accès aux droits", "8000.00")
    act = act_of(engine, second)
    assert act.id == act_of(engine, first).id and act.version == 1
    assert (act.kind, act.total_cents) == ("convention", 2_800_000)
    assert act.reference.startswith("CV-86-2021-")


def test_the_prefet_signs_the_act_its_pdf_is_sealed_and_mailed_with_its_fingerprint(engine, smtp_sink, smtp_target_for):
    act = act_of(engine, delegated(engine, "Ateliers parents-enfants", "20000.00"))
    outcome = sign(engine, act.id)
    with Session(engine) as s:
        signed = s.get(LegalAct, act.id)
        stored = s.exec(select(LegalActDocument).where(LegalActDocument.act_id == act.id)).one()
        sealed = s.exec(
            select(Decision).where(
                Decision.entity_type == "acte", Decision.entity_id == act.id, Decision.decision == "document_sealed"
            )
        ).one()
        letters = s.exec(select(OutboxMessage).where(OutboxMessage.event == "act_signed")).all()
    assert signed.status == ActStatus.SIGNED and signed.signed_on == date(2021, 10, 21)
    assert signed.signatory_name == "Claire Dumont" and outcome.leaves_step
    assert stored.sha256 == hashlib.sha256(stored.content).hexdigest() and stored.content.startswith(b"%PDF")
    assert stored.sha256 in sealed.comment
    assert sorted(m.recipient for m in letters) == sorted([ASSOCIATION, COLLECTIVITE])
    report = report_of(engine, signed)
    assert (report.status, report.due_on) == ("expected", date(2022, 6, 30))

    handler, _ = smtp_sink
    sent = asyncio.run(OutboxSender(engine, smtp_target_for).send_pending())
    assert sent.failed == 0
    received = [m for m in handler.received if ASSOCIATION in m.to and signed.reference in m.subject]
    assert len(received) == 1
    message = received[0].message
    attachments = list(message.iter_attachments())
    assert [a.get_filename() for a in attachments] == [f"{signed.reference}.pdf"]
    assert hashlib.sha256(attachments[0].get_content()).hexdigest() == stored.sha256
    assert "30 juin 2022" in message.get_body(("plain",)).get_content()


def test_an_altered_document_is_never_mailed(engine, smtp_sink, smtp_target_for):
    act = act_of(engine, delegated(engine, "Ateliers parents-enfants", "20000.00"))
    sign(engine, act.id)
    with unit_of_work(engine) as s:
        stored = s.exec(select(LegalActDocument).where(LegalActDocument.act_id == act.id)).one()
        stored.content = stored.content + b"%% ajout"
        s.add(stored)
    report = asyncio.run(OutboxSender(engine, smtp_target_for).send_pending())
    assert report.failed == 2 and all("altérée" in e for e in report.errors)
    assert not [m for m in smtp_sink[0].received if set(m.to) & {ASSOCIATION, COLLECTIVITE}]


def test_a_refusal_to_sign_needs_a_reason_and_leaves_the_lines_without_act(engine):
    act = act_of(engine, delegated(engine, "Ateliers parents-enfants", "20000.00"))
    driver = StepDriver(engine, "acte", act.id, "signature")
    refused = driver.answer(PREFET, "reject")
    assert not refused.accepted and refused.violations[0]["code"] == "MOTIF_MANQUANT"
    assert driver.answer(PREFET, "reject", comment="Objet à préciser avant signature").accepted
    with Session(engine) as s:
        assert s.get(LegalAct, act.id).status == ActStatus.CANCELLED
        assert not s.exec(select(LegalActDocument)).all()


def test_a_signature_without_its_signatory_or_with_a_date_to_come_is_refused(engine):
    act = act_of(engine, delegated(engine, "Ateliers parents-enfants", "20000.00"))
    driver = StepDriver(engine, "acte", act.id, "signature")
    missing = driver.answer(PREFET, "sign")
    assert not missing.accepted
    assert {v["code"] for v in missing.violations} >= {"SIGNATAIRE_MANQUANT", "DATE_SIGNATURE_MANQUANTE"}
    future = driver.answer(
        PREFET, "sign", signatory_name="Claire Dumont", signatory_title="Le préfet", signed_on="2099-01-01"
    )
    assert not future.accepted and future.violations[0]["code"] == "DATE_HORS_BORNES"


def test_a_grant_after_signature_calls_for_a_new_version_that_replaces_the_signed_act(engine):
    first = act_of(engine, delegated(engine, "Ateliers parents-enfants", "20000.00"))
    sign(engine, first.id)
    second = act_of(engine, delegated(engine, "Permanences d'accès aux droits", "8000.00"))
    assert second.id != first.id and (second.version, second.replaces_act_id) == (2, first.id)
    assert (second.kind, second.total_cents) == ("convention", 2_800_000)
    sign(engine, second.id, signed_on="2021-11-30")
    with Session(engine) as s:
        assert s.get(LegalAct, first.id).status == ActStatus.REPLACED
        assert s.get(LegalAct, second.id).status == ActStatus.SIGNED
        reports = s.exec(select(FinancialReport)).all()
    assert len(reports) == 1 and reports[0].act_id == second.id  # one compte rendu per porteur and year


def test_a_collectivite_carrying_its_own_line_gets_its_act_and_owes_no_compte_rendu(engine):
    act = act_of(engine, delegated(engine, "Coordination municipale", "12000.00", porteur=False))
    assert act.porteur_id is None and act.collectivite_id is not None
    sign(engine, act.id)
    with Session(engine) as s:
        assert not s.exec(select(FinancialReport)).all()


def test_acte_show_and_pdf_give_the_signed_act_as_mailed(engine, app_env):
    act = act_of(engine, delegated(engine, "Ateliers parents-enfants", "20000.00"))
    sign(engine, act.id)
    shown = run("acte", "show", str(act.id), "--json")
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.stdout)
    assert data["statut"] == "signed" and data["signature"]["signataire"] == "Claire Dumont"
    assert [t["tranche"] for t in data["echeancier"]] == ["avance", "solde"]
    pdf = run("acte", "pdf", str(act.id))
    assert pdf.exit_code == 0
    assert hashlib.sha256(pdf.stdout_bytes).hexdigest() == data["document"]["sha256"]
    missing = run("acte", "show", "999", "--json")
    assert missing.exit_code == 2 and "INTROUVABLE" in missing.output


def test_a_signature_judged_again_after_a_resume_seals_and_mails_nothing_twice(engine):
    from services.cases import kind
    from services.engine import steps
    from tests.codes import mailed_code

    act = act_of(engine, delegated(engine, "Ateliers parents-enfants", "20000.00"))
    driver = StepDriver(engine, "acte", act.id, "signature")
    answer = {
        "agent_email": PREFET,
        "approval_code": mailed_code(engine, PREFET),
        "decision": "sign",
        "signatory_name": "Claire Dumont",
        "signatory_title": "Le préfet",
        "signed_on": "2021-10-21",
    }
    outcomes = []
    for _ in range(2):  # the flow, resumed, judges the same attempt again
        with unit_of_work(engine) as s:
            outcomes.append(
                steps.decide(
                    s,
                    kind("acte"),
                    entity_id=act.id,
                    step="signature",
                    flow_run_id=driver.run_id,
                    attempt=1,
                    answer=answer,
                    link=None,
                )
            )
    assert outcomes[0].decision_id == outcomes[1].decision_id and outcomes[1].accepted
    with Session(engine) as s:
        assert len(s.exec(select(LegalActDocument)).all()) == 1
        assert len(s.exec(select(OutboxMessage).where(OutboxMessage.event == "act_signed")).all()) == 2
        assert (
            len(s.exec(select(Decision).where(Decision.entity_type == "acte", Decision.decision == "sign")).all()) == 1
        )
