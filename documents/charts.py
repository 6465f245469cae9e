"""The dashboard's charts, drawn with matplotlib: as SVG to inline in the HTML page, or as PNG
``data:`` URLs for the Prefect UI's Markdown artifacts (which show such images). No file is
published and nothing is fetched.

Colours are the DSFR's (bleu France first, then its illustrative palette). Text is set in
Marianne, read from the DSFR package (``make dsfr``) and handed to matplotlib once converted
from woff2; in the SVG it stays text, drawn by the page's own Marianne. Amounts are drawn in
euros from integer cents (the axis only: the tables beside give the exact figures)."""

from __future__ import annotations

import base64
import io
import logging
from collections.abc import Mapping, Sequence
from functools import lru_cache

import matplotlib

matplotlib.use("Agg")  # no display: charts are only written as SVG
from matplotlib import pyplot as plt  # noqa: E402 - imported once matplotlib's Agg backend is chosen
from matplotlib.ticker import FuncFormatter  # noqa: E402 - imported once matplotlib's Agg backend is chosen

from documents.fonts import MARIANNE_FACES, PLAIN, marianne_file  # noqa: E402 - imported once matplotlib's Agg backend is chosen
from models.money import format_eur  # noqa: E402 - imported once matplotlib's Agg backend is chosen

# Bleu France, then the DSFR's illustrative colours (green bourgeon, purple glycine, orange terre
# battue, yellow tournesol, blue écume, pink macaron, green émeraude, brown café crème, blue cumulus).
DSFR_COLOURS = [
    "#000091",
    "#68A532",
    "#A558A0",
    "#E4794A",
    "#C8AA39",
    "#465F9D",
    "#E18B76",
    "#00A95F",
    "#D1B781",
    "#417DC4",
    "#AEA397",
]
TEXT = "#161616"
GRID = "#DDDDDD"
logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)  # Marianne is the page's, not matplotlib's
STYLE = {
    "svg.fonttype": "none",
    "font.family": ["Marianne", "DejaVu Sans", "sans-serif"],
    "font.size": 10,
    "axes.edgecolor": GRID,
    "axes.labelcolor": TEXT,
    "xtick.color": TEXT,
    "ytick.color": TEXT,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "svg.hashsalt": "territoires",
}


@lru_cache(maxsize=1)
def register_marianne() -> bool:
    """Gives matplotlib Marianne (regular and bold); False (and DejaVu Sans) when the DSFR is not
    installed."""
    from matplotlib import font_manager

    found = False
    for weight in (400, 700):
        path = marianne_file(MARIANNE_FACES[(weight, "normal")])
        if path is not None and path.suffix in PLAIN:  # matplotlib reads no web font
            font_manager.fontManager.addfont(str(path))
            found = True
    return found


def euros_axis(cents: float, _position=None) -> str:
    """An axis tick in euros: « 1,5 M€ », « 250 k€ », « 900 € »."""
    euros = cents / 100
    if abs(euros) >= 1_000_000:
        return f"{euros / 1_000_000:.1f} M€".replace(".", ",").replace(",0 ", " ")
    if abs(euros) >= 1_000:
        return f"{euros / 1_000:.0f} k€"
    return f"{euros:.0f} €"


def _out(fig, fmt: str) -> str:
    """``svg``: the ``<svg>`` element to inline in HTML; ``png``: a ``data:`` URL."""
    if fmt == "png":
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
        plt.close(fig)
        return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
    text = io.StringIO()
    fig.savefig(text, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    svg = text.getvalue()
    return svg[svg.index("<svg") :]  # the XML prologue and DOCTYPE have no place inside HTML


def stacked_bars(
    title: str, categories: Sequence[str], series: Mapping[str, Sequence[int]], *, money: bool = False, fmt: str = "svg"
) -> str:
    """Vertical bars, one per category, stacked by series (e.g. territories by type, per year)."""
    register_marianne()
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(6.4, 3.4))
        bottom = [0] * len(categories)
        for colour, (label, values) in zip(DSFR_COLOURS, series.items(), strict=False):
            ax.bar(categories, values, bottom=bottom, label=label, color=colour, width=0.6)
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
        for x, total in enumerate(bottom):
            if total:
                ax.annotate(
                    format_eur(total) if money else f"{total}",
                    (x, total),
                    ha="center",
                    va="bottom",
                    fontsize=9,
                    xytext=(0, 2),
                    textcoords="offset points",
                )
        if money:
            ax.yaxis.set_major_formatter(FuncFormatter(euros_axis))
        ax.set_title(title, loc="left", fontsize=11, fontweight="bold", color=TEXT)
        ax.grid(axis="y", color=GRID, linewidth=0.6)
        ax.set_axisbelow(True)
        ax.margins(y=0.12)  # room for the totals above the bars
        if len(series) > 1:
            ax.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1, 1))
        return _out(fig, fmt)


def horizontal_bars(
    title: str,
    labels: Sequence[str],
    values: Sequence[int],
    *,
    money: bool = True,
    reference: Sequence[int] | None = None,
    reference_label: str | None = None,
    fmt: str = "svg",
) -> str:
    """Horizontal bars, largest first at the top; ``reference`` draws a mark per bar (an envelope)."""
    register_marianne()
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(6.4, max(1.6, 0.34 * len(labels) + 0.8)))
        positions = list(range(len(labels)))[::-1]
        ax.barh(positions, values, color=DSFR_COLOURS[0], height=0.6, label=None)
        if reference is not None:
            ax.scatter(reference, positions, marker="|", s=400, color=DSFR_COLOURS[3], label=reference_label, zorder=3)
            ax.legend(frameon=False, fontsize=8, loc="lower right")
        for y, value in zip(positions, values, strict=True):
            ax.annotate(
                format_eur(value) if money else f"{value}",
                (value, y),
                va="center",
                fontsize=8,
                xytext=(3, 0),
                textcoords="offset points",
            )
        ax.set_yticks(positions, labels)
        if money:
            ax.xaxis.set_major_formatter(FuncFormatter(euros_axis))
        ax.set_title(title, loc="left", fontsize=11, fontweight="bold", color=TEXT)
        ax.grid(axis="x", color=GRID, linewidth=0.6)
        ax.set_axisbelow(True)
        ax.margins(x=0.18)
        return _out(fig, fmt)
