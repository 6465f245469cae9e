"""Commands that cannot hurt, tried as a hostile user would: an output path never overwrites a
file the command did not write, every filter of every list is checked as ``ctai liste``'s are,
every date typed has bounds, and no bad value ends in a traceback. Each refusal exits 2 with a
stable code and stores nothing. On both databases."""

import json
import sqlite3
from pathlib import Path

import pytest

from tests.cli import run_main
from tests.integration.test_hostile_inputs import (
    _codes,
    _rows,
    platform_data,  # noqa: F401 - the fixture, found by its name
)

BAD_DEPARTEMENT = "ZZ' OR 1=1--"


@pytest.fixture
def data(platform_data):  # noqa: F811 - the fixture imported above
    """The example's collectivité, a ministry officer, an instructeur, one request filed."""
    return platform_data


def _refused(args: tuple[str, ...], code: str) -> str:
    status, out, err = run_main(*args)
    assert status == 2 and "Traceback" not in out + err, out + err
    assert code in _codes(out, err), out + err
    return out + err


# --- output paths --------------------------------------------------------------------------------


def test_the_dashboard_never_writes_its_page_over_the_database(data, tmp_path):
    if data.startswith("sqlite"):
        target = Path(data.removeprefix("sqlite:///"))  # the database itself
    else:  # PostgreSQL has no file: any file the command did not write
        target = tmp_path / "territoires.db"
        target.write_bytes(b"SQLite format 3\x00" + bytes(100))
    before = target.read_bytes()
    _refused(("tableau-de-bord", "--html", str(target)), "FICHIER_EXISTANT")
    assert target.read_bytes() == before
    if data.startswith("sqlite"):
        assert sqlite3.connect(target).execute("SELECT count(*) FROM departement").fetchone()[0] == 101


def test_the_dashboard_writes_a_new_page_and_replaces_only_its_own(data, tmp_path):
    page = tmp_path / "page.html"
    assert run_main("tableau-de-bord", "--html", str(page))[0] == 0
    assert b'name="generator" content="territoires tableau-de-bord"' in page.read_bytes()
    assert run_main("tableau-de-bord", "--html", str(page))[0] == 0  # its own page: replaced
    other = tmp_path / "notes.html"
    other.write_text("<html>mes notes</html>", encoding="utf-8")
    _refused(("tableau-de-bord", "--html", str(other)), "FICHIER_EXISTANT")
    assert other.read_text(encoding="utf-8") == "<html>mes notes</html>"
    _refused(("tableau-de-bord", "--html", str(tmp_path)), "CHEMIN_INVALIDE")
    _refused(("tableau-de-bord", "--html", str(tmp_path / "absent" / "page.html")), "DOSSIER_INTROUVABLE")


@pytest.mark.parametrize("name", ["courriels", "mail"])
def test_the_email_previews_never_go_into_a_file_or_someone_elses_folder(data, tmp_path, name):
    a_file = tmp_path / "existant.txt"
    a_file.write_text("à garder", encoding="utf-8")
    _refused((name, "apercu" if name == "courriels" else "preview", "all", "--to-dir", str(a_file)), "FICHIER_EXISTANT")
    folder = tmp_path / "dossier"
    folder.mkdir()
    (folder / "rapport.txt").write_text("à garder", encoding="utf-8")
    _refused((name, "apercu" if name == "courriels" else "preview", "all", "--to-dir", str(folder)), "FICHIER_EXISTANT")
    assert a_file.read_text(encoding="utf-8") == (folder / "rapport.txt").read_text(encoding="utf-8") == "à garder"


@pytest.mark.parametrize(
    "args",
    [
        ("export", "scdl", "--year", "2021", "--out"),
        ("delegation", "export", "1", "--out"),
        ("ptai", "schema", "--out"),
    ],
    ids=lambda a: " ".join(a[:2]),
)
def test_an_export_never_overwrites_an_existing_file(data, tmp_path, args):
    existing = tmp_path / "existant.csv"
    existing.write_text("à garder", encoding="utf-8")
    _refused((*args, str(existing)), "FICHIER_EXISTANT")
    assert existing.read_text(encoding="utf-8") == "à garder"


def test_an_export_writes_a_new_file(data, tmp_path):
    target = tmp_path / "schema.json"
    assert run_main("ptai", "schema", "--sortie", str(target))[0] == 0
    assert json.loads(target.read_text(encoding="utf-8"))["title"]


def test_the_mail_sink_refuses_a_file_as_its_folder(data, tmp_path):
    a_file = tmp_path / "existant.txt"
    a_file.write_text("à garder", encoding="utf-8")
    _refused(("puits-smtp", "--port", "1999", "--dir", str(a_file)), "FICHIER_EXISTANT")


# --- the filters of every list -------------------------------------------------------------------

LISTS = [
    ("ctai", "liste"),
    ("ptai", "liste"),
    ("lots", "liste"),
    ("acte", "liste"),
    ("actes", "list"),
    ("paiements", "liste"),
    ("crf", "liste"),
    ("approbations", "liste"),
]


@pytest.mark.parametrize("command", LISTS, ids=" ".join)
def test_every_list_refuses_an_unknown_departement_instead_of_listing_nothing(data, command):
    out = _refused((*command, "--departement", BAD_DEPARTEMENT), "DEPARTEMENT_INCONNU")
    assert "[]" not in out


@pytest.mark.parametrize("command", LISTS, ids=" ".join)
def test_every_list_answers_in_json_with_the_code_of_a_bad_filter(data, command):
    status, out, _ = run_main(*command, "--departement", "999", "--json")
    assert status == 2 and [e["code"] for e in json.loads(out)["erreurs"]] == ["DEPARTEMENT_INCONNU"]


@pytest.mark.parametrize("command", [c for c in LISTS if c[0] != "approbations"], ids=" ".join)
def test_every_list_refuses_a_year_outside_the_campaigns(data, command):
    _refused((*command, "--annee", "1999"), "USAGE_VALEUR_INVALIDE")


def test_the_waiting_runs_refuse_an_unknown_role(data):
    _refused(("approbations", "liste", "--role", "chef"), "ATTENDU_INCONNU")


def test_a_list_with_a_known_departement_still_lists(data):
    status, out, err = run_main("paiements", "liste", "--departement", "76", "--json")
    assert status == 0 and json.loads(out) == [], err


# --- every date typed has bounds -----------------------------------------------------------------

DATES = {
    "a CTAIR signed in 2099": (
        ("ctai", "enregistrer-ctair", "--collectivite", "1", "--signature-date", "2099-01-01", "/dev/null"),
        "DATE_HORS_BORNES",
    ),
    "a CTAIR signed before the programme": (
        ("ctai", "register-ctair", "--collectivite", "1", "--signature-date", "2018-12-31", "/dev/null"),
        "DATE_HORS_BORNES",
    ),
    "a CTAIR date in another format": (
        ("ctai", "register-ctair", "--collectivite", "1", "--signature-date", "14/02/2020", "/dev/null"),
        "DATE_INVALIDE",
    ),
    "a payment ordered in 2099": (
        (
            "paiements",
            "ajouter",
            "1",
            "--tranche",
            "avance",
            "--montant",
            "100",
            "--ej",
            "2100123456",
            "--date",
            "2099-01-01",
            "--agent",
            "x@y.example",
        ),
        "DATE_HORS_BORNES",
    ),
    "a payment ordered in 1999": (
        (
            "paiements",
            "add",
            "1",
            "--tranche",
            "avance",
            "--montant",
            "100",
            "--ej",
            "2100123456",
            "--date",
            "1999-01-01",
            "--agent",
            "x@y.example",
        ),
        "DATE_HORS_BORNES",
    ),
    "a compte rendu transmitted in 2099": (
        (
            "crf",
            "transmettre",
            "1",
            "--depenses",
            "100",
            "--subvention-utilisee",
            "100",
            "--date",
            "2099-01-01",
            "--par",
            "asso@x.example",
        ),
        "DATE_HORS_BORNES",
    ),
    "a comité planned in 2099": (
        ("comite", "planifier", "--niveau", "national", "--date", "2099-01-01"),
        "DATE_HORS_BORNES",
    ),
    "a comité planned before the programme": (
        ("comite", "start", "--niveau", "national", "--date", "2010-01-01"),
        "DATE_HORS_BORNES",
    ),
    "a comité on the 31st of February": (
        ("comite", "start", "--niveau", "national", "--date", "2026-02-31"),
        "DATE_INVALIDE",
    ),
    "reminders in 2099": (("relances", "lancer", "--date", "2099-01-01"), "DATE_HORS_BORNES"),
    "reminders before the programme": (("reminders", "run", "--date", "2018-06-01"), "DATE_HORS_BORNES"),
}


@pytest.mark.parametrize("case", DATES)
def test_every_date_typed_on_the_command_line_has_bounds(data, case):
    args, code = DATES[case]
    before = _rows(data)
    _refused(args, code)
    assert _rows(data) == before


# --- no traceback on any bad value ---------------------------------------------------------------

BAD_VALUES = {
    "an amount in words": (
        (
            "paiements",
            "ajouter",
            "1",
            "--tranche",
            "avance",
            "--montant",
            "mille",
            "--ej",
            "2100123456",
            "--date",
            "2021-11-02",
            "--agent",
            "x@y.example",
        ),
        "MONTANT_ILLISIBLE",
    ),
    "an unknown act": (("acte", "voir", "999"), "INTROUVABLE"),
    "an unknown compte rendu": (("crf", "voir", "999"), "INTROUVABLE"),
    "an unknown comité": (("comite", "voir", "999"), "INTROUVABLE"),
    "an unknown contract": (("ctai", "voir", "999"), "INTROUVABLE"),
    "an unknown batch": (("delegation", "exporter", "999"), "INTROUVABLE"),
    "an unknown export format": (("delegation", "exporter", "1", "--format", "xlsx"), "FORMAT_INCONNU"),
    "an unknown email event": (("courriels", "apercu", "rien", "--to-dir", "/tmp/x"), "EVENEMENT_INCONNU"),
    "a field without a value": (
        (
            "approbations",
            "decider",
            "r",
            "--agent",
            "a@b.example",
            "--code",
            "AAAA-BBBB",
            "--decision",
            "x",
            "--champ",
            "sans-valeur",
        ),
        "PREFECT_INJOIGNABLE",
    ),
    "a national figure for 2022": (("charger", "national", "--annee", "2022"), "USAGE_VALEUR_INVALIDE"),
    "a PostgreSQL role on SQLite or a bad role": (("donnees", "droits", "--role", "x; DROP TABLE decision"), None),
}


@pytest.mark.parametrize("case", BAD_VALUES)
def test_a_bad_value_ends_as_a_french_message_with_a_code_never_a_traceback(data, case):
    args, code = BAD_VALUES[case]
    status, out, err = run_main(*args)
    assert status == 2 and "Traceback" not in out + err, out + err
    codes = _codes(out, err)
    assert codes and (code is None or code in codes), out + err


def test_an_error_without_a_field_never_prints_an_empty_field_name(data):
    status, _, err = run_main("acte", "voir", "999")
    assert status == 2 and "[INTROUVABLE] aucun" in err and "]  :" not in err and "] :" not in err


# --- the database's address -----------------------------------------------------------------------


def test_a_sqlite_base_in_a_folder_that_does_not_exist_is_refused_and_no_folder_is_created(
    app_env, tmp_path, monkeypatch
):
    from settings import get_settings

    missing = tmp_path / "faute-de-frappe" / "sous-dossier"
    monkeypatch.setenv("TERRITOIRES_DATABASE_URL", f"sqlite:///{missing / 'territoires.db'}")
    get_settings.cache_clear()
    output = _refused(("donnees", "migrer"), "DOSSIER_INTROUVABLE")
    assert "TERRITOIRES_DATABASE_URL" in output and str(missing) in output
    assert not missing.parent.exists()


def test_the_platforms_own_data_folder_is_created_for_its_default_base(app_env, tmp_path, monkeypatch):
    from settings import get_settings

    data_dir = tmp_path / "nouvelle-installation" / "var"
    monkeypatch.delenv("TERRITOIRES_DATABASE_URL")
    monkeypatch.setenv("TERRITOIRES_DATA_DIR", str(data_dir))
    get_settings.cache_clear()
    status, out, err = run_main("donnees", "migrer")
    assert status == 0, out + err
    assert (data_dir / "territoires.db").is_file()


def test_a_postgresql_address_without_the_psycopg_driver_says_how_to_write_it(app_env, monkeypatch):
    from settings import get_settings

    monkeypatch.setenv("TERRITOIRES_DATABASE_URL", "postgresql://territoires@127.0.0.1:5432/test")
    get_settings.cache_clear()
    output = _refused(("donnees", "migrer"), "URL_BASE_INVALIDE")
    assert "TERRITOIRES_DATABASE_URL" in output and "postgresql+psycopg://" in output
    assert "ModuleNotFoundError" not in output
