"""Reference data: départements, integration domains, public categories, campaign rules."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, fields
from decimal import Decimal
from enum import IntEnum, StrEnum
from functools import lru_cache
from importlib import resources

from sqlmodel import Field, SQLModel

from models.errors import DomainError
from models.money import euros_to_cents


class Departement(SQLModel, table=True):
    code: str = Field(primary_key=True, max_length=3)
    nom: str
    region: str


def load_departements() -> list[Departement]:
    """The 101 départements shipped in ``models/data/departements.csv``."""
    text = resources.files("models").joinpath("data/departements.csv").read_text(encoding="utf-8")
    return [Departement(code=r["code"], nom=r["nom"], region=r["region"]) for r in csv.DictReader(text.splitlines())]


ARTICLES = ("le", "la", "l'", "les", "")  # "": no article (Paris, Mayotte)


@lru_cache
def _departement_rows() -> dict[str, dict[str, str]]:
    """Code → its CSV row, with the columns the table does not hold (``article``, ``chef_lieu``)."""
    text = resources.files("models").joinpath("data/departements.csv").read_text(encoding="utf-8")
    return {r["code"]: r for r in csv.DictReader(text.splitlines())}


def departement_nom(code: str) -> str:
    """« Vienne » for 86; the code itself when unknown."""
    row = _departement_rows().get(code)
    return row["nom"] if row else code


def departement_article(code: str) -> str:
    """« la » for the Vienne, « l' » for the Isère, « » for Paris; KeyError for an unknown code."""
    return _departement_rows()[code]["article"]


def departement_chef_lieu(code: str) -> str:
    """The town of the préfecture: « Poitiers » for the Vienne; KeyError for an unknown code."""
    return _departement_rows()[code]["chef_lieu"]


def _article_in_name(article: str, nom: str) -> bool:
    """« La Réunion »: the official name already carries its article."""
    return bool(article) and nom.lower().startswith(article if article.endswith("'") else f"{article} ")


def departement_avec_article(code: str, nom: str) -> str:
    """« la Vienne », « le Rhône », « l'Isère », « les Bouches-du-Rhône », « Paris », « La Réunion »."""
    article = departement_article(code)
    if not article or _article_in_name(article, nom):
        return nom
    return f"{article}{nom}" if article.endswith("'") else f"{article} {nom}"


def departement_de(code: str, nom: str) -> str:
    """« de la Vienne », « du Rhône », « de l'Isère », « des Bouches-du-Rhône », « de Paris »,
    « de La Réunion » (« de » + le → « du », + les → « des »)."""
    article = departement_article(code)
    if not article or _article_in_name(article, nom):
        return f"de {nom}"
    return {"le": f"du {nom}", "les": f"des {nom}", "la": f"de la {nom}"}.get(article, f"de l'{nom}")


class Domain(StrEnum):
    LOGEMENT = "logement"
    EMPLOI = "emploi"
    FRANCAIS = "apprentissage_francais"
    SANTE = "sante"
    ACCES_DROITS = "acces_droits"
    MOBILITE = "mobilite"
    PARENTALITE = "parentalite"
    NUMERIQUE = "inclusion_numerique"
    CULTURE_SPORT = "culture_sport"
    CITOYENNETE = "citoyennete"
    FORMATION = "formation_professionnelle"


DOMAIN_LABELS = {
    Domain.LOGEMENT: "logement",
    Domain.EMPLOI: "emploi",
    Domain.FRANCAIS: "apprentissage du français",
    Domain.SANTE: "santé (dont santé mentale)",
    Domain.ACCES_DROITS: "accès aux droits",
    Domain.MOBILITE: "mobilité",
    Domain.PARENTALITE: "parentalité / petite enfance",
    Domain.NUMERIQUE: "inclusion numérique",
    Domain.CULTURE_SPORT: "culture et sport",
    Domain.CITOYENNETE: "citoyenneté / liens avec la société civile",
    Domain.FORMATION: "formation professionnelle",
}


class Public(StrEnum):
    """Who an action or a request targets (R2, R3)."""

    BPI = "bpi"
    PRIMO_ARRIVANTS = "primo_arrivants"


PUBLIC_LABELS = {Public.BPI: "BPI uniquement", Public.PRIMO_ARRIVANTS: "primo-arrivants (dont BPI)"}


class P104Action(IntEnum):
    """Budget programme 104 lines (R17)."""

    PRIMO_ARRIVANTS = 12
    REFUGIES = 15


class UnknownCampaign(DomainError):
    code = "CAMPAGNE_INCONNUE"


@dataclass(frozen=True)
class CampaignRules:
    """The rules of one campaign year (DOMAIN.md: held as data, not code)."""

    year: int
    ctai_signataires: tuple[str, ...]
    socle_min_cents: int
    socle_max_cents: int
    seuil_convention_cents: int
    categories_bpi: tuple[str, ...]
    categories_primo_arrivants: tuple[str, ...]
    categories_non_eligibles: tuple[str, ...]
    primo_arrivant_max_annees: int
    types_engagement: tuple[str, ...]
    # From 2022 the merged instrument: CTAI and PTAI alike need this many domains, housing among them.
    domaines_min: int
    logement_obligatoire: bool
    lettre_engagement_mois_limite: int
    ptai_ouvert: bool  # False in 2019-2020: the PTAI instrument did not exist (CTAIR years)
    ctai_duree_annees: int  # a contract's term, in years
    # Ceilings: beyond them an amount is an error of input, refused before anything is stored.
    plafond_demande_cents: int  # one PTAI request
    plafond_cout_total_cents: int  # a project's total cost, an engagement, a cofinancement
    plafond_action_cents: int  # one CTAI action, one year's socle or complementary credits
    plafond_enveloppe_cents: int  # the national envelope of the year

    @property
    def eligible_categories(self) -> tuple[str, ...]:
        return self.categories_bpi + self.categories_primo_arrivants


@lru_cache
def _campaign_data() -> dict:
    text = resources.files("models").joinpath("data/campagnes.json").read_text(encoding="utf-8")
    return json.loads(text)


def campaign_rules(year: int) -> CampaignRules:
    data = _campaign_data()
    if str(year) not in data["years"]:
        known = ", ".join(sorted(data["years"]))
        raise UnknownCampaign(f"[{UnknownCampaign.code}] campagne {year} inconnue (campagnes connues : {known})")
    raw = {**data["default"], **data["years"][str(year)]}
    values: dict = {"year": year}
    for f in fields(CampaignRules):
        if f.name == "year":
            continue
        if f.name.endswith("_cents"):
            values[f.name] = euros_to_cents(Decimal(raw[f.name.removesuffix("_cents") + "_eur"]))
        elif isinstance(raw[f.name], list):
            values[f.name] = tuple(raw[f.name])
        else:
            values[f.name] = raw[f.name]
    return CampaignRules(**values)


def rules_or_nearest(year: int) -> CampaignRules:
    """The campaign rules of ``year``; a year beyond the campaigns known (a contract's last years,
    a legal act's year) takes the nearest known one's."""
    try:
        return campaign_rules(year)
    except UnknownCampaign:
        for probe in (*range(year - 1, year - 15, -1), *range(year + 1, year + 15)):
            try:
                return campaign_rules(probe)
            except UnknownCampaign:
                continue
        raise
