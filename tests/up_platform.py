"""``territoires up`` as an operator runs it, in a directory of its own: shared by the browser
test and the chaos suite."""

from __future__ import annotations

import email
import os
import re
import signal
import subprocess
import sys
import urllib.request
from datetime import datetime
from email import policy
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from notifications.sink import _free_port
from tests.waiting import wait_until

TERRITOIRES = str(Path(sys.executable).with_name("territoires"))
CODE = re.compile(r"Code d'approbation\s:\s(\S+)")
POITIERS_RUN = "CTAI Poitiers (86) — bilan annuel et avenant"
DEMO_RUNS = {
    POITIERS_RUN,
    "Délégation des crédits — campagne 2021",
    "PTAI Havre (76) — instruction locale — PTAI-76-2021-00001",
    "PTAI Tours (37) — instruction locale — PTAI-37-2021-00002",
    "PTAI Dijon Métropole (21) — validation par le préfet — PTAI-21-2021-00004",
    "PTAI Clermont Auvergne Métropole (63) — validation par le préfet — PTAI-63-2021-00005",
}
POITIERS_STATUS = "select status from ctai where kind = 'ctai'"  # the demo's CTAIRs stay in force, unreviewed
AWAITED_AGENTS = {
    "instructeur.86@prefecture-86.example",
    "instructeur2.86@prefecture-86.example",
    "instructeur.76@prefecture-76.example",
    "instructeur.37@prefecture-37.example",
    "prefet.21@prefecture-21.example",
    "prefet.63@prefecture-63.example",
    "ministere@interieur.example",
}


def until(check, timeout: float, what: str, every: float = 0.5):
    return wait_until(check, timeout, what, every)


class Up:
    """``territoires up --demo`` in its own directory, on the embedded defaults."""

    def __init__(self, workdir: Path, database_url: str | None):
        self.workdir, self.database_url = workdir, database_url
        self.port, self.sink_port, self.reports_port = (_free_port("127.0.0.1") for _ in range(3))
        self.ui = f"http://127.0.0.1:{self.port}"
        self.mail_dir = workdir / "var" / "mail"
        self.log = workdir / "up.log"
        self.engine = create_engine(database_url or f"sqlite:///{workdir / 'var' / 'territoires.db'}")
        self.proc: subprocess.Popen | None = None

    def start(self) -> str:
        """Starts it and returns what it printed once ready."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TERRITOIRES_", "PREFECT_"))}
        env["TERRITOIRES_MAIL_SINK_PORT"] = str(self.sink_port)
        env["TERRITOIRES_REPORTS_PORT"] = str(self.reports_port)
        if self.database_url:
            env["TERRITOIRES_DATABASE_URL"] = self.database_url
        offset = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as out:
            # Its own process group, so that Ctrl-C can be sent as a terminal sends it.
            self.proc = subprocess.Popen(
                [TERRITOIRES, "up", "--demo", "--port", str(self.port)],
                cwd=self.workdir,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

        def ready():
            assert self.proc.poll() is None, f"territoires up exited:\n{self.output(offset)}"
            return "Ctrl-C pour tout arrêter" in self.output(offset)

        until(ready, 240, "territoires up ready")
        return self.output(offset)

    def output(self, offset: int = 0) -> str:
        return self.log.read_bytes()[offset:].decode("utf-8", errors="replace")

    def ctrl_c(self) -> int:
        os.killpg(self.proc.pid, signal.SIGINT)
        return self.proc.wait(timeout=90)

    def shutdown(self) -> None:
        """Ctrl-C if it still runs, SIGKILL to whatever is left in its directory."""
        if self.proc is not None and self.proc.poll() is None:
            self.ctrl_c()
        for pid in self.processes():
            os.kill(pid, signal.SIGKILL)
        self.engine.dispose()

    def processes(self) -> list[int]:
        """Every process still running in this platform's directory (its children inherit it)."""
        found = []
        for entry in Path("/proc").iterdir():
            try:
                if entry.name.isdigit() and Path(os.readlink(entry / "cwd")) == self.workdir:
                    found.append(int(entry.name))
            except OSError:
                continue
        return found

    def suspended_runs(self) -> dict[str, str]:
        body = {"flow_runs": {"state": {"type": {"any_": ["PAUSED"]}}}}
        runs = httpx.post(f"{self.ui}/api/flow_runs/filter", json=body, timeout=10).json()
        return {r["name"]: r["id"] for r in runs if r["state"]["name"] == "Suspended"}

    def polled_since(self, moment: datetime) -> bool:
        """Every deployment has been polled by the serving process since ``moment`` (aware)."""
        found = httpx.post(f"{self.ui}/api/deployments/filter", json={}, timeout=10).json()
        return bool(found) and all(
            d["last_polled"] and datetime.fromisoformat(d["last_polled"].replace("Z", "+00:00")) > moment for d in found
        )

    def mails(self) -> list[email.message.EmailMessage]:
        return [
            email.message_from_bytes(p.read_bytes(), policy=policy.default) for p in sorted(self.mail_dir.glob("*.eml"))
        ]

    def code_for(self, agent: str) -> str:
        codes = [
            CODE.search(m.get_body(("plain",)).get_content()).group(1)
            for m in self.mails()
            if agent in str(m["To"]) and "Décision attendue" in str(m["Subject"])
        ]
        assert codes, f"no approval code for {agent}"
        return codes[-1]

    def sql(self, query: str) -> list:
        with self.engine.connect() as conn:
            return conn.execute(text(query)).all()


def demo_started(up: Up, banner: str) -> None:
    """What ``territoires up --demo`` shows once ready, as a newcomer meets it: the banner's
    addresses, the national dashboard served, a run waiting at every stage of the demo, and an
    approval code in the mail folder for every awaited agent."""
    assert f"Interface Prefect : {up.ui}" in banner
    assert str(up.mail_dir) in banner
    assert f"Base de données : {up.engine.dialect.name}" in banner
    dashboard = f"http://127.0.0.1:{up.reports_port}/tableau-de-bord-national.html"
    assert f"Tableau de bord national : {dashboard}" in banner
    with urllib.request.urlopen(dashboard, timeout=10) as page:  # served from the start, the demo's figures in it
        assert page.status == 200 and "Tableau de bord national — 2021" in page.read().decode("utf-8")

    runs = until(
        lambda: (r := up.suspended_runs()) and set(r) == DEMO_RUNS and r,
        120,
        "the demo's runs suspended on their forms",
    )
    assert set(runs) == DEMO_RUNS
    assert up.sql(POITIERS_STATUS) == [("yearly_review",)]
    stages = dict(up.sql("select status, count(*) from ptai_request group by status"))
    assert stages == {"submitted": 2, "awaiting_applicant": 1, "prefet_validation": 2, "in_batch": 2}
    assert up.sql("select status, requests_count from delegation_batch") == [("awaiting", 2)]

    recipients = until(
        lambda: (
            AWAITED_AGENTS <= (got := {str(m["To"]) for m in up.mails() if "Décision attendue" in str(m["Subject"])})
            and got
        ),
        60,
        "an approval code for every awaited agent",
    )
    assert recipients == AWAITED_AGENTS
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}", up.code_for("instructeur.86@prefecture-86.example"))
