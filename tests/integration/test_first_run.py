"""The first run as a newcomer meets it: ``territoires up --demo`` in an empty directory, on the
embedded defaults (SQLite, local mail sink), as ``make run`` starts it.

It says what it is doing before anything slow (its first line comes before Prefect's import), it
says « prêt » only once the walk-through can start (the demo's runs wait on their forms and their
emails are in the mail folder), the start sends the operators no repair report, and ``audit
verify`` finds a published head at once.
"""

from __future__ import annotations

import email
import os
import re
import subprocess
import sys
from email import policy

import pytest

from tests.up_platform import TERRITOIRES, Up, until

READY = "Ctrl-C pour tout arrêter"
STAGES = [
    "Démarrage de Territoires",
    "Migration de la base…",
    "Démarrage du serveur Prefect sur",
    "Chargement de la démonstration",
    "Tableau de bord national…",
    "Démarrage des déploiements",
    "Démonstration : lancement des exécutions",
    "Contrôle des étapes interrompues…",
    "Publication de la tête de la piste d'audit…",
    "Envoi des courriels",
    "Territoires est prêt.",
]
# Who the demo's waiting steps mail a code to (the batch's to the ministry).
AWAITED_AGENTS = {
    "instructeur.86@prefecture-86.example",
    "instructeur2.86@prefecture-86.example",
    "instructeur.76@prefecture-76.example",
    "instructeur.37@prefecture-37.example",
    "prefet.21@prefecture-21.example",
    "prefet.63@prefecture-63.example",
    "ministere@interieur.example",
}
IMPORT_LINE = "import time:"
PREFECT_IMPORTED = re.compile(r"^import time:.*\|\s+prefect(\.|\s*$)")


class FirstRun(Up):
    """``territoires up --demo`` run by ``python -X importtime``: the interpreter writes a line on
    its stderr as each module's import ends, into the same file as what ``up`` prints, so the
    file shows whether the first line came before Prefect was imported."""

    def start(self) -> str:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TERRITOIRES_", "PREFECT_"))}
        env.pop("PYTHONPROFILEIMPORTTIME", None)  # only ``up`` itself, not the processes it starts
        env["TERRITOIRES_MAIL_SINK_PORT"] = str(self.sink_port)
        env["TERRITOIRES_REPORTS_PORT"] = str(self.reports_port)
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-X", "importtime", TERRITOIRES, "up", "--demo", "--port", str(self.port)],
                cwd=self.workdir,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C sent to its group, as a terminal sends it
            )

        def ready():
            assert self.proc.poll() is None, f"territoires up exited:\n{self.said()}"
            return READY in self.output()

        until(ready, 420, "territoires up ready")
        return self.said()

    def said(self) -> str:
        """What ``up`` printed, without the interpreter's import lines."""
        return "\n".join(line for line in self.output().splitlines() if not line.startswith(IMPORT_LINE))


@pytest.fixture
def platform(tmp_path):
    up = FirstRun(tmp_path, None)
    try:
        yield up
    finally:
        up.shutdown()


def test_a_fresh_up_demo_speaks_at_once_is_ready_once_its_emails_are_out_and_reports_no_repair(platform):
    banner = platform.start()
    ready_at = platform.log.stat().st_mtime  # the banner is the last thing written before Ctrl-C

    # Its first line comes before Prefect's import (seconds of CPU): a newcomer is never left in silence.
    lines = platform.output().splitlines()
    first = next(i for i, line in enumerate(lines) if line.strip() and not line.startswith(IMPORT_LINE))
    prefect = next(i for i, line in enumerate(lines) if PREFECT_IMPORTED.match(line))
    assert lines[first].startswith("Démarrage de Territoires") and first < prefect, lines[first]
    # Each stage is said as it starts, in order.
    positions = [banner.find(stage) for stage in STAGES]
    assert -1 not in positions and positions == sorted(positions), dict(zip(STAGES, positions, strict=True))

    # « prêt » once the walk-through can start: the demo's six runs wait on their forms, every awaited
    # agent's code is in the mail folder (written before the banner), and nothing is left to send.
    assert len(platform.suspended_runs()) == 6
    codes = {}  # each awaited agent's code email: when it was written
    for path in sorted(platform.mail_dir.glob("*.eml")):
        mail = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        if "Décision attendue" in str(mail["Subject"]):
            codes[str(mail["To"])] = path.stat().st_mtime
    assert set(codes) == AWAITED_AGENTS
    assert max(codes.values()) <= ready_at
    assert platform.sql("select count(*) from outbox_message where status != 'sent'") == [(0,)]

    # No repair report: the demo's waiting cases were not interrupted steps.
    assert not [m for m in platform.mails() if "Reprise" in str(m["Subject"])]
    assert platform.sql("select count(*) from outbox_message where event = 'steps_repaired'") == [(0,)]
    assert "ObjectNotFound" not in banner and "Attention" not in banner

    # The audit trail's head is published at start: « audit verify » compares it at once.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TERRITOIRES_", "PREFECT_"))}
    verified = subprocess.run(
        [TERRITOIRES, "audit", "verify"], cwd=platform.workdir, env=env, capture_output=True, text=True, timeout=120
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "Piste d'audit intègre" in verified.stdout and "1 tête publiée retrouvée" in verified.stdout

    assert platform.ctrl_c() == 0
    assert "Plateforme arrêtée" in platform.said()
    assert platform.processes() == []
