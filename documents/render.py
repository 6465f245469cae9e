"""The legal acts as HTML, then PDF (WeasyPrint), from an ``ActDocument``.

Templates are looked up first in the préfecture's folder (setting ``acts_templates_dir``, env
``TERRITOIRES_ACTS_TEMPLATES_DIR``), then in ``documents/templates``. A préfecture's file of the
same name replaces ours (``arrete.html.j2``, ``convention.html.j2``, ``acte.css``, even
``_acte.html.j2``); to extend ours rather than replace it, its template extends the name
prefixed by ``territoires/``, e.g. ``{% extends "territoires/arrete.html.j2" %}``.

Everything the services put in an ``ActDocument`` is escaped (autoescape on), and the PDF
renderer fetches only local ``file:`` and ``data:`` URLs (the fonts, a préfecture's logo).
"""

from __future__ import annotations

import logging
from functools import lru_cache, partial
from pathlib import Path

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PrefixLoader, StrictUndefined
from markupsafe import Markup

from documents import french
from documents.fonts import font_face_css
from documents.model import ActDocument
from models.french import date_fr, en_cours_de_phrase, initiale
from models.money import format_eur
from models.reference import departement_avec_article, departement_chef_lieu, departement_de
from settings import get_settings

log = logging.getLogger(__name__)

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
TEMPLATE_OF_KIND = {"arrete": "arrete.html.j2", "convention": "convention.html.j2"}
LOCAL_SCHEMES = ("file", "data")

P104_ACTIONS = {
    11: "Accueil des étrangers primo-arrivants",
    12: "Actions d'accompagnement des étrangers en situation régulière",
    15: "Accompagnement des réfugiés",
}

# How the act names itself, per kind: what the templates say of « this act ».
KIND_WORDS = {
    "arrete": {
        "titre": "Arrêté attributif de subvention",
        "court": "Arrêté attributif",
        "nom": "arrêté",
        "le_present": "le présent arrêté",
        "du_present": "du présent arrêté",
    },
    "convention": {
        "titre": "Convention attributive de subvention",
        "court": "Convention attributive",
        "nom": "convention",
        "le_present": "la présente convention",
        "du_present": "de la présente convention",
    },
}


# --- Jinja -------------------------------------------------------------------------------------


def templates_override_dir() -> Path | None:
    """The préfecture's folder of templates, read from the settings at each render."""
    return get_settings().acts_templates_dir


@lru_cache(maxsize=8)
def environment(override: str | None = None) -> Environment:
    """The Jinja environment for one override folder (None: ours only)."""
    ours = FileSystemLoader(TEMPLATES_DIR)
    loaders = [FileSystemLoader(override)] if override else []
    env = Environment(
        loader=ChoiceLoader([*loaders, ours, PrefixLoader({"territoires": ours})]),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        date_fr=date_fr,
        eur=partial(format_eur, centimes=True),
        percent=french.percent,
        lcfirst=en_cours_de_phrase,
        ucfirst=initiale,
        siret=french.siret,
    )
    return env


def _current_environment() -> tuple[Environment, Path]:
    """The environment for the folder configured now, and the folder relative links start from."""
    override = templates_override_dir()
    if override is None:
        return environment(None), TEMPLATES_DIR
    if not override.is_dir():
        log.warning("TERRITOIRES_ACTS_TEMPLATES_DIR=%s n'est pas un dossier : modèles par défaut", override)
        return environment(None), TEMPLATES_DIR
    folder = override.resolve()
    return environment(str(folder)), folder


# --- What the templates receive ----------------------------------------------------------------


class ArticleNumbers:
    """Numbers the articles as the template writes them: ``article("objet")`` gives « 1er », then
    « 2 »…; ``article.ref("objet")`` quotes the number of an article already written."""

    def __init__(self) -> None:
        self._numbers: dict[str, int] = {}

    def __call__(self, key: str) -> str:
        self._numbers[key] = len(self._numbers) + 1
        return french.ordinal(self._numbers[key])

    def ref(self, key: str) -> str:
        return french.ordinal(self._numbers[key])


def _cadre_forms(cadre: str) -> tuple[str, str]:
    """The frame of the act as a visa (« le contrat … ») and after « dans le cadre » (« du contrat … »),
    whether the services wrote it « du contrat … » or « contrat … »."""
    text = cadre.strip()
    for de, le in (("du ", "le "), ("de la ", "la "), ("de l'", "l'"), ("des ", "les ")):
        if text.startswith(de):
            return le + text[len(de) :], text
    if text[:1].lower() in "aeéèêiouyh":
        return f"l'{text}", f"de l'{text}"
    if text.split(" ", 1)[0].lower() in {"demande", "convention", "candidature"}:
        return f"la {text}", f"de la {text}"
    return f"le {text}", f"du {text}"


def _beneficiaire(doc: ActDocument) -> str:
    """« l'association « Toit du Monde » », « la collectivité « Grand Poitiers » »; a name that
    already says what it is (« Association … », « Commune de … ») stands alone in quotes."""
    name = doc.beneficiaire_nom
    first = name.split(" ", 1)[0].lower()
    if first in {"association", "commune", "ville", "communauté", "métropole", "département", "conseil", "centre"}:
        return f"«\u00a0{name}\u00a0»"
    kind = "la collectivité" if doc.beneficiaire_est_collectivite else "l'association"
    return f"{kind} «\u00a0{name}\u00a0»"


def _ancien_acte(numero: str) -> str:
    """« l'arrêté n° AP-… », « la convention n° CV-… »: the act a new version replaces."""
    if numero.startswith("AP-"):
        return f"l'arrêté n°\u00a0{numero}"
    if numero.startswith("CV-"):
        return f"la convention n°\u00a0{numero}"
    return f"l'acte n°\u00a0{numero}"


def _by_action(doc: ActDocument) -> list[dict]:
    totals: dict[int, int] = {}
    for line in doc.lignes:
        totals[line.p104_action] = totals.get(line.p104_action, 0) + line.montant_cents
    return [
        {"numero": number, "libelle": P104_ACTIONS.get(number, ""), "montant_cents": cents}
        for number, cents in sorted(totals.items())
    ]


def context(doc: ActDocument) -> dict:
    """What the templates receive: ``doc`` and what is derived from it once here (the French
    forms of the département and the beneficiary, the act's own words, the article numbers)."""
    code, nom = doc.departement_code, doc.departement_nom
    de_dep = departement_de(code, nom)
    chef_lieu = departement_chef_lieu(code)
    vu_cadre, de_cadre = _cadre_forms(doc.cadre)
    signed_on = doc.signature.date if doc.signature else None
    words = KIND_WORDS[doc.kind]
    return {
        "doc": doc,
        "acte": words,
        "titre": f"{words['titre']} n°\u00a0{doc.numero}",
        "de_departement": de_dep,
        "prefet_de": f"préfet {de_dep}",
        "prefecture_de": f"préfecture {de_dep}",
        "marque": ("PRÉFET", de_dep.upper()),
        "departement": departement_avec_article(code, nom),
        "chef_lieu": chef_lieu,
        "fait_a": f"Fait {french.a_lieu(chef_lieu)}" if chef_lieu else "Fait",
        "date_acte": signed_on,  # a draft is not dated: it shows when it was edited instead
        "beneficiaire": _beneficiaire(doc),
        "vu_cadre": vu_cadre,
        "de_cadre": de_cadre,
        "vu_loi_de_finances": f"la {doc.loi_de_finances}"
        if doc.loi_de_finances.startswith("loi")
        else doc.loi_de_finances,
        "ancien_acte": _ancien_acte(doc.remplace) if doc.remplace else None,
        "par_action": _by_action(doc),
        "directeur_departemental": (
            "directeur départemental de l'emploi, du travail et des solidarités"
            if doc.annee >= 2021
            else "directeur départemental de la cohésion sociale"
        ),
        "article": ArticleNumbers(),
        "font_faces": Markup(font_face_css()),
    }


# --- Output ------------------------------------------------------------------------------------


def render_html(doc: ActDocument) -> str:
    """The act as one HTML page (fonts and stylesheet inline)."""
    env, _ = _current_environment()
    return env.get_template(TEMPLATE_OF_KIND[doc.kind]).render(context(doc))


def pdf_title(doc: ActDocument) -> str:
    """« Arrêté attributif AP-86-2021-0001 », « Convention attributive CV-86-2021-0002 »."""
    return f"{KIND_WORDS[doc.kind]['court']} {doc.numero}"


def render_pdf(doc: ActDocument) -> bytes:
    """The act as PDF, titled and authored by the préfecture (not byte-for-byte reproducible)."""
    from weasyprint import HTML  # imported here: it loads Pango, which only the PDF needs

    env, base = _current_environment()
    html = env.get_template(TEMPLATE_OF_KIND[doc.kind]).render(context(doc))
    document = HTML(string=html, base_url=base.as_uri() + "/", url_fetcher=local_fetcher()).render()
    meta = document.metadata
    meta.title = pdf_title(doc)
    meta.authors = [
        f"Préfecture {departement_de(doc.departement_code, doc.departement_nom)}"
    ]  # « Préfecture de la Vienne »
    meta.description = f"Subvention {doc.annee} au titre du programme 104 — {doc.beneficiaire_nom}"
    meta.keywords = ["programme 104", "subvention", doc.numero]
    meta.lang = "fr"
    meta.generator = "Territoires d'intégration"
    return document.write_pdf()


def local_fetcher():
    """A WeasyPrint URL fetcher that refuses anything but ``file:`` and ``data:`` URLs."""
    from weasyprint.urls import URLFetcher

    class LocalOnlyFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            scheme = url.split(":", 1)[0].lower()
            if scheme not in LOCAL_SCHEMES:
                log.warning("URL externe refusée dans un acte : %s", url[:200])
                raise ValueError(f"URL externe refusée : {url[:200]}")
            return super().fetch(url, headers)

    return LocalOnlyFetcher(allowed_protocols=LOCAL_SCHEMES)
