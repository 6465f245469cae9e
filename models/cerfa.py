"""The PTAI request file, modelled on the key fields of Cerfa n° 12156 (demande de subvention).

The JSON schema shipped in ``examples/ptai-request.schema.json`` is generated from this model
(``territoires ptai schema``). Sign and SIRET checks are business rules, not schema
constraints, so that a bad file gets every broken rule with its stable code at once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Annotated, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from models.actors import Porteur, is_valid_siret
from models.acts import Blocking, r14_violations
from models.errors import RuleViolation, Violation
from models.french import accorde, pluriel
from models.money import euros_to_cents
from models.ptai import (
    Nature,
    check_budget,
    check_campaign_open,
    check_domains,
    check_engagement,
    check_period,
    check_porteur,
    check_presence,
    check_public,
    comparable,
)
from models.reference import CampaignRules, Domain, Public
from models.rules import non_negative_amount, public_of, within_ceiling
from models.text import Code, EmailAddress, LongText, Name, Title, line, paragraph


def _document_non_negative(schema: dict) -> None:
    """The sign is checked as a business rule (MONTANT_NEGATIF); the schema documents it."""
    schema["anyOf"] = [{"type": "number", "minimum": 0}, {"type": "string", "pattern": r"^\d+(\.\d{1,2})?$"}]


M = TypeVar("M", bound=BaseModel)

# At most 9 999 999 999,99 €: beyond, no amount is plausible and arithmetic is not attempted; the
# ceilings of each campaign (data) are checked as rules.
Euros = Annotated[
    Decimal,
    Field(
        decimal_places=2,
        max_digits=12,
        allow_inf_nan=False,
        json_schema_extra=_document_non_negative,
        description="Montant en euros, au centime près",
    ),
]
Justification = paragraph(2000, min_length=0)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Demandeur(_Strict):
    """The applicant collectivité, known by its SIREN."""

    siren: Code = Field(description="SIREN de la collectivité (9 chiffres)")
    nom: Name | None = Field(default=None, description="Nom, pour mémoire")


class PorteurFichier(_Strict):
    """Cerfa 12156, part 1: identification of the association."""

    siret: Code = Field(description="SIRET de l'association (14 chiffres)")
    nom: Name
    rna: str | None = Field(default=None, pattern=r"^W[0-9]{9}$", description="Numéro RNA (W + 9 chiffres)")
    forme_juridique: line(100) = "association loi 1901"
    cultuelle: bool = Field(default=False, description="Association cultuelle (non éligible, R15)")
    email: EmailAddress = Field(description="Courriel de contact de l'association")


class PublicVise(_Strict):
    categories: list[line(40)] = Field(max_length=10, description="refugie, protection_subsidiaire, primo_arrivant")
    nombre_beneficiaires: int | None = Field(default=None, ge=0, le=1_000_000)
    anciennete_max_annees: int | None = Field(
        default=None, ge=0, le=100, description="Ancienneté de séjour maximale (R8)"
    )
    justification_bpi: Justification | None = Field(
        default=None, description="Obligatoire si le projet est réservé aux BPI (R3)"
    )
    perspective_elargissement: Justification | None = Field(
        default=None, description="Obligatoire si le projet est réservé aux BPI (R3)"
    )


class Projet(_Strict):
    """Cerfa 12156, part 5: description of the project."""

    intitule: Title
    objectifs: LongText
    domaines: list[Domain] = Field(min_length=1, max_length=11)
    public: PublicVise
    date_debut: date
    date_fin: date
    complementarite_cir: Justification | None = Field(
        default=None, description="Complémentarité avec le CIR et le droit commun (R11)"
    )


class Engagement(_Strict):
    type: line(40) = Field(description="cofinancement, salle, personnel, communication, sourcing, soutien_association")
    description: Justification | None = None
    montant_eur: Euros | None = None
    valorisation: Justification | None = Field(default=None, description="Valorisation en nature, si pas de montant")


class Cofinancement(_Strict):
    financeur: Name
    montant_eur: Euros


class Budget(_Strict):
    """Cerfa 12156, part 6: project budget."""

    nature: Nature = Field(description="fonctionnement uniquement (R16)")
    cout_total_eur: Euros
    montant_demande_eur: Euros
    action_p104: int = Field(ge=0, le=999, description="12 (primo-arrivants) ou 15 (réfugiés) (R17)")
    cofinancements: list[Cofinancement] = Field(default_factory=list, max_length=50)


class PtaiRequestFile(_Strict):
    campagne: int = Field(ge=2019, le=2100)
    demandeur: Demandeur
    porteur: PorteurFichier | None = Field(
        default=None, description="L'association porteuse, si ce n'est pas la collectivité"
    )
    projet: Projet
    engagement_collectivite: list[Engagement] = Field(default_factory=list, max_length=20)
    budget: Budget


# --- Parsing with French, coded errors ----------------------------------------------------------

_MESSAGES = {
    "missing": "champ obligatoire manquant",
    "extra_forbidden": "champ inconnu : retirez-le",
    "int_parsing": "nombre entier attendu",
    "int_type": "nombre entier attendu",
    "decimal_parsing": 'montant attendu (par exemple "1500.00")',
    "decimal_type": 'montant attendu (par exemple "1500.00")',
    "decimal_max_places": "au plus deux décimales (centimes)",
    "string_type": "texte attendu",
    "bool_type": "vrai ou faux attendu",
    "bool_parsing": "vrai ou faux attendu",
    "list_type": "liste attendue",
    "dict_type": "objet attendu",
    "model_type": "objet attendu",
    "model_attributes_type": "objet attendu",
    "date_parsing": "date attendue au format AAAA-MM-JJ",
    "date_from_datetime_parsing": "date attendue au format AAAA-MM-JJ",
    "date_type": "date attendue au format AAAA-MM-JJ",
    "string_pattern_mismatch": "format non respecté",
    "finite_number": "nombre fini attendu",
    "decimal_max_digits": "montant trop grand (au plus 9 999 999 999,99 €)",
    "decimal_whole_digits": "montant trop grand (au plus 9 999 999 999,99 €)",
    "string_too_short": "texte trop court",
    "int_from_float": "nombre entier attendu",
    "float_type": "nombre attendu",
    "enum": "valeur non admise",
}


def french_reason(error: dict) -> str:
    kind, ctx = error["type"], error.get("ctx", {})
    if kind == "value_error":  # our own validators already speak French
        message = str(ctx.get("error", error["msg"]))
        return "adresse électronique invalide" if "email address" in message else message
    if kind == "enum":
        return f"valeur non admise (valeurs possibles : {ctx.get('expected', '')})"
    if kind == "too_short":
        n = int(ctx.get("min_length") or 0)
        return (
            f"au moins {pluriel(n, 'élément')} ou {accorde(n, 'caractère', 'caractères')} "
            f"{accorde(n, 'attendu', 'attendus')}"
        )
    if kind == "too_long":
        return f"au plus {pluriel(int(ctx.get('max_length') or 0), 'élément')}"
    if kind == "string_too_long":
        return f"texte trop long : {ctx.get('max_length')} caractères au plus"
    if kind in {"greater_than_equal", "less_than_equal"}:
        bound = ctx.get("ge", ctx.get("le"))
        return f"valeur hors bornes ({'au moins' if kind == 'greater_than_equal' else 'au plus'} {bound})"
    return _MESSAGES.get(kind, "valeur invalide")


def violations_from(error: ValidationError) -> list[Violation]:
    out = []
    for e in error.errors():
        field = ".".join(str(p) for p in e["loc"]) or "(racine)"
        if e["type"].isupper():  # our own refusals carry their stable code (models.text)
            out.append(Violation(e["type"], field, e["msg"]))
            continue
        kind = "string_too_long" if e["type"] == "too_long" and isinstance(e.get("input"), str) else e["type"]
        code = {"missing": "CHAMP_MANQUANT", "string_too_long": "TEXTE_TROP_LONG", "too_long": "TROP_D_ELEMENTS"}.get(
            kind, "CHAMP_INVALIDE"
        )
        out.append(Violation(code, field, french_reason({**e, "type": kind})))
    return out


def parse_json_file(text: str, model: type[M]) -> M:
    """Parses a JSON file into ``model``; raises RuleViolation with JSON_INVALIDE or one
    violation per bad field."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RuleViolation(
            [
                Violation(
                    "JSON_INVALIDE",
                    "(fichier)",
                    f"JSON mal formé, ligne {exc.lineno}, colonne {exc.colno} : corrigez la syntaxe",
                )
            ]
        ) from None
    except RecursionError:
        raise RuleViolation([Violation("JSON_INVALIDE", "(fichier)", "JSON trop profondément imbriqué")]) from None
    except ValueError:  # e.g. an integer of thousands of digits
        raise RuleViolation([Violation("JSON_INVALIDE", "(fichier)", "JSON illisible : nombre démesuré")]) from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise RuleViolation(violations_from(exc)) from None


def parse_request_file(text: str) -> PtaiRequestFile:
    return parse_json_file(text, PtaiRequestFile)


def request_json_schema() -> dict:
    schema = PtaiRequestFile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Demande de financement PTAI (champs clés du Cerfa n° 12156)"
    return schema


# --- Business rules over a parsed file --------------------------------------------------------


def check_submission(
    f: PtaiRequestFile,
    *,
    collectivite_found: bool,
    registered_porteur: Porteur | None,
    rules: CampaignRules | None,
    r14_blocking: list[Blocking] = (),
) -> list[Violation]:
    """Every rule a PTAI request must pass at submission; returns all violations at once.
    ``r14_blocking``: the porteur's comptes rendus financiers that bar a new request (R14)."""
    out: list[Violation] = []
    if not collectivite_found:
        out.append(
            Violation(
                "COLLECTIVITE_INCONNUE",
                "demandeur.siren",
                f"aucune collectivité enregistrée avec le SIREN {f.demandeur.siren} : enregistrez-la (territoires "
                "collectivite add) ou corrigez le SIREN",
            )
        )
    if rules is None:
        out.append(
            Violation("CAMPAGNE_INCONNUE", "campagne", f"la campagne {f.campagne} n'a pas de règles enregistrées")
        )
        return out
    if closed := check_campaign_open(rules):
        return out + closed
    p = f.projet
    out += check_public(p.public.categories, p.public.justification_bpi, p.public.perspective_elargissement, rules)
    out += check_presence(p.public.anciennete_max_annees, rules)
    out += check_domains(list(p.domaines), rules)
    out += check_period(p.date_debut, p.date_fin, f.campagne)
    if not (p.complementarite_cir or "").strip():
        out.append(
            Violation(
                "R11_COMPLEMENTARITE_CIR",
                "projet.complementarite_cir",
                "expliquez en quoi le projet complète le contrat d'intégration républicaine et le droit commun, sans "
                "s'y substituer",
            )
        )
    out += check_engagement([engagement_dict(e) for e in f.engagement_collectivite], rules)
    public = public_of(p.public.categories, rules) if p.public.categories else Public.PRIMO_ARRIVANTS
    out += check_budget(
        nature=f.budget.nature,
        total_cents=euros_to_cents(f.budget.cout_total_eur),
        requested_cents=euros_to_cents(f.budget.montant_demande_eur),
        p104_action=f.budget.action_p104,
        public=public,
    )
    out += within_ceiling(
        "budget.montant_demande_eur",
        euros_to_cents(f.budget.montant_demande_eur),
        rules.plafond_demande_cents,
        "le montant demandé",
    )
    out += within_ceiling(
        "budget.cout_total_eur",
        euros_to_cents(f.budget.cout_total_eur),
        rules.plafond_cout_total_cents,
        "le coût total",
    )
    for i, c in enumerate(f.budget.cofinancements):
        out += non_negative_amount(f"budget.cofinancements[{i}].montant_eur", euros_to_cents(c.montant_eur))
        out += within_ceiling(
            f"budget.cofinancements[{i}].montant_eur",
            euros_to_cents(c.montant_eur),
            rules.plafond_cout_total_cents,
            "le cofinancement",
        )
    for i, e in enumerate(f.engagement_collectivite):
        if e.montant_eur is not None:
            out += within_ceiling(
                f"engagement_collectivite[{i}].montant_eur",
                euros_to_cents(e.montant_eur),
                rules.plafond_cout_total_cents,
                "l'engagement",
            )
    if f.porteur is not None:
        known = registered_porteur
        if known is not None and (
            comparable(known.name) != comparable(f.porteur.nom) or known.email.lower() != f.porteur.email.lower()
        ):
            out.append(
                Violation(
                    "PORTEUR_SIRET_DISCORDANT",
                    "porteur.siret",
                    f"le SIRET {f.porteur.siret} est enregistré "
                    "pour une association dont le nom ou le courriel diffère de ceux du fichier : corrigez "
                    "le fichier, ou demandez à la préfecture de mettre à jour l'association",
                )
            )
        out += check_porteur(
            siret_valid=is_valid_siret(f.porteur.siret),
            cultuelle=f.porteur.cultuelle or bool(known and known.cultuelle),
            compte_rendu_manquant=False,
        )
        out += r14_violations(list(r14_blocking), imported_flag=bool(known and known.compte_rendu_manquant))
    return out


def engagement_dict(e: Engagement) -> dict:
    return {
        "type": e.type,
        "description": e.description,
        "montant_cents": None if e.montant_eur is None else euros_to_cents(e.montant_eur),
        "valorisation": e.valorisation,
    }


# --- What the préfecture's forms show of these rules --------------------------------------------

# (rule, label, the codes of its violations, whether it applies only when an association carries the project)
SUBMISSION_RULES: tuple[tuple[str, str, tuple[str, ...], bool], ...] = (
    ("R3", "public éligible et justifié (R3, R8 à R10)", ("R3_", "R8_", "R9_", "R10_"), False),
    ("R5", "domaines d'intégration", ("R5_",), False),
    ("R7", "engagement de la collectivité", ("R7_",), False),
    ("R11", "complémentarité avec le contrat d'intégration républicaine", ("R11_",), False),
    ("R16", "frais de fonctionnement uniquement", ("R16_",), False),
    ("R17", "action du programme 104 cohérente avec le public", ("R17_",), False),
    ("montants", "montants dans les plafonds de la campagne, demande au plus égale au coût", ("MONTANT_",), False),
    ("période", "période du projet comprise dans la campagne", ("PERIODE_",), False),
    ("R15", "porteur : SIRET valide, association non cultuelle", ("R15_", "PORTEUR_SIRET"), True),
    ("R14", "porteur : comptes rendus financiers à jour", ("R14_",), True),
)


@dataclass(frozen=True)
class RuleCheck:
    """One rule as it stands for one request: passed, or the violations found."""

    rule: str
    label: str
    violations: tuple[Violation, ...] = ()

    @property
    def passed(self) -> bool:
        return not self.violations


def rule_checks(violations: list[Violation], *, has_porteur: bool) -> list[RuleCheck]:
    """``check_submission``'s violations sorted by rule: each rule that was checked for this request
    (the porteur's rules only when an association carries it), then whatever no rule claims."""
    out, claimed = [], set()
    for rule, label, prefixes, porteur_only in SUBMISSION_RULES:
        if porteur_only and not has_porteur:
            continue
        found = tuple(v for v in violations if v.code.startswith(prefixes))
        claimed |= {id(v) for v in found}
        out.append(RuleCheck(rule, label, found))
    others = tuple(v for v in violations if id(v) not in claimed)
    return out + ([RuleCheck("autres", "autres contrôles", others)] if others else [])
