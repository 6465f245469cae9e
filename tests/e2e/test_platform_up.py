"""The one-command platform as a newcomer meets it: ``territoires up --demo`` in an empty
directory, a step approved in the real Prefect UI (Debian's Chromium, headless, driven by
Playwright), Ctrl-C, then a second start on the same data.

The tests of this module run in file order and share one platform: each one starts where the
previous one left it, as a person would.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from cli.processes import port_is_free
from tests.conftest import PG_ADMIN_URL, _pg_url
from tests.prefect_servers import migrated_sqlite_home, shared_folder
from tests.up_platform import DEMO_RUNS, POITIERS_RUN, POITIERS_STATUS, TERRITOIRES, Up, demo_started, until

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
OUTPUT = Path(os.environ.get("TERRITOIRES_TEST_OUTPUT", ROOT / "test-output")) / "e2e"
ACTS_2022 = 8  # Poitiers' six associations, Toit du Monde and the city itself (coordination)


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    """With the application database on PostgreSQL. ``territoires up --demo`` on the embedded
    SQLite default, as ``make run`` starts it, is started, checked as here, killed and started
    again by the chaos suite (tests/chaos/test_chaos_up.py): each start costs a minute, and the
    browser drives the same Prefect UI whatever the application's database."""
    database = f"territoires_up_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{database}"'))
    workdir = tmp_path_factory.mktemp("fresh-clone")
    # Prefect's schema is there already (tests/prefect_servers.py); an empty Prefect database is
    # started from by tests/integration/test_first_run.py.
    migrated_sqlite_home(workdir / "var" / "prefect", shared_folder(tmp_path_factory))
    up = Up(workdir, _pg_url(database))
    try:
        up.start()
        yield up
    finally:
        up.shutdown()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()


def test_up_demo_leaves_a_run_waiting_at_every_stage_and_the_codes_in_the_mail_folder(platform):
    demo_started(platform, platform.output())


def test_a_second_terminal_lists_the_waiting_runs_of_the_platform_without_any_prefect_setting(platform):
    """As the README suggests for scripting: another shell, in the same folder, no PREFECT_*
    variable; the command finds the API that ``up`` recorded in ./var/plateforme.json."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "TERRITOIRES_"))}
    if platform.database_url:
        env["TERRITOIRES_DATABASE_URL"] = platform.database_url
    try:
        result = subprocess.run(
            [TERRITOIRES, "approvals", "list", "--json"],
            cwd=platform.workdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
        )
    except subprocess.TimeoutExpired:
        raise AssertionError("approvals list still running after 30 s") from None
    assert result.returncode == 0, result.stdout + result.stderr
    listed = json.loads(result.stdout)
    assert {r["name"] for r in listed if r["etat"] == "en attente"} == DEMO_RUNS
    assert {r["run_id"] for r in listed} == set(platform.suspended_runs().values())
    assert "temporary" not in result.stderr.lower() and "telemetry" not in result.stderr.lower()


def submit(page, form) -> None:
    """Clicks Submit once and waits for the form to close: the Prefect server that ``territoires
    up`` starts takes its SQLite writes in BEGIN IMMEDIATE transactions, so a resume is never
    refused with « database is locked » (cli/prefect_server.py)."""
    form.get_by_role("button", name="Submit").click()
    form.wait_for(state="detached", timeout=30_000)


def test_an_instructeur_approves_the_poitiers_review_in_the_prefect_ui(platform):
    from playwright.sync_api import sync_playwright

    agent = "instructeur.86@prefecture-86.example"
    code = platform.code_for(agent)
    mails_before = len(platform.mails())
    OUTPUT.mkdir(parents=True, exist_ok=True)
    screenshot = OUTPUT / f"formulaire-bilan-poitiers-{platform.engine.dialect.name}.png"
    screenshot.unlink(missing_ok=True)

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
        )
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 768})
            page.set_default_timeout(30_000)
            page.goto(f"{platform.ui}/runs")
            page.get_by_text(POITIERS_RUN).first.wait_for()  # the agent finds the run by its French name
            # … and opens it (by its address: under a loaded machine a click in the list once landed
            # on a page without the run's « Resume »).
            page.goto(f"{platform.ui}/runs/flow-run/{platform.suspended_runs()[POITIERS_RUN]}")
            page.get_by_role("button", name="Resume").click(timeout=90_000)
            form = page.locator(".p-modal__card")
            form.get_by_text("Décision attendue de").wait_for()

            def field(label: str):
                """The field whose title starts with ``label`` (« Décision » also appears inside the
                comment's title, « si la décision l'exige »)."""
                return (
                    form.locator(".schema-form-property")
                    .filter(
                        has=page.locator(
                            ".schema-form-property__label", has_text=re.compile(rf"^\s*{re.escape(label)}")
                        )
                    )
                    .first
                )

            field("Votre courriel professionnel").locator("textarea").fill(agent)
            field("Code d'approbation").locator("textarea").fill(code)
            # Plain fields: no « str | None » switch to open first, no « Property is type "None" » line.
            shown = form.inner_text()
            assert "Property is type" not in shown and "| None" not in shown, shown
            assert (
                form.locator(
                    ".schema-form-property button", has_text=re.compile(r"^\s*(str|int|None|date)\s*$")
                ).count()
                == 0
            )
            assert "(si avenant)" in shown and "à remplir : « Avenant : socle de l'année suivante »" in shown
            field("Commentaire").locator("textarea").fill("Bilan 2021 reçu : les actions sont reconduites en 2022.")
            field("Décision").locator("button.p-select-button__control").click()
            page.keyboard.press("ArrowDown")  # opens the list of choices
            page.locator(".p-select-option", has_text="prolonger les actions").first.click()
            assert field("Décision").locator(".p-select-button__value").inner_text().strip() == "prolonger les actions"
            page.screenshot(path=str(screenshot), full_page=True)
            submit(page, form)
        finally:
            browser.close()
    assert screenshot.stat().st_size > 10_000

    until(lambda: platform.sql(POITIERS_STATUS) == [("active",)], 90, "the contract back to active")
    decisions = platform.sql("select decision, actor_label, comment from decision where step = 'bilan' order by id")
    assert decisions[-1] == ("prolong", agent, "Bilan 2021 reçu : les actions sont reconduites en 2022.")
    told = until(
        lambda: [m for m in platform.mails()[mails_before:] if str(m["To"]) == "integration@collectivite-86.example"],
        60,
        "the decision's email",
    )
    assert "Bilan annuel et avenant\u202f: actions prolongées" in str(told[0]["Subject"])  # French spacing
    assert "Bilan 2021 reçu" in told[0].get_body(("plain",)).get_content()
    assert POITIERS_RUN not in platform.suspended_runs()


def test_ctrl_c_stops_everything_and_a_second_start_picks_up_the_same_data(platform):
    # The prolongation funds 2022: one act per beneficiary of the contract awaits the préfet.
    waiting = until(
        lambda: len(r := platform.suspended_runs()) == len(DEMO_RUNS) - 1 + ACTS_2022 and r,
        180,
        "the demo's runs and the 2022 acts suspended",
    )
    assert {name for name in waiting if not name.startswith("Acte ")} == DEMO_RUNS - {POITIERS_RUN}
    until(
        lambda: (
            len(
                [
                    m
                    for m in platform.mails()
                    if "prefet.86@" in str(m["To"])
                    and "-86-2022-" in str(m["Subject"])
                    and "Décision attendue" in str(m["Subject"])
                ]
            )
            >= ACTS_2022
        ),
        60,
        "the acts' codes mailed",
    )
    until(
        lambda: platform.sql("select count(*) from outbox_message where status <> 'sent'") == [(0,)],
        60,
        "the outbox emptied",
    )
    mails = len(platform.mails())
    decisions = platform.sql("select count(*) from decision")

    assert platform.ctrl_c() == 0
    assert "Plateforme arrêtée" in platform.output()
    assert platform.processes() == []
    assert port_is_free(platform.port) and port_is_free(platform.sink_port)

    restarted = datetime.now(UTC)
    banner = platform.start()
    assert "Démonstration reprise telle qu'elle était" in banner
    # Two polls of every deployment by the new serving process: whatever it would start, the first
    # one has submitted and the second finds it no longer waiting.
    until(lambda: platform.polled_since(restarted), 60, "the deployments polled after the restart")
    again_polled = datetime.now(UTC)
    until(lambda: platform.polled_since(again_polled), 60, "the deployments polled once more")
    assert platform.suspended_runs() == waiting
    assert platform.sql(POITIERS_STATUS) == [("active",)]
    assert platform.sql("select count(*) from decision") == decisions
    # Nothing of the demo's cases is mailed again. An act run caught mid-start by Ctrl-C (PostgreSQL, seen once in
    # two runs) is repaired by the start-up sweep: a new code for that act and the operators' report, nothing else.
    again = [(str(m["To"]), str(m["Subject"])) for m in platform.mails()[mails:]]
    assert all("-86-2022-" in subject or subject.startswith("[REPRISE-") for _, subject in again), again
