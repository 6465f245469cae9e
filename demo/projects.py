"""The seven projects of seeds 000 and 001 (« Zoom sur des projets soutenus »), one per city, each
with the seed's title, domain, public and objective, filed as 2021 PTAI requests so that a newcomer
meets the instruction chain at every stage (``demo.stages``).

From the seeds: the titles (the seed's heading of each project), the objectives (the seed's
sentence), the domains (the seed's headings; Strasbourg's « Vélonomie », under « Sport » in seed 000,
is coded mobilité, as its sentence and DOMAIN.md say), the publics: a project whose sentence names
refugees only is for BPI (P104 action 15, R17), the others for primo-arrivants (action 12).
FICTITIOUS (the sources give none): the associations' names, every amount, the number of people,
the dates, the collectivité's engagement, and the perspective of widening a BPI project (R3). The
seeds present these projects as actions of the cities' contracts; the demo files them as requests.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from models.actors import Collectivite, Porteur
from models.reference import Domain, P104Action, Public


@dataclass(frozen=True)
class Project:
    porteur: str  # FICTITIOUS
    title: str
    objective: str
    domain: Domain
    public: Public
    amount_eur: str  # FICTITIOUS

    @property
    def p104_action(self) -> int:
        return P104Action.REFUGIES if self.public == Public.BPI else P104Action.PRIMO_ARRIVANTS


# By département of the city (COLLECTIVITES in ``demo.data``).
PROJECTS = {
    "76": Project(
        "Association havraise de médiation culturelle (nom fictif)",
        "La parentalité au cœur de l'action sur l'égalité femmes / hommes",
        "Promouvoir l'égalité femmes / hommes par la tenue de sessions de médiation culturelle traitant de "
        "diverses problématiques comme la contraception, la précarité menstruelle, les interruptions "
        "volontaires de grossesse, et de la sexualité au sens large.",
        Domain.PARENTALITE,
        Public.PRIMO_ARRIVANTS,
        "18000",
    ),
    "37": Project(
        "Maison des familles de Tours (nom fictif)",
        "La parentalité, problématique prioritaire du contrat territorial",
        "Favoriser l'équité des charges quotidiennes des ménages et l'intégration des mères réfugiées isolées "
        "par la mise en place d'ateliers à destination des parents et la réservation de places au sein des "
        "structures de petite enfance.",
        Domain.PARENTALITE,
        Public.BPI,
        "22000",
    ),
    "38": Project(
        "Atelier d'art-thérapie de Grenoble (nom fictif)",
        "Robes de papier : l'art comme outil de thérapie collective",
        "Encourager l'épanouissement et l'intégration des femmes réfugiées par la mise en place des "
        "thérapies collectives et la prise en charge des traumatismes causés par l'exil.",
        Domain.SANTE,
        Public.BPI,
        "20000",
    ),
    # Seed 000 reads « révolution », seed 001 « évolution »: its sentence (« faire évoluer les
    # mentalités ») sides with seed 001.
    "21": Project(
        "Dijon Citoyens du monde (nom fictif)",
        "Ensemble ! Pour une évolution des mentalités",
        "Apaiser le regard porté par la société d'accueil sur les réfugiés et favoriser leur intégration par "
        "la mise en place d'initiatives contribuant à faire évoluer les mentalités.",
        Domain.CITOYENNETE,
        Public.BPI,
        "25000",
    ),
    "63": Project(
        "Échanges Clermont Interculturel (nom fictif)",
        "Les échanges interculturels au service de l'intégration",
        "Encourager les échanges interculturels et valoriser la culture d'origine des personnes réfugiées par "
        "la création d'un espace d'information leur permettant de la raconter, de la partager et de la "
        "transmettre.",
        Domain.CITOYENNETE,
        Public.BPI,
        "30000",
    ),
    "35": Project(
        "Association du restaurant You.Me (nom fictif)",
        "Projet You.Me : un restaurant solidaire pour l'intégration",
        "Encourager l'autonomisation et l'intégration socio-professionnelle des personnes réfugiées par la "
        "création d'un restaurant visant à les embaucher et à les former aux métiers de la restauration.",
        Domain.EMPLOI,
        Public.BPI,
        "45000",
    ),
    "67": Project(
        "Association Vélonomie Strasbourg (nom fictif)",
        "Projet Vélonomie",
        "Encourager l'autonomisation et la mobilité individuelle par l'apprentissage de la pratique du vélo en ville.",
        Domain.MOBILITE,
        Public.PRIMO_ARRIVANTS,
        "15000",
    ),
}

CATEGORIES = {
    Public.BPI: ["refugie", "protection_subsidiaire"],
    Public.PRIMO_ARRIVANTS: ["refugie", "protection_subsidiaire", "primo_arrivant"],
}
# R3: a BPI-only project justifies its public (the seed's own sentence names refugees) and states
# a perspective of widening (FICTITIOUS: the sources say nothing of it).
BPI_JUSTIFICATION = "La source décrit ce projet pour les personnes réfugiées : « {objective} »"
BPI_WIDENING = (
    "Ouvrir l'action aux autres primo-arrivants du territoire après sa première année "
    "(perspective fictive de la démonstration)."
)


def demo_request(collectivite: Collectivite, porteur: Porteur, project: Project) -> dict:
    """A Cerfa-12156-shaped request, as ``examples/ptai-request.json``."""
    amount = Decimal(project.amount_eur)
    public = {"categories": CATEGORIES[project.public], "nombre_beneficiaires": 40}
    if project.public == Public.BPI:
        public |= {
            "justification_bpi": BPI_JUSTIFICATION.format(objective=project.objective),
            "perspective_elargissement": BPI_WIDENING,
        }
    return {
        "campagne": 2021,
        "demandeur": {"siren": collectivite.siren, "nom": collectivite.name},
        "porteur": {"siret": porteur.siret, "nom": porteur.name, "email": porteur.email, "rna": porteur.rna},
        "projet": {
            "intitule": project.title,
            "objectifs": project.objective,
            "domaines": [str(project.domain)],
            "public": public,
            "date_debut": "2021-09-01",
            "date_fin": "2022-08-31",
            "complementarite_cir": "Prolonge les formations civique et linguistique du CIR, sans s'y substituer.",
        },
        "engagement_collectivite": [
            {"type": "cofinancement", "montant_eur": f"{amount / 2:.2f}"},
            {"type": "salle", "valorisation": "mise à disposition d'une salle municipale deux fois par semaine"},
        ],
        "budget": {
            "nature": "fonctionnement",
            "cout_total_eur": f"{amount * 2:.2f}",
            "montant_demande_eur": f"{amount:.2f}",
            "action_p104": project.p104_action,
            "cofinancements": [{"financeur": collectivite.name, "montant_eur": f"{amount / 2:.2f}"}],
        },
    }
