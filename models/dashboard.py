"""The national dashboard's vocabulary, as pure rules: how territories are grouped (as the
ministry reports them: « 28 communes, 13 métropoles ou EPCI, 2 conseils départementaux,
1 conseil régional ») and the French labels."""

from __future__ import annotations

from models.actors import CollectiviteType
from models.french import pluriel
from models.reference import DOMAIN_LABELS, Domain

T = CollectiviteType
GROUP_OF_TYPE = {
    T.COMMUNE: "communes",
    T.METROPOLE: "metropoles_epci",
    T.EPCI: "metropoles_epci",
    T.COMMUNAUTE_URBAINE: "metropoles_epci",
    T.DEPARTEMENT: "departements",
    T.REGION: "regions",
}
TERRITORY_GROUPS = {
    "communes": "communes",
    "metropoles_epci": "métropoles ou EPCI",
    "departements": "conseils départementaux",
    "regions": "conseils régionaux",
}
SINGULARS = {
    "communes": "commune",
    "metropoles_epci": "métropole ou EPCI",
    "departements": "conseil départemental",
    "regions": "conseil régional",
}
P104_LABELS = {"12": "action 12 — primo-arrivants", "15": "action 15 — réfugiés"}
UNSPECIFIED_DOMAIN = "non_renseigne"


def territories_text(counts: dict[str, int]) -> str:
    """« 28 communes, 13 métropoles ou EPCI, 2 conseils départementaux, 1 conseil régional »."""
    return ", ".join(
        pluriel(counts.get(group, 0), SINGULARS[group], plural) for group, plural in TERRITORY_GROUPS.items()
    )


def group_of(collectivite_type: str) -> str:
    return GROUP_OF_TYPE[CollectiviteType(collectivite_type)]


def domain_label(code: str) -> str:
    try:
        return DOMAIN_LABELS[Domain(code)]
    except ValueError:
        return "non renseigné" if code == UNSPECIFIED_DOMAIN else code


def p104_label(code: str) -> str:
    return P104_LABELS.get(code, f"action {code}")
