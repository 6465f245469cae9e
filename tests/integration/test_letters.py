"""Every email of every event, as the platform sends it (``territoires mail preview``: the demo's
cases driven through their steps, the queue delivered by the sender through SMTP to a local sink),
and every approval form's text, read as a préfecture would before signing them.

The previews are kept under ``test-output/apercus`` to be read by a person."""

from __future__ import annotations

import importlib
import inspect
import json
import os
import pkgutil
import re
import shutil
from email import message_from_bytes, policy
from enum import StrEnum
from pathlib import Path

import pytest

import models
from models.reference import _departement_rows, departement_avec_article, departement_de
from notifications.events import EVENTS
from services.cases import KINDS
from tests.cli import run

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = Path(os.environ.get("TERRITOIRES_TEST_OUTPUT", ROOT / "test-output")) / "apercus"


@pytest.fixture(scope="module")
def sent(tmp_path_factory) -> tuple[Path, list[dict]]:
    """``territoires mail preview all``, as an operator runs it."""
    out = tmp_path_factory.mktemp("apercus")
    result = run("mail", "preview", "all", "--to-dir", str(out), "--json")
    assert result.exit_code == 0, result.output
    written = json.loads(result.stdout)
    assert all(
        (out / w["fichier"]).with_suffix(".html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
        for w in written
    )
    shutil.rmtree(OUTPUT, ignore_errors=True)
    shutil.copytree(out, OUTPUT)
    return out, written


def _messages(sent) -> list[tuple[dict, str, str]]:
    """(what was sent, subject, plain text) of each message received by the sink."""
    out, written = sent
    found = []
    for w in written:
        message = message_from_bytes((out / w["fichier"]).read_bytes(), policy=policy.default)
        found.append((w, str(message["Subject"]), message.get_body(("plain",)).get_content()))
    return found


def _forms(sent) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted((sent[0] / "formulaires").glob("*.md"))}


# --- what counts as a raw code -------------------------------------------------------------------


def _french_words() -> set[str]:
    """Every word of the French labels the models give their codes (a code that is itself a French
    word, « convention », « logement », may appear in a sentence)."""
    texts = [d.wording for kind in KINDS.values() for step in kind.steps.values() for d in step.decisions]
    for info in pkgutil.iter_modules(models.__path__):
        module = importlib.import_module(f"models.{info.name}")
        for name, value in vars(module).items():
            if name.endswith("LABELS") and isinstance(value, dict):
                texts += [v for v in value.values() if isinstance(v, str)]
    return {w.lower() for t in texts for w in re.findall(r"[\wÀ-ÿ-]+", t)}


def raw_codes() -> set[str]:
    """The stable codes of the enumerations, steps and decisions that are not French words."""
    codes = {str(d.code) for kind in KINDS.values() for step in kind.steps.values() for d in step.decisions}
    codes |= {step for kind in KINDS.values() for step in kind.steps}
    for info in pkgutil.iter_modules(models.__path__):
        module = importlib.import_module(f"models.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, StrEnum) and cls.__module__ == module.__name__:
                codes |= {m.value for m in cls}
    french = _french_words() | FRENCH_CODES
    return {c for c in codes if "_" in c or c.lower() not in french}


# Codes that are French words no label happens to use.
FRENCH_CODES = {"arbitrage", "aucune", "fonctionnement"}


def codes_in(text: str, codes: set[str]) -> list[str]:
    return sorted(c for c in codes if re.search(rf"(?<![\w.@/\\-]){re.escape(c)}(?![\w.@/\\-])", text))


# --- the rules each text must follow ---------------------------------------------------------------

INCLUSIVE = re.compile(r"\w\((?:s|e|es|x)\)")
COMMAND = re.compile(r"\bterritoires [a-z]|«\s?Resume\s?»|\bResume\b")
RECOURSE = "Voies et délais de recours"


COMMON_WORDS = {"Lot", "Cher", "Nord", "Somme", "Manche"}


def departements_without_article(text: str) -> list[str]:
    """Each département named without its article (« pour Isère (38) »; « l'Isère » and « de
    l'Isère » are right). A name inside another (« Loire » in « Indre-et-Loire ») is not one."""
    wrong = []
    for code, row in _departement_rows().items():
        name, expected = row["nom"], departement_avec_article(code, row["nom"])
        if expected == name:
            continue  # « Paris », « La Réunion »: no article to add
        right = (expected, departement_de(code, name))  # « la Vienne », « de la Vienne », « du Rhône »
        # A name that is also a common word (« Lot de délégation ») counts only with its number: « Lot (46) ».
        tail = r"\s*\(\d" if name in COMMON_WORDS else ""
        for m in re.finditer(rf"(?<![\w'-]){re.escape(name)}(?![\w-]){tail}", text):
            if not text[: m.start() + len(name)].endswith(right):
                wrong.append(f"{name} : « …{text[max(0, m.start() - 30) : m.end()]} »")
    return wrong


def unfavourable_labels() -> set[str]:
    """The French label of each decision that goes against the party it is sent to."""
    labels = set()
    for kind in KINDS.values():
        for step in kind.steps.values():
            labels |= {kind.machine.transition(step.status, d.code).label for d in step.decisions if d.unfavourable}
    return labels


# --- the tests ---------------------------------------------------------------------------------------


def test_the_previews_hold_every_event_the_platform_sends(sent):
    assert {w["evenement"] for w in sent[1]} == set(EVENTS)


def test_no_email_shows_a_raw_code_or_an_inclusive_abbreviation(sent):
    codes = raw_codes()
    assert {"primo_arrivants", "revue_diair", "arrete", "prefet"} <= codes  # what the check looks for
    problems = []
    for w, subject, text in _messages(sent):
        found = codes_in(f"{subject}\n{text}", codes) + INCLUSIVE.findall(f"{subject}\n{text}")
        if found:
            problems.append((w["fichier"], found))
    assert problems == []


def test_letters_to_collectivites_and_associations_never_ask_for_a_command_or_the_prefect_ui(sent):
    letters = [(w, text) for w, _, text in _messages(sent) if w["registre"] == "lettre"]
    assert len(letters) > 20
    assert [(w["fichier"], COMMAND.findall(text)) for w, text in letters if COMMAND.search(text)] == []


def test_agents_receive_service_notices_and_externals_letters(sent):
    for w, _, text in _messages(sent):
        agent = "@prefecture-" in w["destinataire"] or w["destinataire"].endswith("@interieur.example")
        assert w["registre"] == ("avis" if agent else "lettre"), w
        if agent:
            assert "Madame" not in text and "salutations" not in text, w["fichier"]
        else:
            assert "Je vous prie d'agréer" in text and (
                "Pour le préfet et par délégation," in text or "Le préfet " in text or "Pour le ministre" in text
            ), w


def test_every_unfavourable_decision_gives_the_voies_et_delais_de_recours(sent):
    labels = unfavourable_labels()
    unfavourable = [
        (w, text)
        for w, subject, text in _messages(sent)
        if w["registre"] == "lettre"
        and (
            w["evenement"] in {"request_closed", "request_refused_ministry"}
            or w["evenement"] == "step_decided"
            and any(subject.endswith(f": {label}") or f": {label}." in text for label in labels)
        )
    ]
    assert {w["evenement"] for w, _ in unfavourable} >= {"request_closed", "request_refused_ministry", "step_decided"}
    assert [w["fichier"] for w, text in unfavourable if RECOURSE not in text] == []


def test_a_favourable_letter_carries_no_recourse_clause(sent):
    favourable = [
        text
        for w, subject, text in _messages(sent)
        if w["evenement"] == "step_decided" and w["registre"] == "lettre" and "avis favorable" in subject
    ]
    assert favourable and all(RECOURSE not in text for text in favourable)


def test_every_departement_is_named_with_its_article(sent):
    problems = [
        (w["fichier"], departements_without_article(f"{subject}\n{text}")) for w, subject, text in _messages(sent)
    ]
    assert [p for p in problems if p[1]] == []


def test_the_checks_find_what_they_look_for():
    """The rules themselves can fail: each is shown a text that breaks it."""
    assert departements_without_article("Délégation de crédits pour Isère (38)")
    assert not departements_without_article(
        "pour l'Isère, la préfecture de l'Indre-et-Loire, du Rhône, Lot de délégation"
    )
    assert departements_without_article("Cahors, Lot (46)")
    assert codes_in("public : primo_arrivants, acte : arrete", raw_codes()) == ["arrete", "primo_arrivants"]
    assert INCLUSIVE.findall("1 demande(s), informé(e)")
    assert COMMAND.search("Transmettre le budget (territoires ptai complete).")


def test_every_approval_form_text_is_free_of_codes_and_names_each_departement_with_its_article(sent):
    forms = _forms(sent)
    assert {f"{e}-{s}.md" for e, kind in KINDS.items() for s in kind.steps} <= set(forms)
    codes = raw_codes()
    problems = {
        name: codes_in(text, codes) + INCLUSIVE.findall(text) + departements_without_article(text)
        for name, text in forms.items()
    }
    assert {name: p for name, p in problems.items() if p} == {}


def test_the_forms_list_for_each_decision_the_fields_it_needs(sent):
    forms = _forms(sent)
    assert "**rejeter la demande** : " in forms["ptai-validation.md"]
    assert "à remplir : « Commentaire ou motif »" in forms["ptai-validation.md"]
    assert (
        "à remplir : « Date de signature par le préfet », « Date de signature par l'élu »" in forms["ctai-signature.md"]
    )
    assert "✅ **R14** porteur : comptes rendus financiers à jour" in forms["ptai-validation.md"]
