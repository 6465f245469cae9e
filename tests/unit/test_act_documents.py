"""The legal acts as PDF: what an arrêté and a convention say, read back from the PDF itself;
escaping, no network, a préfecture's own templates, the Marianne font; the départements' articles.

The first page of each sample is saved under test-output/actes/ to be looked at."""

from __future__ import annotations

import io
import logging
import os
import shutil
import socket
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader

from documents import french
from documents.fonts import font_face_css, marianne_dir, marianne_file
from documents.model import ActDocument, ActLine, PaymentTerm, Signature
from documents.render import context, local_fetcher, render_html, render_pdf
from models.french import date_fr
from models.money import format_eur
from models.reference import (
    ARTICLES,
    departement_article,
    departement_avec_article,
    departement_chef_lieu,
    departement_de,
    load_departements,
)
from settings import get_settings
from tests.pdf_reading import first_page_png, pdf_fonts, pdf_text

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = Path(os.environ.get("TERRITOIRES_TEST_OUTPUT", ROOT / "test-output")) / "actes"
NNBSP, NBSP = "\u202f", "\u00a0"
LOI_DE_FINANCES = "loi n° 2020-1721 du 29 décembre 2020 de finances pour 2021"
SIGNATURE = Signature("Jeanne Martin", "Pour le préfet et par délégation, la secrétaire générale", date(2021, 10, 21))


def flat(text: str) -> str:
    """The text with every run of spaces, no-break spaces and line breaks as one space."""
    return " ".join(text.replace(NBSP, " ").replace(NNBSP, " ").split())


def arrete(**changes) -> ActDocument:
    """An arrêté of 20 000 € for an association of the Vienne, action 12, signed."""
    doc = ActDocument(
        kind="arrete",
        numero="AP-86-2021-0001",
        annee=2021,
        departement_code="86",
        departement_nom="Vienne",
        beneficiaire_nom="Solidarité Poitou",
        beneficiaire_siret="12345678900012",
        beneficiaire_rna="W861234567",
        beneficiaire_est_collectivite=False,
        collectivite_nom="Grand Poitiers",
        cadre="de la demande de subvention PTAI-86-2021-00004",
        lignes=[
            ActLine(
                "Ateliers sociolinguistiques pour les primo-arrivants",
                "PTAI-86-2021-00004",
                12,
                2_000_000,
                "apprentissage du français",
            )
        ],
        total_cents=2_000_000,
        unite_budgetaire="0104-DDETS-86",
        loi_de_finances=LOI_DE_FINANCES,
        periode_debut=date(2021, 1, 1),
        periode_fin=date(2021, 12, 31),
        paiements=[
            PaymentTerm("avance", "avance", Decimal("0.5"), 1_000_000, "à la signature de l'acte"),
            PaymentTerm(
                "solde",
                "solde",
                Decimal("0.5"),
                1_000_000,
                "après réception du compte rendu financier reconnu conforme",
            ),
        ],
        compte_rendu_echeance=date(2022, 6, 30),
        signature=SIGNATURE,
        date_edition=date(2021, 10, 1),
    )
    return replace(doc, **changes)


def convention(**changes) -> ActDocument:
    """A convention of 50 000 € for « Toit du Monde », two lines (actions 15 and 12), version 2."""
    doc = ActDocument(
        kind="convention",
        numero="CV-86-2021-0002",
        annee=2021,
        departement_code="86",
        departement_nom="Vienne",
        beneficiaire_nom="Toit du Monde",
        beneficiaire_siret="41234567800019",
        beneficiaire_rna="W862000123",
        beneficiaire_est_collectivite=False,
        collectivite_nom="Grand Poitiers",
        cadre="du contrat territorial d'accueil et d'intégration CTAI-86-2021-0001",
        lignes=[
            ActLine(
                "Accompagnement vers le logement des réfugiés",
                "CTAI-86-2021-0001, action n° 4",
                15,
                3_000_000,
                "logement",
            ),
            ActLine("Parcours d'insertion professionnelle", "CTAI-86-2021-0001, action n° 5", 12, 2_000_000, "emploi"),
        ],
        total_cents=5_000_000,
        unite_budgetaire="0104-DDETS-86",
        loi_de_finances=LOI_DE_FINANCES,
        periode_debut=date(2021, 7, 1),
        periode_fin=date(2021, 12, 31),
        paiements=[
            PaymentTerm("avance", "avance", Decimal("0.6"), 3_000_000, "à la signature de l'acte"),
            PaymentTerm(
                "solde",
                "solde",
                Decimal("0.4"),
                2_000_000,
                "après réception du compte rendu financier reconnu conforme",
            ),
        ],
        compte_rendu_echeance=date(2022, 6, 30),
        version=2,
        remplace="AP-86-2021-0001",
        signature=replace(SIGNATURE, date=date(2021, 11, 3)),
        mentions=["Le bénéficiaire associe la collectivité aux comités de suivi des actions."],
    )
    return replace(doc, **changes)


@pytest.fixture(scope="module")
def pdfs() -> dict[str, bytes]:
    """The three samples, rendered once; their first page saved as PNG."""
    rendered = {
        "arrete": render_pdf(arrete()),
        "convention": render_pdf(convention()),
        "projet": render_pdf(arrete(signature=None)),
    }
    for name, pdf in rendered.items():
        (OUTPUT / f"{name}.pdf").parent.mkdir(parents=True, exist_ok=True)
        (OUTPUT / f"{name}.pdf").write_bytes(pdf)
        first_page_png(pdf, OUTPUT / f"{name}.png")
    return rendered


@pytest.fixture
def settings_env(monkeypatch):
    """Sets ``TERRITOIRES_*`` variables for one test, the cached settings forgotten before and after."""
    get_settings.cache_clear()

    def set_env(name: str, value: str) -> None:
        monkeypatch.setenv(name, value)
        get_settings.cache_clear()

    yield set_env
    get_settings.cache_clear()


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a socket is recorded and refused."""
    attempts = []

    def refuse(self, address, *args, **kwargs):
        attempts.append(address)
        raise OSError("network refused in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    return attempts


# --- What an act says ------------------------------------------------------------------------


def test_an_arrete_prints_its_amount_its_budget_lines_and_the_compte_rendu_due(pdfs):
    raw = pdf_text(pdfs["arrete"])
    text = flat(raw)
    assert f"20{NNBSP}000,00{NBSP}€" in raw
    assert "Arrêté attributif de subvention n° AP-86-2021-0001" in text
    assert "programme 104 « Intégration et accès à la nationalité française »" in text
    assert "action 12 « Actions d'accompagnement des étrangers en situation régulière » : 20 000,00 €" in text
    assert "unité budgétaire 0104-DDETS-86" in text and "AE = CP" in text
    assert "du 1er janvier 2021 au 31 décembre 2021" in text
    assert "Avance 50 % 10 000,00 € à la signature de l'acte" in text
    assert "Cerfa n° 15059" in text and "au plus tard le 30 juin 2022" in text
    assert "avec le soutien de l'État (préfecture de la Vienne)" in text
    assert "SIRET 123 456 789 00012" in text and "RNA W861234567" in text


def test_an_arrete_carries_the_visas_and_the_recourse_clause(pdfs):
    text = flat(pdf_text(pdfs["arrete"]))
    for visa in (
        "Vu la loi n° 2000-321 du 12 avril 2000 relative aux droits des citoyens dans leurs relations avec les "
        "administrations, notamment ses articles 9-1 et 10",
        f"Vu la {LOI_DE_FINANCES}",
        "Vu le décret n° 2001-495 du 6 juin 2001 pris pour l'application de l'article 10 de la loi n° 2000-321",
        "Vu le décret n° 2012-1246 du 7 novembre 2012 relatif à la gestion budgétaire et comptable publique",
        "Vu l'arrêté du 11 octobre 2006 relatif au compte rendu financier prévu par l'article 10 de la loi du "
        "12 avril 2000",
        "Vu la demande de subvention PTAI-86-2021-00004",
    ):
        assert visa in text, visa
    assert "ARRÊTE :" in text
    assert (
        "La présente décision peut faire l'objet, dans un délai de deux mois à compter de sa notification, d'un "
        "recours gracieux auprès du préfet de la Vienne, d'un recours hiérarchique auprès du ministre de l'Intérieur, "
        "ou d'un recours contentieux devant le tribunal administratif territorialement compétent."
    ) in text
    assert "« Télérecours citoyens » accessible par le site www.telerecours.fr" in text


def test_the_articles_are_numbered_from_the_first(pdfs):
    text = flat(pdf_text(pdfs["arrete"]))
    titles = [
        "Article 1er – Objet",
        "Article 2 – Montant et imputation budgétaire",
        "Article 3 – Période",
        "Article 4 – Modalités de versement",
        "Article 5 – Obligations du bénéficiaire",
        "Article 6 – Reversement",
        "Article 7 – Contrôle",
        "Article 8 – Voies et délais de recours",
        "Article 9 – Exécution",
    ]
    positions = [text.index(title) for title in titles]
    assert positions == sorted(positions)
    assert "à une fin autre que l'objet défini à l'article 1er" in text and "prévu à l'article 5" in text
    assert "secrétaire général de la préfecture de la Vienne" in text


def test_the_header_names_the_prefet_of_the_departement_and_the_motto(pdfs):
    text = flat(pdf_text(pdfs["arrete"]))
    assert text.startswith("PRÉFET DE LA VIENNE Liberté Égalité Fraternité")
    assert "Arrêté n° AP-86-2021-0001 Poitiers, le 21 octobre 2021" in text


def test_a_signed_act_names_its_signatory_and_is_stamped(pdfs):
    text = flat(pdf_text(pdfs["arrete"]))
    assert (
        "Fait à Poitiers, le 21 octobre 2021 Pour le préfet et par délégation, la secrétaire générale Jeanne Martin"
        in text
    )
    assert (
        "Signé électroniquement par Jeanne Martin, pour le préfet et par délégation, la secrétaire générale, "
        "le 21 octobre 2021"
    ) in text
    last_page = flat(PdfReader(io.BytesIO(pdfs["arrete"])).pages[-1].extract_text())
    assert "Signé électroniquement par Jeanne Martin" in last_page
    assert "PROJET" not in text and "en attente" not in text


def test_a_draft_is_marked_as_such_and_awaits_its_signature(pdfs):
    text = flat(pdf_text(pdfs["projet"]))
    assert "PROJET — non signé" in text
    assert "Signature : en attente" in text and "projet édité le 1er octobre 2021" in text
    assert "Signé électroniquement" not in text and "Jeanne Martin" not in text
    for page in PdfReader(io.BytesIO(pdfs["projet"])).pages:  # the watermark is on every page
        assert "PROJET — non signé" in flat(page.extract_text())


def test_a_convention_of_two_lines_binds_both_parties_and_replaces_the_earlier_act(pdfs):
    raw = pdf_text(pdfs["convention"])
    text = flat(raw)
    assert "Convention attributive de subvention n° CV-86-2021-0002" in text
    assert "Version 2 — remplace l'arrêté n° AP-86-2021-0001" in text
    assert (
        "Entre l'État, représenté par le préfet de la Vienne, ci-après désigné « l'administration », d'une part, "
        "et l'association « Toit du Monde », SIRET 412 345 678 00019, RNA W862000123"
    ) in text
    assert "Il est convenu ce qui suit :" in text and "ARRÊTE" not in text
    assert f"50{NNBSP}000,00{NBSP}€" in raw
    assert "action 12 « Actions d'accompagnement des étrangers en situation régulière » : 20 000,00 €" in text
    assert "action 15 « Accompagnement des réfugiés » : 30 000,00 €" in text
    assert "Avance 60 % 30 000,00 €" in text and "Solde 40 % 20 000,00 €" in text
    assert "Les sommes déjà versées au titre de l'arrêté n° AP-86-2021-0001 viennent en déduction" in text
    assert "La présente convention annule et remplace l'arrêté n° AP-86-2021-0001" in text
    assert (
        "Dispositions particulières Le bénéficiaire associe la collectivité aux comités de suivi des actions." in text
    )
    assert "Litiges" in text and "tribunal administratif territorialement compétent" in text and "deux mois" in text
    assert "Pour l'association « Toit du Monde », son représentant légal" in text
    assert "Pour l'État, Pour le préfet et par délégation, la secrétaire générale Jeanne Martin" in text
    assert "Fait à Poitiers, le 3 novembre 2021, en deux exemplaires originaux." in text


def test_the_pdf_is_titled_and_authored_by_the_prefecture(pdfs):
    meta = PdfReader(io.BytesIO(pdfs["arrete"])).metadata
    assert meta.title == "Arrêté attributif AP-86-2021-0001" and meta.author == "Préfecture de la Vienne"
    assert PdfReader(io.BytesIO(pdfs["convention"])).metadata.title == "Convention attributive CV-86-2021-0002"


def test_the_first_page_of_each_sample_is_saved_as_an_image(pdfs):
    for name in pdfs:
        path = OUTPUT / f"{name}.png"
        assert path.exists() and path.stat().st_size > 30_000
        with Image.open(path) as image:
            width, height = image.size  # A4 at 110 dpi: 909 × 1286 pixels, give or take one
            assert abs(width - 909) <= 2 and abs(height - 1286) <= 2
            low, high = image.convert("L").getextrema()
            assert low < 60 and high > 240  # dark text on a white page


# --- Escaping, network ---------------------------------------------------------------------------


def test_user_text_is_escaped_and_shown_as_text_and_nothing_is_fetched(no_network, caplog, monkeypatch):
    from weasyprint.urls import URLFetcher

    fetched = []
    original = URLFetcher.fetch
    monkeypatch.setattr(
        URLFetcher, "fetch", lambda self, url, headers=None: fetched.append(url) or original(self, url, headers)
    )
    hostile = '<script>alert("x")</script><img src="http://127.0.0.1:9/pixel.png">'
    doc = arrete(lignes=[ActLine(hostile, "PTAI-86-2021-00004", 12, 2_000_000)], beneficiaire_nom="A & B <b>gras</b>")
    html = render_html(doc)
    assert "<script>" not in html and "<img" not in html and "<b>gras" not in html
    assert "&lt;script&gt;" in html and "A &amp; B" in html
    with caplog.at_level(logging.WARNING):
        text = flat(pdf_text(render_pdf(doc)))
    squeezed = "".join(text.split())  # the long objet wraps anywhere in its cell
    assert '<script>alert("x")</script><imgsrc="http://127.0.0.1:9/pixel.png">' in squeezed
    assert "« A & B <b>gras</b> »" in text
    assert no_network == []
    assert all(url.startswith(("file:", "data:")) for url in fetched)
    assert "URL externe refusée" not in caplog.text


def test_the_renderer_fetches_no_external_url_even_from_a_template(tmp_path, settings_env, no_network, caplog):
    (tmp_path / "arrete.html.j2").write_text(
        '{% extends "territoires/arrete.html.j2" %}'
        '{% block entete %}<img src="http://127.0.0.1:9/logo.png" alt="">{{ super() }}{% endblock %}',
        encoding="utf-8",
    )
    settings_env("TERRITOIRES_ACTS_TEMPLATES_DIR", str(tmp_path))
    with caplog.at_level(logging.WARNING):
        pdf = render_pdf(arrete())
    assert "URL externe refusée" in caplog.text and "127.0.0.1:9/logo.png" in caplog.text
    assert no_network == []
    assert "PRÉFET DE LA VIENNE" in flat(pdf_text(pdf))
    with pytest.raises(ValueError, match="URL externe refusée"):
        local_fetcher().fetch("https://example.org/logo.png")


# --- A préfecture's own templates ----------------------------------------------------------------


def test_a_prefecture_can_extend_or_replace_the_templates_from_its_folder(tmp_path, settings_env):
    (tmp_path / "arrete.html.j2").write_text(
        '{% extends "territoires/arrete.html.j2" %}'
        "{% block apres_visas %}<p>Considérant le modèle local de la préfecture de test,</p>"
        "{{ super() }}{% endblock %}",
        encoding="utf-8",
    )
    (tmp_path / "convention.html.j2").write_text(
        "<html><body><p>Convention locale {{ doc.numero }} pour {{ doc.beneficiaire_nom }}</p></body></html>",
        encoding="utf-8",
    )
    (tmp_path / "acte.css").write_text(
        '{% include "territoires/acte.css" %}\n.titre { color: rgb(1, 2, 3); }\n', encoding="utf-8"
    )
    settings_env("TERRITOIRES_ACTS_TEMPLATES_DIR", str(tmp_path))
    assert get_settings().acts_templates_dir == tmp_path
    text = flat(pdf_text(render_pdf(arrete())))
    assert "Considérant le modèle local de la préfecture de test, Sur proposition du secrétaire général" in text
    assert "Article 1er – Objet" in text
    assert "rgb(1, 2, 3)" in render_html(arrete()) and "size: A4" in render_html(arrete())
    assert flat(pdf_text(render_pdf(convention()))) == "Convention locale CV-86-2021-0002 pour Toit du Monde"


def test_without_an_override_folder_our_templates_are_used(settings_env, tmp_path):
    settings_env("TERRITOIRES_ACTS_TEMPLATES_DIR", str(tmp_path / "absent"))
    assert "Article 1er – Objet" in render_html(arrete())


# --- Marianne ------------------------------------------------------------------------------------


def test_the_pdf_embeds_the_marianne_font(pdfs):
    assert (marianne_dir() / "Marianne-Regular.woff2").is_file(), "police Marianne absente : lancer `make dsfr`"
    for name, pdf in pdfs.items():
        fonts = pdf_fonts(pdf)
        assert {"Marianne", "Marianne-Bold", "Marianne-Italic"} <= fonts, (name, fonts)
        assert all(font.startswith("Marianne") for font in fonts), (name, fonts)


def test_without_marianne_the_act_falls_back_to_a_system_font(settings_env, tmp_path):
    settings_env("TERRITOIRES_MARIANNE_DIR", str(tmp_path))
    assert font_face_css() == ""
    fonts = pdf_fonts(render_pdf(arrete()))
    assert not any("Marianne" in font for font in fonts)
    assert any(font.startswith(("LiberationSans", "Liberation-Sans", "DejaVuSans", "DejaVu-Sans")) for font in fonts), (
        fonts
    )


def test_a_web_font_is_decompressed_once_and_the_act_points_at_the_truetype_file(tmp_path, monkeypatch):
    """The DSFR's woff2 would otherwise be decompressed at every act rendered (0.6 s per face)."""
    fonts = tmp_path / "dsfr"
    fonts.mkdir()
    shutil.copy(marianne_dir() / "Marianne-Bold.woff2", fonts)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    first = marianne_file("Marianne-Bold", fonts)
    assert first is not None and first.is_relative_to(tmp_path / "cache")
    assert first.read_bytes()[:4] == b"\x00\x01\x00\x00"  # a TrueType file, no longer woff2
    written = first.stat().st_mtime_ns
    assert marianne_file("Marianne-Bold", fonts) == first and first.stat().st_mtime_ns == written
    css = font_face_css(fonts)
    assert css.count("@font-face") == 1 and first.as_uri() in css and "woff2" not in css
    assert marianne_file("Marianne-Light", fonts) is None


def test_where_the_font_cache_cannot_be_written_the_act_reads_the_web_font_itself(tmp_path, monkeypatch):
    fonts = tmp_path / "dsfr"
    fonts.mkdir()
    shutil.copy(marianne_dir() / "Marianne-Bold.woff2", fonts)
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")  # the cache's parent is a file: the cache cannot be created
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    assert marianne_file("Marianne-Bold", fonts) == fonts / "Marianne-Bold.woff2"
    assert (fonts / "Marianne-Bold.woff2").as_uri() in font_face_css(fonts)


# --- French forms --------------------------------------------------------------------------------


def test_dates_amounts_and_shares_are_written_the_french_way():
    assert date_fr(date(2021, 10, 21)) == "21 octobre 2021"
    assert date_fr(date(2021, 7, 1)) == "1er juillet 2021"
    assert format_eur(5_000_000, centimes=True) == f"50{NNBSP}000,00{NBSP}€"
    assert format_eur(123_450, centimes=True) == f"1{NNBSP}234,50{NBSP}€"
    assert format_eur(-1_200, centimes=True) == f"-12,00{NBSP}€"
    assert format_eur(0, centimes=True) == f"0,00{NBSP}€"
    assert french.percent(Decimal("0.5")) == f"50{NNBSP}%" and french.percent(Decimal("0.333")) == f"33,3{NNBSP}%"
    assert french.a_lieu("Poitiers") == "à Poitiers" and french.a_lieu("Le Mans") == "au Mans"
    assert french.a_lieu("La Rochelle") == "à La Rochelle"


def test_the_header_names_each_prefet_with_the_article_of_the_departement():
    def marque(code: str, nom: str) -> str:
        return " ".join(context(arrete(departement_code=code, departement_nom=nom))["marque"])

    assert marque("86", "Vienne") == "PRÉFET DE LA VIENNE"
    assert marque("69", "Rhône") == "PRÉFET DU RHÔNE"
    assert marque("38", "Isère") == "PRÉFET DE L'ISÈRE"
    assert marque("13", "Bouches-du-Rhône") == "PRÉFET DES BOUCHES-DU-RHÔNE"
    assert marque("21", "Côte-d'Or") == "PRÉFET DE LA CÔTE-D'OR"
    assert marque("75", "Paris") == "PRÉFET DE PARIS"
    assert marque("974", "La Réunion") == "PRÉFET DE LA RÉUNION"
    assert context(arrete(departement_code="72", departement_nom="Sarthe"))["fait_a"] == "Fait au Mans"


def test_the_frame_of_the_act_reads_as_a_visa_whichever_way_it_is_written():
    for cadre, vu in (
        (
            "du contrat territorial d'accueil et d'intégration CTAI-86-2021-0001",
            "le contrat territorial d'accueil et d'intégration CTAI-86-2021-0001",
        ),
        ("de la demande de subvention PTAI-86-2021-00004", "la demande de subvention PTAI-86-2021-00004"),
        (
            "contrat territorial d'accueil et d'intégration CTAI-86-2021-0001",
            "le contrat territorial d'accueil et d'intégration CTAI-86-2021-0001",
        ),
        (
            "projet territorial d'accueil et d'intégration PTAI-86-2021-00004",
            "le projet territorial d'accueil et d'intégration PTAI-86-2021-00004",
        ),
    ):
        assert context(arrete(cadre=cadre))["vu_cadre"] == vu


# --- The départements and their articles ---------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "nom", "de", "avec_article"),
    [
        ("86", "Vienne", "de la Vienne", "la Vienne"),
        ("69", "Rhône", "du Rhône", "le Rhône"),
        ("38", "Isère", "de l'Isère", "l'Isère"),
        ("13", "Bouches-du-Rhône", "des Bouches-du-Rhône", "les Bouches-du-Rhône"),
        ("21", "Côte-d'Or", "de la Côte-d'Or", "la Côte-d'Or"),
        ("75", "Paris", "de Paris", "Paris"),
        ("976", "Mayotte", "de Mayotte", "Mayotte"),
        ("974", "La Réunion", "de La Réunion", "La Réunion"),
    ],
)
def test_a_departement_is_named_with_its_article(code, nom, de, avec_article):
    assert departement_de(code, nom) == de
    assert departement_avec_article(code, nom) == avec_article


def test_every_departement_has_an_article_and_a_chef_lieu():
    deps = load_departements()
    assert len(deps) == 101
    assert all(departement_article(d.code) in ARTICLES for d in deps)
    assert {d.code for d in deps if departement_article(d.code) == ""} == {"75", "976"}
    assert all(departement_chef_lieu(d.code) for d in deps)
    plural = {d.nom for d in deps if departement_article(d.code) == "les"}
    assert {
        "Landes",
        "Yvelines",
        "Vosges",
        "Ardennes",
        "Hauts-de-Seine",
        "Deux-Sèvres",
        "Côtes-d'Armor",
        "Pyrénées-Atlantiques",
        "Hautes-Pyrénées",
        "Pyrénées-Orientales",
        "Alpes-Maritimes",
        "Hautes-Alpes",
        "Alpes-de-Haute-Provence",
        "Bouches-du-Rhône",
    } == plural
    elided = {d.nom for d in deps if departement_article(d.code) == "l'"}
    assert {
        "Ain",
        "Aisne",
        "Allier",
        "Ardèche",
        "Ariège",
        "Aube",
        "Aude",
        "Aveyron",
        "Essonne",
        "Eure",
        "Eure-et-Loir",
        "Hérault",
        "Ille-et-Vilaine",
        "Indre",
        "Indre-et-Loire",
        "Isère",
        "Oise",
        "Orne",
        "Yonne",
    } == elided
