"""The national dashboard flow and the départements' follow-up tables, against the real Prefect
server: the artifacts a person reads in the UI, the report they link to, opened in Chromium
(served as ``territoires up`` serves it), with a screenshot of its charts."""

from __future__ import annotations

import asyncio
import json
import os
from datetime import datetime, timedelta
from pathlib import Path

from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
from prefect.client.schemas.sorting import ArtifactSort
from sqlmodel import Session

from cli.report_server import ReportServer
from demo.national import seed_national
from models.approval import StepRun, StepRunState
from models.types import PARIS, paris_today
from settings import get_settings

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = Path(os.environ.get("TERRITOIRES_TEST_OUTPUT", ROOT / "test-output")) / "e2e"
CHROMIUM = "/usr/bin/chromium"


async def latest(key: str):
    async with get_client() as client:
        found = await client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])), sort=ArtifactSort.CREATED_DESC, limit=1
        )
    assert found, f"no artifact {key}"
    return found[0]


async def test_the_dashboard_flow_publishes_its_figures_and_a_report_chromium_shows_with_its_charts(
    app_env, engine, monkeypatch, prefect_server
):
    from flows.dashboard import tableau_de_bord_national

    with Session(engine) as s:
        seed_national(s, 2023)
        s.commit()
    server = ReportServer(get_settings().resolved_reports_dir, 0).start()
    monkeypatch.setenv("TERRITOIRES_REPORTS_URL", server.url)
    get_settings.cache_clear()
    try:
        published = await tableau_de_bord_national()
        summary, link = await latest("tableau-de-bord-national"), await latest("tableau-de-bord-national-rapport")
        assert "| 44 | 11\u202f000\u202f000\u00a0€ |" in summary.data and server.url in summary.data
        assert (
            link.type == "markdown"
            and f"({published['lien']})" in link.data
            and published["lien"].startswith(server.url)
        )
        screenshot = await asyncio.to_thread(_open_in_chromium, published["lien"], engine.dialect.name)
        in_ui = await asyncio.to_thread(
            _artifact_in_the_prefect_ui,
            f"{prefect_server['ui_url']}/artifacts/artifact/{summary.id}",
            engine.dialect.name,
        )
    finally:
        server.stop()
    assert screenshot.stat().st_size > 20_000 and in_ui.stat().st_size > 20_000


def _artifact_in_the_prefect_ui(url: str, dialect: str) -> Path:
    """The Markdown artifact as an officer sees it in the Prefect UI: its charts shown inline."""
    from playwright.sync_api import sync_playwright

    screenshot = OUTPUT / f"tableau-de-bord-national-prefect-{dialect}.png"
    screenshot.unlink(missing_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1366, "height": 768})
        page.goto(url)
        page.get_by_role("heading", name="Tableau de bord national — 2023").wait_for()
        charts = page.locator("img[src^='data:image/png']")
        page.wait_for_function(
            "Array.from(document.querySelectorAll(\"img[src^='data:image/png']\")).filter(i => i.naturalWidth > "
            "300).length >= 5"
        )
        assert charts.count() >= 5
        page.screenshot(path=str(screenshot), full_page=True)
        browser.close()
    return screenshot


def _open_in_chromium(url: str, dialect: str) -> Path:
    from playwright.sync_api import sync_playwright

    OUTPUT.mkdir(parents=True, exist_ok=True)
    screenshot = OUTPUT / f"tableau-de-bord-national-{dialect}.png"
    screenshot.unlink(missing_ok=True)
    requested = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1366, "height": 768})
        page.on("request", lambda r: requested.append(r.url))
        page.goto(url)
        page.wait_for_selector("#graphiques svg")
        assert page.inner_text("#territoires-engages") == "44"
        assert page.locator("#graphiques svg").count() >= 5
        assert page.evaluate("document.fonts.check('16px Marianne')")
        assert (
            page.evaluate("getComputedStyle(document.querySelector('.td-key')).color") == "rgb(0, 0, 145)"
        )  # bleu France
        page.locator("#graphiques").screenshot(path=str(screenshot))
        browser.close()
    assert [r for r in requested if not r.startswith("data:")] == [url]  # the page alone: nothing else fetched
    return screenshot


async def test_each_departements_follow_up_table_shows_its_open_cases_since_when_and_how_late(
    mail_env, engine, flow_runner
):
    # flow_runner: the platform's deployments exist, as in production, for the bilan steps the daily run starts
    from flows.reminders import relances
    from tasks.reporting import publish_followup

    opened = {"late": datetime.now(PARIS) - timedelta(days=60), "fresh": datetime.now(PARIS)}
    with Session(engine) as s:
        seed_national(s, 2023)  # contracts in 44 départements, two of which are given a live step here
        for n, (ctai_id, when) in enumerate([(1, opened["fresh"]), (2, opened["late"])]):
            s.add(
                StepRun(
                    entity_type="ctai",
                    entity_id=ctai_id,
                    step="bilan",
                    trigger_key=f"t{n}",
                    flow_run_id=f"00000000-0000-0000-0000-00000000000{n}",
                    state=StepRunState.LIVE,
                    awaited_role="instructeur",
                    opened_at=when,
                )
            )
        s.commit()
    published = await publish_followup(today=paris_today())
    assert published["86"] == published["76"] == 1 and published["national"] == 0
    assert len(published) == 45 and sum(published.values()) == 2  # every département of the dataset, and national
    for dep, since in (("86", opened["fresh"]), ("76", opened["late"])):
        table = await latest(f"suivi-{dep}")
        rows = json.loads(table.data) if isinstance(table.data, str) else table.data
        assert rows[0]["Étape"] == "bilan annuel et avenant" and rows[0]["Attendu"] == "agent instructeur"
        assert rows[0]["Depuis le"] == f"{since:%d/%m/%Y}" and rows[0]["Délai (jours ouvrés)"] == "20"
        assert (rows[0]["Retard (jours ouvrés)"] != "—") == (dep == "76")
        assert f"au {paris_today():%d/%m/%Y}" in table.description
    assert "tableaux_de_suivi" in await relances()  # the daily run publishes them (after its recovery sweep)
