"""``territoires up`` as an operator runs it, in a directory of its own: shared by the browser
test and the chaos suite."""

from __future__ import annotations

import email
import os
import re
import signal
import subprocess
import sys
import time
from email import policy
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from notifications.sink import _free_port

TERRITOIRES = str(Path(sys.executable).with_name("territoires"))
CODE = re.compile(r"Code d'approbation\s:\s(\S+)")


def until(check, timeout: float, what: str, every: float = 0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"{what}: not within {timeout:.0f} s")


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
