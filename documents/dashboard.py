"""The national dashboard as one self-contained HTML page, styled with the DSFR (inlined by
``documents.dsfr``) and its charts inlined as SVG (``documents.charts``): it opens offline,
from a file or a link, and fetches nothing. Every text comes from the figures, escaped."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from documents import charts, dsfr
from models.dashboard import TERRITORY_GROUPS, domain_label, p104_label, territories_text
from models.money import format_eur
from models.reference import departement_nom
from models.types import to_paris

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
TOP_DEPARTEMENTS = 15


def focus_year(figures: dict, year: int | None = None) -> int | None:
    """The year the page opens on: the one asked, else the latest with an engaged amount."""
    if year is not None:
        return year
    years = [y for y, v in figures["montants"]["par_annee"].items() if v["total_cents"]] or figures["annees"]
    return max(years) if years else None


def view(figures: dict, year: int | None = None) -> dict:
    """What the page shows, from ``services.reporting.national.figures``."""
    year = focus_year(figures, year)
    years = figures["annees"]
    amounts, territories, delegations = figures["montants"], figures["territoires"], figures["delegations"]
    of_year = amounts["par_annee"].get(year, {})
    by_domain, by_dep = ranked(figures, "par_domaine", year), ranked(figures, "par_departement", year)
    return {
        "year": year,
        "years": years,
        "generated": to_paris(datetime.fromisoformat(figures["genere_le"])).strftime("%d/%m/%Y à %H:%M"),
        "key": {
            "territoires": territories.get(year, {}).get("total", 0),
            "montant": format_eur(of_year.get("total_cents", 0)),
            "lignes": of_year.get("lignes_financees", 0),
            "retards": figures["etapes_en_retard"]["total"],
            "lignes_4_ans": sum(
                amounts["par_annee"].get(y, {}).get("lignes_financees", 0) for y in range(year - 3, year + 1)
            )
            if year
            else 0,
        },
        "territories": [
            {
                "annee": y,
                **territories.get(y, {g: 0 for g in TERRITORY_GROUPS}),
                "total": territories.get(y, {}).get("total", 0),
            }
            for y in years
        ],
        "groups": TERRITORY_GROUPS,
        "amounts": [
            {
                "annee": y,
                "ctai": format_eur(v["ctai_cents"]),
                "ptai": format_eur(v["ptai_cents"]),
                "total": format_eur(v["total_cents"]),
                "lignes": v["lignes_financees"],
            }
            for y, v in amounts["par_annee"].items()
        ],
        "domains": [{"libelle": domain_label(code), "montant": format_eur(cents)} for code, cents in by_domain],
        "p104": [
            {"annee": y, **{p104_label(code): format_eur(cents) for code, cents in v.items()}}
            for y, v in amounts["par_action_p104"].items()
        ],
        "p104_columns": sorted({p104_label(code) for v in amounts["par_action_p104"].values() for code in v}),
        "departements": [
            {"code": code, "nom": _departement(code), "montant": format_eur(cents)} for code, cents in by_dep
        ],
        "delegations": [
            {
                "annee": y,
                "enveloppe": None if d["enveloppe_cents"] is None else format_eur(d["enveloppe_cents"]),
                "delegue": format_eur(d["delegue_cents"]),
                "reste": None if d["reste_cents"] is None else format_eur(d["reste_cents"]),
            }
            for y, d in delegations.items()
        ],
        "late": [
            {"departement": code, "nom": _departement(code), "nombre": n}
            for code, n in figures["etapes_en_retard"]["par_departement"].items()
        ],
    }


def ranked(figures: dict, breakdown: str, year: int | None) -> list[tuple[str, int]]:
    """One year's amounts of a breakdown (``par_domaine``, ``par_departement``), largest first."""
    return sorted(figures["montants"][breakdown].get(year, {}).items(), key=lambda kv: -kv[1])


def _departement(code: str) -> str:
    if code == "national":
        return "niveau national"
    return f"{departement_nom(code)} ({code})"


def charts_of(figures: dict, year: int | None, fmt: str) -> dict[str, str]:
    """Each chart with its name, as inline SVG or as a PNG ``data:`` URL (``fmt``)."""
    years = figures["annees"]
    by_domain, by_dep = ranked(figures, "par_domaine", year), ranked(figures, "par_departement", year)
    amounts = figures["montants"]["par_annee"]
    out = {}
    if figures["territoires"]:
        out["territoires"] = charts.stacked_bars(
            "Territoires engagés, par type",
            [str(y) for y in years],
            {
                label: [figures["territoires"].get(y, {}).get(g, 0) for y in years]
                for g, label in TERRITORY_GROUPS.items()
            },
            fmt=fmt,
        )
    if amounts:
        out["montants"] = charts.stacked_bars(
            "Montants engagés, par année",
            [str(y) for y in amounts],
            {
                "contrats (CTAI)": [v["ctai_cents"] for v in amounts.values()],
                "projets (PTAI)": [v["ptai_cents"] for v in amounts.values()],
            },
            money=True,
            fmt=fmt,
        )
    if by_domain:
        out["domaines"] = charts.horizontal_bars(
            f"Montants engagés en {year}, par domaine",
            [domain_label(c) for c, _ in by_domain],
            [v for _, v in by_domain],
            fmt=fmt,
        )
    if by_dep:
        top = by_dep[:TOP_DEPARTEMENTS]
        out["departements"] = charts.horizontal_bars(
            f"Montants engagés en {year}, par département"
            + (f" ({len(top)} premiers)" if len(by_dep) > len(top) else ""),
            [_departement(c) for c, _ in top],
            [v for _, v in top],
            fmt=fmt,
        )
    p104 = figures["montants"]["par_action_p104"]
    if p104:
        codes = sorted({c for v in p104.values() for c in v})
        out["p104"] = charts.stacked_bars(
            "Montants engagés, par action du programme 104",
            [str(y) for y in p104],
            {p104_label(c): [v.get(c, 0) for v in p104.values()] for c in codes},
            money=True,
            fmt=fmt,
        )
    delegations = figures["delegations"]
    if delegations:
        out["delegations"] = charts.horizontal_bars(
            "Crédits délégués au regard de l'enveloppe",
            [str(y) for y in delegations],
            [d["delegue_cents"] for d in delegations.values()],
            reference=[d["enveloppe_cents"] or 0 for d in delegations.values()],
            reference_label="enveloppe",
            fmt=fmt,
        )
    late = figures["etapes_en_retard"]["par_departement"]
    if late:
        out["retards"] = charts.horizontal_bars(
            "Étapes en retard, par département",
            [_departement(c) for c in late],
            list(late.values()),
            money=False,
            fmt=fmt,
        )
    return out


def render_html(figures: dict, year: int | None = None) -> str:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR), autoescape=select_autoescape(["html", "j2"]), undefined=StrictUndefined
    )
    v = view(figures, year)
    v["charts"] = {name: Markup(svg) for name, svg in charts_of(figures, v["year"], "svg").items()}  # our own SVG
    return env.get_template("tableau_de_bord.html.j2").render(
        v=v, css=Markup(dsfr.stylesheet()), dsfr_installed=dsfr.installed()
    )


def markdown(figures: dict, report_link: str | None, year: int | None = None) -> str:
    """The artifact a person reads in the Prefect UI: the key figures, each chart (a PNG the UI
    shows inline) above its exact figures, and the link to the full page."""
    v = view(figures, year)
    if v["year"] is None:
        return "# Tableau de bord national\n\nAucun contrat signé ni crédit délégué pour l'instant."
    lines = [
        f"# Tableau de bord national — {v['year']}",
        "",
        f"Données arrêtées le {v['generated']} (heure de Paris).",
        "",
    ]
    if report_link:
        lines += [f"**[Ouvrir le rapport complet (page autonome, hors ligne)]({report_link})**", ""]
    images = charts_of(figures, v["year"], "png")
    k = v["key"]
    lines += [
        "| Territoires engagés | Montant engagé | Actions et projets financés | Étapes en retard |",
        "|---|---|---|---|",
        f"| {k['territoires']} | {k['montant']} | {k['lignes']} ({k['lignes_4_ans']} sur 4 ans) | {k['retards']} |",
        "",
    ]
    lines += _bars(
        "Territoires engagés, par type et par année",
        images.get("territoires"),
        [(str(r["annee"]), r["total"], territories_text(r)) for r in v["territories"]],
    )
    amounts = figures["montants"]
    lines += _bars(
        "Montants engagés, par année",
        images.get("montants"),
        [(str(y), a["total_cents"], format_eur(a["total_cents"])) for y, a in amounts["par_annee"].items()],
    )
    lines += _bars(
        f"Montants engagés en {v['year']}, par domaine",
        images.get("domaines"),
        [(domain_label(c), n, format_eur(n)) for c, n in ranked(figures, "par_domaine", v["year"])],
    )
    lines += _bars(
        f"Montants engagés en {v['year']}, par action du programme 104",
        images.get("p104"),
        [(p104_label(c), n, format_eur(n)) for c, n in amounts["par_action_p104"].get(v["year"], {}).items()],
    )
    lines += _bars(
        f"Montants engagés en {v['year']}, par département ({TOP_DEPARTEMENTS} premiers)",
        images.get("departements"),
        [
            (_departement(c), n, format_eur(n))
            for c, n in ranked(figures, "par_departement", v["year"])[:TOP_DEPARTEMENTS]
        ],
    )
    lines += _bars(
        "Crédits délégués au regard de l'enveloppe",
        images.get("delegations"),
        [
            (
                str(y),
                d["delegue_cents"],
                f"{format_eur(d['delegue_cents'])} sur "
                + (format_eur(d["enveloppe_cents"]) if d["enveloppe_cents"] is not None else "une enveloppe non fixée"),
            )
            for y, d in figures["delegations"].items()
        ],
    )
    lines += _bars(
        "Étapes en retard, par département",
        images.get("retards"),
        [(_departement(c), n, str(n)) for c, n in figures["etapes_en_retard"]["par_departement"].items()],
    )
    return "\n".join(lines)


def _bars(title: str, image: str | None, rows: list[tuple[str, int, str]]) -> list[str]:
    """A section: its chart (a PNG ``data:`` URL we drew), then the exact figure of each line."""
    if not rows:
        return [f"## {title}", "", "Rien à signaler.", ""]
    return [
        f"## {title}",
        "",
        *([f"![{title}]({image})", ""] if image else []),
        "| | |",
        "|---|---|",
        *(f"| {_cell(label)} | {_cell(text)} |" for label, _, text in rows),
        "",
    ]


def _cell(text: str) -> str:
    """Markdown table cell: no pipe, no markup from a name (escaped as characters)."""
    return "".join(f"\\{c}" if c in "\\`*_[]<>|#" else c for c in text)
