"""Chaos on the supervisor: ``territoires up --demo`` killed with SIGKILL alone (not its
children), as an operator's terminal or an out-of-memory killer would, then started again.
Its children must die with it, the new start must not meet them, and the demo's waiting steps
must still be answerable. On the embedded defaults (SQLite), as ``make run`` starts it; the
application database plays no part in how processes die."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections import Counter
from uuid import UUID

import pytest
from prefect.flow_runs import aresume_flow_run
from prefect.settings import PREFECT_API_URL, temporary_settings

from cli.processes import port_is_free
from notifications.sink import _free_port
from tests.chaos.conftest import report
from tests.prefect_servers import migrated_sqlite_home, shared_folder
from tests.up_platform import TERRITOIRES, Up, demo_started, until

pytestmark = pytest.mark.chaos
POITIERS_RUN = "CTAI Poitiers (86) — bilan annuel et avenant"
AGENT = "instructeur.86@prefecture-86.example"
# The contract's decisions (the prolongation also draws up the acts of 2022, each its own case).
CONTRACT_DECISIONS = "select count(*) from decision where entity_type = 'ctai'"
POITIERS_STATUS = "select status from ctai where kind = 'ctai'"  # the demo's CTAIRs stay in force, unreviewed


@pytest.fixture
def up(tmp_path, tmp_path_factory):
    # Prefect's schema is there already (tests/prefect_servers.py): what is tested is the kill.
    migrated_sqlite_home(tmp_path / "var" / "prefect", shared_folder(tmp_path_factory))
    platform = Up(tmp_path, None)
    try:
        yield platform
    finally:
        platform.shutdown()


async def test_killing_territoires_up_alone_leaves_no_orphan_and_a_new_start_serves_the_same_steps(up):
    demo_started(up, up.start())  # as a newcomer meets it on the embedded defaults (tests/e2e: on PostgreSQL)
    waiting = until(lambda: len(r := up.suspended_runs()) == 6 and r, 120, "the demo's six runs suspended")
    until(
        lambda: any("Décision attendue" in str(m["Subject"]) and AGENT in str(m["To"]) for m in up.mails()),
        60,
        "the Poitiers approval code mailed",
    )
    mails, decisions = len(up.mails()), up.sql(CONTRACT_DECISIONS)[0][0]
    first = set(up.processes())
    assert len(first) >= 4  # up, Prefect server, mail sink, serve

    env = {k: v for k, v in os.environ.items() if not k.startswith(("TERRITOIRES_", "PREFECT_"))}
    beside = subprocess.run(
        [TERRITOIRES, "up", "--port", str(_free_port("127.0.0.1"))],
        cwd=up.workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert beside.returncode != 0 and "PLATEFORME_DEJA_DEMARREE" in beside.stdout + beside.stderr

    up.proc.send_signal(signal.SIGKILL)  # the supervisor alone
    up.proc.wait(timeout=10)
    until(
        lambda: not set(up.processes()) & first,
        30,
        lambda: f"orphans of the killed supervisor: {[_command(pid) for pid in set(up.processes()) & first]}",
        every=0.2,
    )

    restarted = time.monotonic()
    banner = up.start()
    assert "Démonstration reprise telle qu'elle était" in banner
    back = until(lambda: (r := up.suspended_runs()) == waiting and r, 60, "the same runs waiting again")
    within = time.monotonic() - restarted  # reported, not asserted: the bounds above are the test
    resent = len(up.mails()) - mails  # the new start must mail nothing again

    with temporary_settings(updates={PREFECT_API_URL: f"{up.ui}/api"}):
        await aresume_flow_run(
            UUID(back[POITIERS_RUN]),
            run_input={
                "agent_email": AGENT,
                "approval_code": up.code_for(AGENT),
                "decision": "prolonger les actions",
                "comment": "Bilan reçu après la reprise de la plateforme.",
            },
        )
    until(lambda: up.sql(POITIERS_STATUS) == [("active",)], 90, "the Poitiers contract back to active")
    told = until(
        lambda: [m for m in up.mails()[mails:] if "integration@collectivite-86.example" in str(m["To"])],
        60,
        "the collectivité told of the decision",
    )

    lost = len(set(waiting.values()) - set(back.values()))
    copies = Counter((str(m["To"]), str(m["Subject"]), m.get_body(("plain",)).get_content()) for m in up.mails())
    duplicated = (
        resent
        + (up.sql(CONTRACT_DECISIONS)[0][0] - decisions - 1)
        + sum(n - 1 for n in copies.values())
        + len(told)
        - 1
    )
    report(f"kill -9 de territoires up seul, de retour en {within:.0f} s", lost, duplicated, database="sqlite")
    assert (lost, duplicated) == (0, 0)
    assert up.ctrl_c() == 0 and up.processes() == []
    assert "Plateforme arrêtée" in up.output()
    assert port_is_free(up.port) and port_is_free(up.sink_port)


def _command(pid: int) -> str:
    try:
        return f"{pid}: " + open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return str(pid)
