"""``territoires --help`` and a usage error print French only."""

import re
import subprocess
import sys
from pathlib import Path

TERRITOIRES = str(Path(sys.executable).with_name("territoires"))
ENGLISH = re.compile(
    r"Usage:|Show this message|Commands\b|\bError\b|\[default|\[required\]|\bTry\b|<text>|<integer>|"
    r"<bool>|<int range>|install-completion|Missing|No such|Got unexpected|\bArgs\b"
)


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [TERRITOIRES, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "120", "TERRITOIRES_DATA_DIR": "/nonexistent"},
    )


def test_the_top_level_help_is_french_only():
    result = _run("--help")
    assert result.returncode == 0
    out = result.stdout + result.stderr
    assert (
        "Utilisation : territoires [OPTIONS] COMMANDE [ARGUMENTS]..." in out and "Affiche cette aide et quitte." in out
    )
    assert "Commandes" in out and ENGLISH.findall(out) == []


def test_a_command_help_shows_french_types_defaults_and_ranges():
    out = _run("ctai", "start", "--help").stdout
    assert "<entier>" in out and "[de 1 à 2147483647]" in out and "[obligatoire]" in out and "[par défaut" in out
    assert ENGLISH.findall(out) == []


def test_a_usage_error_is_french_with_a_stable_code():
    for args, code in (
        (("ctai", "start", "--nope"), "USAGE_OPTION_INCONNUE"),
        (("ctai", "inconnue"), "USAGE_COMMANDE_INCONNUE"),
        (("ctai", "start"), "USAGE_PARAMETRE_MANQUANT"),
    ):
        result = _run(*args)
        out = result.stdout + result.stderr
        assert result.returncode == 2 and code in out and ENGLISH.findall(out) == [], out
