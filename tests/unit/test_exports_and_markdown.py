"""What leaves the platform as text others will open: spreadsheets run no formula, Markdown shows
user text as typed."""

import pytest

from services.engine.texts import md
from services.finance.exports import spreadsheet_safe, to_csv


@pytest.mark.parametrize("cell", ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"])
def test_a_cell_that_a_spreadsheet_would_run_is_neutralised(cell):
    assert spreadsheet_safe(cell) == "'" + cell


def test_ordinary_cells_are_left_as_they_are():
    assert [spreadsheet_safe(v) for v in ("Ville de Poitiers", "1500.00", 12, None)] == [
        "Ville de Poitiers",
        "1500.00",
        "12",
        "",
    ]


def test_a_csv_export_neutralises_every_cell_and_separates_with_semicolons():
    text = to_csv(["objet", "montant"], [{"objet": "=cmd|'/c calc'!A1", "montant": "10.00"}])
    assert text.splitlines() == ["objet;montant", "'=cmd|'/c calc'!A1;10.00"]


@pytest.mark.parametrize(
    "typed",
    [
        "[clic](javascript:alert(1))",
        "**gras** _italique_",
        "<img src=x onerror=alert(1)>",
        "# Titre",
        "| cellule |",
        "![image](http://x/y.png)",
        "`code`",
        "> citation",
    ],
)
def test_user_text_in_markdown_carries_no_link_image_emphasis_heading_table_or_html(typed):
    escaped = md(typed)
    assert all(f"\\{c}" in escaped for c in set(typed) if c in "[]()*_<>#|!`")
    assert "\n" not in md(typed + "\n\n# autre")


def test_text_without_markdown_reads_the_same():
    assert md("Ville de Poitiers") == "Ville de Poitiers" and md(None) == ""
