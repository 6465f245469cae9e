"""After the decision, on a real Prefect server: a PTAI request from delegation to a signed
arrêté, a CTAI signed by the préfet to a signed convention, each PDF mailed and read back; a
compte rendu financier sent back incomplete, then found conforme, through its flow."""

import asyncio
import os
from datetime import date
from pathlib import Path

from sqlmodel import Session, select

from models.actors import Porteur
from models.acts import ActStatus, FinancialReport, LegalAct
from models.ctai import Action, Ctai, CtaiFunding, CtaiStatus, Diagnostic, ctai_reference
from models.reference import Domain, P104Action, Public
from services import registry
from services.acts import workflow as acts_workflow
from services.ctai.workflow import CTAI
from services.db import unit_of_work
from services.engine import launch
from tests.acts import ASSOCIATION, COLLECTIVITE, INSTRUCTEUR, PREFET, SIGNED, act_of, delegated
from tests.cli import run
from tests.flows.helpers import decide, finished, wait_for_mail
from tests.pdf_reading import first_page_png, pdf_text
from tests.workflow import SIGNED as CONTRACT_SIGNED
from tests.workflow import poitiers

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = Path(os.environ.get("TERRITOIRES_TEST_OUTPUT", ROOT / "test-output")) / "actes"


def flat(text: str) -> str:
    """PDF text with its no-break spaces and line breaks as plain spaces."""
    return " ".join(text.replace("\u202f", " ").replace("\u00a0", " ").split())


async def signed_pdf(platform, address: str, reference: str) -> bytes:
    mail = (await wait_for_mail(platform, address, reference, 1))[-1]
    message = mail.message
    (attachment,) = [a for a in message.iter_attachments() if a.get_filename() == f"{reference}.pdf"]
    return attachment.get_content()


async def test_a_request_goes_from_delegation_to_a_signed_arrete_mailed_as_a_pdf(platform):
    request_id = delegated(platform.engine, "Ateliers parents-enfants à Châtellerault", "20000.00")
    await acts_workflow.start_signatures()
    act = act_of(platform.engine, request_id)
    verdict = await decide(platform, "signature", act.id, act.reference, PREFET, "sign", entity="acte", **SIGNED)
    assert verdict.outcome == "accepted", verdict.violations
    await finished(platform, verdict.flow_run_id)
    pdf = await signed_pdf(platform, ASSOCIATION, act.reference)
    assert await signed_pdf(platform, COLLECTIVITE, act.reference) == pdf
    text = flat(pdf_text(pdf))
    assert "20 000,00 €" in text and "programme 104" in text and "action 12" in text and "0104-DDETS-86" in text
    assert "deux mois" in text and "tribunal administratif" in text and "Claire Dumont" in text
    assert act.reference in text and "PRÉFET DE LA VIENNE" in text
    png = first_page_png(pdf, OUTPUT / f"arrete-{platform.db_url.split(':')[0]}.png")
    assert png.stat().st_size > 10_000
    with Session(platform.engine) as s:
        assert s.get(LegalAct, act.id).status == ActStatus.SIGNED


async def test_a_compte_rendu_sent_back_incomplete_then_found_conforme_through_its_flow(platform):
    with Session(platform.engine) as s:
        report = s.exec(select(FinancialReport).order_by(FinancialReport.id)).first()
    common = ["--depenses", "41000", "--subvention-utilisee", "20000", "--par", ASSOCIATION]
    sent = await asyncio.to_thread(run, "crf", "transmettre", str(report.id), "--date", "2022-06-20", *common)
    assert sent.exit_code == 0, sent.output
    verdict = await decide(
        platform,
        "examen",
        report.id,
        report.reference,
        INSTRUCTEUR,
        "rework",
        entity="crf",
        comment="Joindre le détail des frais de personnel.",
        complement_deadline="2099-09-30",
    )
    assert verdict.outcome == "accepted", verdict.violations
    await finished(platform, verdict.flow_run_id)
    back = await wait_for_mail(platform, ASSOCIATION, report.reference, 1)
    assert "frais de personnel" in back[-1].text() and "30 septembre 2099" in back[-1].text()
    again = await asyncio.to_thread(run, "crf", "transmettre", str(report.id), "--date", "2022-07-05", *common)
    assert again.exit_code == 0, again.output
    verdict = await decide(platform, "examen", report.id, report.reference, INSTRUCTEUR, "compliant", entity="crf")
    assert verdict.outcome == "accepted", verdict.violations
    await finished(platform, verdict.flow_run_id)
    with Session(platform.engine) as s:
        assert s.get(FinancialReport, report.id).status == "compliant"


def contract_at_signature(engine) -> Ctai:
    """A 2021 contract of the Ville de Poitiers at the préfet's signature: the city carries its BPI
    actions (150 000 € of socle), Toit du Monde its housing action for primo-arrivants (50 000 €
    of complementary credits, seed 004): two beneficiaries, so two acts."""
    ids = poitiers(engine)
    with unit_of_work(engine) as s:
        toit = next(p for p in registry.list_porteurs(s) if p.name == "Toit du Monde")
        ctai = Ctai(
            collectivite_id=ids["poitiers"],
            first_year=2021,
            last_year=2023,
            public_scope=Public.PRIMO_ARRIVANTS,
            status=CtaiStatus.SIGNATURE,
            letter_received_on=date(2020, 12, 15),
            letter_signatory="Maire de Poitiers",
        )
        s.add(ctai)
        s.flush()
        ctai.reference = ctai_reference("86", 2021, ctai.id)
        s.add(CtaiFunding(ctai_id=ctai.id, year=2021, socle_cents=15_000_000, complementary_cents=5_000_000))
        s.add(Diagnostic(ctai_id=ctai.id, reference_year=2021, bpi_count=229, validated=True))
        s.add(
            Action(
                ctai_id=ctai.id,
                title="Coordination et accompagnement des BPI",
                domain=Domain.ACCES_DROITS,
                public=Public.BPI,
                p104_action=P104Action.REFUGIES,
                amount_cents=15_000_000,
                year=2021,
            )
        )
        s.add(
            Action(
                ctai_id=ctai.id,
                title="Accueil et hébergement des primo-arrivants",
                domain=Domain.LOGEMENT,
                public=Public.PRIMO_ARRIVANTS,
                porteur_id=toit.id,
                p104_action=P104Action.PRIMO_ARRIVANTS,
                amount_cents=5_000_000,
                year=2021,
            )
        )
        return ctai


async def test_a_ctai_signed_by_the_prefet_leads_to_a_signed_convention(platform):
    ctai = contract_at_signature(platform.engine)
    await launch.start_case_step(CTAI, ctai.id, "test")
    verdict = await decide(platform, "signature", ctai.id, ctai.reference, PREFET, "sign", **CONTRACT_SIGNED)
    assert verdict.outcome == "accepted", verdict.violations
    await finished(platform, verdict.flow_run_id)
    with Session(platform.engine) as s:
        acts = s.exec(select(LegalAct).where(LegalAct.status == ActStatus.AWAITING_SIGNATURE)).all()
        toit, porteur = s.exec(
            select(LegalAct, Porteur)
            .join(Porteur, Porteur.id == LegalAct.porteur_id)
            .where(Porteur.name == "Toit du Monde", LegalAct.status == ActStatus.AWAITING_SIGNATURE)
        ).one()
    assert len(acts) == 2 and toit.kind == "convention" and toit.total_cents == 5_000_000
    verdict = await decide(platform, "signature", toit.id, toit.reference, PREFET, "sign", entity="acte", **SIGNED)
    assert verdict.outcome == "accepted", verdict.violations
    await finished(platform, verdict.flow_run_id)
    text = flat(pdf_text(await signed_pdf(platform, porteur.email, toit.reference)))
    assert "Convention" in text and "50 000,00 €" in text and "action 12" in text and "tribunal administratif" in text
    first_page_png(
        await signed_pdf(platform, porteur.email, toit.reference),
        OUTPUT / f"convention-{platform.db_url.split(':')[0]}.png",
    )
