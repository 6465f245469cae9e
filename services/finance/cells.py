"""Cells safe to open in a spreadsheet (pure: standard library only).

A text cell that starts like a formula (``=``, ``+``, ``-``, ``@``, a tab, a carriage return, or
their full-width forms) would be run by a spreadsheet that opens the CSV: it gets a leading quote.
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")  # and their full-width forms


def spreadsheet_safe(value) -> str:
    """A cell a spreadsheet will not run: text starting like a formula gets a leading quote."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text
