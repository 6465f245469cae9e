"""Rules shared by CTAI and PTAI: amounts, publics, P104 coding. Each returns Violations."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from models.errors import Violation
from models.money import format_eur
from models.reference import CampaignRules, P104Action, Public


def non_negative_amount(field: str, cents: int | None) -> list[Violation]:
    if cents is not None and cents < 0:
        return [
            Violation(
                "MONTANT_NEGATIF",
                field,
                f"le montant ne peut pas être négatif ({format_eur(cents)}) : indiquez un montant positif ou nul",
            )
        ]
    return []


def within_ceiling(field: str, cents: int | None, ceiling_cents: int, what: str) -> list[Violation]:
    """Amounts have a ceiling per campaign (data): beyond it, an input error, not a request."""
    if cents is not None and cents > ceiling_cents:
        return [
            Violation(
                "MONTANT_PLAFOND",
                field,
                f"{what} ({format_eur(cents)}) dépasse le plafond de {format_eur(ceiling_cents)} : vérifiez la saisie",
            )
        ]
    return []


def p104_matches_public(field: str, action: int, public: Public) -> list[Violation]:
    """R17: each funded line is coded 12 (primo-arrivants) or 15 (réfugiés, BPI only)."""
    if action not in {a.value for a in P104Action}:
        return [
            Violation(
                "R17_ACTION_P104", field, f"l'action P104 doit être 12 (primo-arrivants) ou 15 (réfugiés), pas {action}"
            )
        ]
    if action == P104Action.REFUGIES and public != Public.BPI:
        return [
            Violation(
                "R17_ACTION_P104",
                field,
                "l'action P104 15 (réfugiés) est réservée aux actions destinées aux seuls BPI : codez la ligne en "
                "action 12",
            )
        ]
    return []


def eligible_categories(field: str, categories: Iterable[str], rules: CampaignRules) -> list[Violation]:
    """R8, R9, R10: only BPI categories of the year and primo-arrivants; never the excluded publics."""
    out: list[Violation] = []
    categories = list(categories)
    if not categories:
        out.append(
            Violation(
                "R8_PUBLIC_NON_PRECISE", field, "indiquez au moins une catégorie de public (BPI ou primo-arrivants)"
            )
        )
    for cat in categories:
        if cat in rules.categories_non_eligibles:
            out.append(
                Violation(
                    "R9_PUBLIC_NON_ELIGIBLE",
                    field,
                    f"le public « {cat} » n'est pas éligible (étudiants internationaux, demandeurs d'asile, mineurs "
                    "non accompagnés, personnes en situation irrégulière) : retirez-le",
                )
            )
        elif cat not in rules.eligible_categories:
            allowed = ", ".join(rules.eligible_categories)
            out.append(
                Violation(
                    "R10_CATEGORIE_BPI",
                    field,
                    f"catégorie « {cat} » inconnue pour la campagne {rules.year} (catégories admises : {allowed})",
                )
            )
    return out


def public_of(categories: Iterable[str], rules: CampaignRules) -> Public:
    return Public.BPI if set(categories) <= set(rules.categories_bpi) else Public.PRIMO_ARRIVANTS


def legal_act_for(cents_per_porteur_year: int, rules: CampaignRules) -> str:
    """R13: above the threshold (23 000 €) per porteur per year a convention is required."""
    return "convention" if cents_per_porteur_year > rules.seuil_convention_cents else "arrete"


# --- R13: the legal act, per beneficiary and year ---------------------------------------------

Beneficiary = tuple[str, int]  # ("porteur", id), or ("collectivite", id) when no association carries it


@dataclass(frozen=True)
class FundedLine:
    """One amount funded for a beneficiary in a year: a PTAI request or a CTAI action."""

    key: tuple[str, int]  # ("ptai", request id) or ("action", action id)
    beneficiary: Beneficiary
    year: int
    cents: int


def legal_acts(lines: Iterable[FundedLine], threshold_of_year: Callable[[int], int]) -> dict[tuple[str, int], str]:
    """R13: the act of each line follows the total granted to its beneficiary that year, over
    PTAI requests and CTAI actions alike: a convention above the year's threshold (23 000 €),
    an arrêté attributif up to it. Every line of one beneficiary and year gets the same act."""
    lines = list(lines)
    totals: dict[tuple[Beneficiary, int], int] = defaultdict(int)
    for line in lines:
        totals[(line.beneficiary, line.year)] += max(line.cents, 0)
    acts: dict[tuple[str, int], str] = {}
    for line in lines:
        total = totals[(line.beneficiary, line.year)]
        acts[line.key] = "convention" if total > threshold_of_year(line.year) else "arrete"
    return acts
