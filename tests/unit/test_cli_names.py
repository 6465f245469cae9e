"""One tool, one language: every command has a French name; each former English name still runs
the same command (scripts keep working) and is hidden from the help."""

import re

import pytest
from typer.testing import CliRunner

from cli.main import BY_NAME, GROUPS, app

# (French group, French command), (former group, former command): the same command.
RENAMED = [
    (("donnees", "migrer"), ("db", "upgrade")),
    (("donnees", "droits"), ("db", "grants")),
    (("charger", "reference"), ("seed", "reference")),
    (("agent", "ajouter"), ("agent", "add")),
    (("agent", "liste"), ("agent", "list")),
    (("collectivite", "ajouter"), ("collectivite", "add")),
    (("porteur", "liste"), ("porteur", "list")),
    (("ptai", "deposer"), ("ptai", "submit")),
    (("ptai", "voir"), ("ptai", "show")),
    (("ptai", "completer"), ("ptai", "complete")),
    (("ptai", "reprendre"), ("ptai", "resume")),
    (("ctai", "lancer"), ("ctai", "start")),
    (("ctai", "proposer"), ("ctai", "propose")),
    (("ctai", "retravailler"), ("ctai", "rework")),
    (("ctai", "enregistrer-ctair"), ("ctai", "register-ctair")),
    (("ctai", "ouvrir-bilan"), ("ctai", "review")),
    (("ctai", "voir"), ("ctai", "show")),
    (("ctai", "liste"), ("ctai", "list")),
    (("comite", "planifier"), ("comite", "start")),
    (("comite", "ouvrir"), ("comite", "open")),
    (("approbations", "liste"), ("approvals", "list")),
    (("approbations", "decider"), ("approvals", "decide")),
    (("approbations", "debloquer"), ("approvals", "unlock")),
    (("etapes", "reparer"), ("steps", "repair")),
    (("enveloppe", "fixer"), ("envelope", "set")),
    (("delegation", "lancer"), ("delegation", "run")),
    (("delegation", "exporter"), ("delegation", "export")),
    (("acte", "voir"), ("actes", "show")),
    (("acte", "liste"), ("actes", "list")),
    (("paiements", "ajouter"), ("paiements", "add")),
    (("crf", "voir"), ("crf", "show")),
    (("relances", "lancer"), ("reminders", "run")),
    (("courriels", "apercu"), ("mail", "preview")),
    (("courriels", "envoyer"), ("mail", "send")),
    (("courriels", "etat"), ("mail", "status")),
    (("audit", "verifier"), ("audit", "verify")),
    (("audit", "publier"), ("audit", "publish")),
]
ENGLISH_WORDS = re.compile(r"^\s*│\s+(list|show|add|start|run|set|send|status|verify|repair|preview)\s", re.M)


def _help(*args: str) -> str:
    result = CliRunner().invoke(app, [*args, "--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    return result.stdout


def test_the_root_help_lists_each_command_once_by_its_french_name():
    out = _help()
    for entry in GROUPS:
        assert re.search(rf"│ {re.escape(entry.name)}\s", out), entry.name
        for alias in entry.aliases:
            assert not re.search(rf"│ {re.escape(alias)}\s", out), alias


@pytest.mark.parametrize("french, former", RENAMED, ids=lambda names: " ".join(names))
def test_a_former_english_name_runs_the_same_command_and_is_hidden(french, former):
    new, old = _help(*french), _help(*former)
    assert new.split("\n", 3)[3] == old.split("\n", 3)[3]  # the same help, past the usage line
    assert not re.search(rf"│\s+{re.escape(former[1])}\s", _help(former[0])) or former[1] == french[1]


def test_no_group_shows_an_english_command_name():
    for name in {entry.name for entry in GROUPS} - {"tableau-de-bord", "puits-smtp", "up", "servir"}:
        assert ENGLISH_WORDS.findall(_help(name)) == [], name


def test_one_of_acte_and_actes_is_shown_and_both_run():
    assert BY_NAME["acte"] is BY_NAME["actes"]
    assert "│ acte " in _help() and "│ actes " not in _help()
