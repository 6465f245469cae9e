"""The CTAI procedure of issue 13 on a real Prefect server: the Diair's rework round trip, a
CTAIR registered then widened, and an avenant signed by the préfet that funds the right year.
Each case is set up with the services (tests/workflow.py's Driver); only the steps at stake run
through Prefect, answered through the resume API with the codes read from the emails."""

import asyncio
import json

from sqlmodel import Session, select

from models.ctai import Action, Ctai, CtaiFunding, CtaiStatus, DiairReview
from models.french import typographie
from services.ctai import workflow as ctai_workflow
from services.db import unit_of_work
from tests.cli import run
from tests.flows.helpers import decide, finished, mails_to, wait_for_mail, waiting_run
from tests.workflow import CTAIR_FILE, PROPOSAL, SIGNED, Driver, bilan_lines, poitiers, proposal_text, propose

I86, P86, DIAIR = "instructeur.86@prefecture-86.example", "prefet.86@prefecture-86.example", "diair@interieur.example"


async def cli(*args) -> dict:
    result = await asyncio.to_thread(run, *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def signed(engine, collectivite_id: int, text: str | None = None) -> tuple[int, str]:
    """A contract taken to its signature with the services, signed: at the Diair's review, no run yet."""
    with unit_of_work(engine) as s:
        ctai, _ = ctai_workflow.create(s, collectivite_id=collectivite_id, first_year=2021)
        cid, ref = ctai.id, ctai.reference
    d = Driver(engine, cid)
    for step, email, decision, fields in [
        ("engagement", I86, "received", {"letter_date": "2020-12-15", "signatory": "Maire"}),
        ("echange", I86, "held", {"meeting_date": "2021-01-20"}),
        ("diagnostic", I86, "approve", {"bpi_count": 229}),
        ("coordinateur", I86, "skip", {}),
        ("proposition", I86, "approve", {}),
        ("signature", P86, "sign", SIGNED),
    ]:
        if step == "proposition":
            assert propose(engine, cid, text) == []
        d.open(step)
        assert d.answer(step, email, decision, **fields).accepted, step
    return cid, ref


def status(engine, cid):
    with Session(engine) as s:
        return s.get(Ctai, cid).status


async def test_a_diair_rework_goes_to_the_collectivite_and_back_to_the_diair(platform):
    ids = poitiers(platform.engine, "Ville de Poitiers", "commune", 41, "integration@poitiers-41.example")
    cid, ref = signed(platform.engine, ids["poitiers"])
    await cli("ctai", "resume", str(cid))  # the Diair's review, as a run
    with Session(platform.engine) as s:
        flagged = s.exec(select(Action).where(Action.ctai_id == cid).order_by(Action.id)).all()[1]
    verdict = await decide(
        platform,
        "revue_diair",
        cid,
        ref,
        DIAIR,
        "rework",
        rework_action_ids=[flagged.id],
        comment="Chiffrez les objectifs d'accès à l'emploi",
    )
    assert verdict.outcome == "accepted", verdict.violations
    await finished(platform, verdict.flow_run_id)
    assert status(platform.engine, cid) == CtaiStatus.DIAIR_REWORK
    told = [
        m
        for m in await wait_for_mail(platform, "integration@poitiers-41.example", ref, 1)
        if "À compléter" in m.subject
    ]
    # In words, never a command: the collectivité sends its reworked actions to the préfecture.
    assert told and "territoires" not in told[-1].text() and "Modifiez ces actions, et elles seules" in told[-1].text()

    path = platform.workdir / f"retravail-{cid}.json"
    path.write_text(
        json.dumps(
            {
                "actions": [
                    {
                        "id": flagged.id,
                        "intitule": "Parcours vers l'emploi : 40 BPI accompagnés",
                        "domaine": "emploi",
                        "porteur_siret": "99900502800025",
                        "public": "bpi",
                        "action_p104": 15,
                        "montant_eur": "30000.00",
                        "annee": 2021,
                    }
                ]
            }
        ),
        encoding="utf-8",
    )
    reworked = await cli("ctai", "rework", str(cid), str(path))
    assert reworked["statut"] == "diair_review" and reworked["flow_run_id"]
    verdict = await decide(platform, "revue_diair", cid, ref, DIAIR, "approve")
    assert verdict.outcome == "accepted", verdict.violations
    with Session(platform.engine) as s:
        actions = s.exec(select(Action).where(Action.ctai_id == cid)).all()
    assert status(platform.engine, cid) == CtaiStatus.ACTIVE
    assert {a.diair_review for a in actions} == {DiairReview.COMPLIANT}
    assert [a.title for a in actions if a.id == flagged.id] == ["Parcours vers l'emploi : 40 BPI accompagnés"]


async def test_a_ctair_registered_by_command_is_widened_and_signed_with_both_dates(platform):
    ids = poitiers(
        platform.engine, "Grand Poitiers Communauté urbaine", "communaute_urbaine", 42, "ctai@grandpoitiers.example"
    )
    path = platform.workdir / "ctair-42.json"
    path.write_text(json.dumps(CTAIR_FILE), encoding="utf-8")
    ctair = await cli(
        "ctai", "register-ctair", "--collectivite", str(ids["poitiers"]), "--signature-date", "2020-02-14", str(path)
    )
    assert (ctair["type"], ctair["statut"], ctair["annees"]) == ("ctair", "active", [2020, 2022])
    started = await cli(
        "ctai",
        "start",
        "--collectivite",
        str(ids["poitiers"]),
        "--from-ctair",
        str(ctair["ctai_id"]),
        "--first-year",
        "2021",
    )
    cid, ref = started["ctai_id"], started["reference"]
    both = {"signature_date": "2021-06-01", "elu_signature_date": "2021-06-03"}
    verdict = await decide(platform, "elargissement", cid, ref, P86, "sign", **both)
    assert verdict.outcome == "refused" and "R5_LOGEMENT_OBLIGATOIRE" in [v["code"] for v in verdict.violations]

    proposal = json.loads(PROPOSAL.read_text(encoding="utf-8"))
    proposal["financement"] = [{"annee": 2021, "socle_eur": "150000.00", "complementaire_eur": "50000.00"}]
    widened = platform.workdir / f"proposition-{cid}.json"
    widened.write_text(json.dumps(proposal), encoding="utf-8")
    assert (await asyncio.to_thread(run, "ctai", "propose", str(cid), str(widened))).exit_code == 0
    verdict = await decide(
        platform,
        "elargissement",
        cid,
        ref,
        P86,
        "sign",
        attempt=2,
        **both,
        diair_cosignatory_name="Délégué interministériel",
        diair_cosignature_date="2021-06-04",
    )
    assert verdict.outcome == "accepted", verdict.violations
    with Session(platform.engine) as s:
        ctai, old = s.get(Ctai, cid), s.get(Ctai, ctair["ctai_id"])
        assert (old.status, ctai.status) == (CtaiStatus.REPLACED, CtaiStatus.DIAIR_REVIEW)
        assert (
            ctai.prefet_signed_on.isoformat(),
            ctai.elu_signed_on.isoformat(),
            ctai.diair_cosigned_on.isoformat(),
        ) == ("2021-06-01", "2021-06-03", "2021-06-04")
    await waiting_run(platform, "revue_diair", cid)


async def test_an_avenant_proposed_at_the_2021_bilan_and_signed_by_the_prefet_funds_2022(platform):
    ids = poitiers(platform.engine, "Ville de Châtellerault", "commune", 43, "integration@chatellerault-43.example")
    two_years = json.loads(proposal_text())
    two_years["financement"].append({"annee": 2022, "socle_eur": "150000.00", "complementaire_eur": "50000.00"})
    two_years["actions"] += [{**a, "annee": 2022} for a in two_years["actions"]]
    cid, ref = signed(platform.engine, ids["poitiers"], json.dumps(two_years))
    d = Driver(platform.engine, cid)
    d.open("revue_diair")
    assert d.answer("revue_diair", DIAIR, "approve").accepted

    opened = await cli("ctai", "review", str(cid), "--annee", "2021")
    assert opened["annee"] == 2021 and opened["flow_run_id"]
    verdict = await decide(
        platform,
        "bilan",
        cid,
        ref,
        I86,
        "amend",
        amount_eur=250000,
        complementary_eur=50000,
        bilan_actions=bilan_lines(platform.engine, cid, 2021),
        comment="Avenant n° 1",
    )
    assert verdict.outcome == "accepted", verdict.violations
    assert status(platform.engine, cid) == CtaiStatus.REVIEW_SIGNATURE
    run_id = await waiting_run(platform, "bilan_signature", cid)  # started by the bilan's run
    assert not [m for m in mails_to(platform, I86, ref) if run_id in m.text()]  # four eyes: no code for the instructeur
    verdict = await decide(platform, "bilan_signature", cid, ref, P86, "sign_amendment", signature_date="2022-01-20")
    assert verdict.outcome == "accepted", verdict.violations
    await finished(platform, verdict.flow_run_id)
    with Session(platform.engine) as s:
        funding = {
            f.year: (f.socle_cents, f.complementary_cents)
            for f in s.exec(select(CtaiFunding).where(CtaiFunding.ctai_id == cid))
        }
    assert funding == {2021: (15_000_000, 5_000_000), 2022: (25_000_000, 5_000_000)}  # the year after 2021, not 2023
    assert status(platform.engine, cid) == CtaiStatus.ACTIVE
    assert any(
        typographie("Signature du bilan annuel par le préfet : avenant signé") in m.subject
        for m in mails_to(platform, "integration@chatellerault-43.example", ref)
    )
