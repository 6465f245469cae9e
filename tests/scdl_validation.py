"""Validate an SCDL « subventions » 2.1.1 file against the vendored schema, offline, with frictionless.

A tests' helper: frictionless is a dependency of the ``test`` extra, not of the application, which
runs without it. The schema stays where the export needs it (``services.finance.scdl.SCHEMA_PATH``).

The schema's Table Schema part (types, patterns, enumerations, ``required``, lengths, bounds) is
checked by frictionless itself. Its ``custom_checks`` are Validata's (the validator behind
schema.data.gouv.fr), which frictionless does not know; they are implemented here the way Validata
does:

- ``french-siret-value``: a non-empty cell is a valid SIRET (14 digits, Luhn checksums, La Poste's
  exception), per ``stdnum.fr.siret``;
- ``one-of-required``: on each line, at least one of the two columns has a value (both may).

A custom check this module does not know makes ``validate_scdl`` fail loudly rather than pass.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import attrs
import stdnum.fr.siret
from frictionless import Check, Checklist, Dialect, Resource, Schema, errors, formats

from services.finance.scdl import SCHEMA_PATH


class FrenchSiretValueError(errors.CellError):
    type = "french-siret-value"
    title = "French SIRET Value"
    description = "The value is not a valid French SIRET number (14 digits and their checksums)."
    template = 'The cell "{cell}" in row at position "{rowNumber}" and field "{fieldName}" is not a valid SIRET: {note}'


class OneOfRequiredError(errors.RowError):
    type = "one-of-required"
    title = "One Of Required"
    description = "At least one of two columns must have a value on each line."
    template = "The row at position {rowNumber} has an error: {note}"


@attrs.define(kw_only=True, repr=False)
class FrenchSiretValue(Check):
    """Validata's ``french-siret-value``: an empty cell passes (``required`` is the schema's business)."""

    type = "french-siret-value"
    Errors = [FrenchSiretValueError]

    column: str

    def validate_start(self):
        if self.column not in self.resource.schema.field_names:  # type: ignore[union-attr]
            yield errors.CheckError(note=f'french-siret-value check requires field "{self.column}"')

    def validate_row(self, row):
        value = row[self.column]
        if value not in (None, "") and not stdnum.fr.siret.is_valid(str(value)):
            yield FrenchSiretValueError.from_row(
                row, note="not 14 digits whose SIREN and SIRET checksums hold", field_name=self.column
            )

    metadata_profile_patch = {"required": ["column"], "properties": {"column": {"type": "string"}}}


@attrs.define(kw_only=True, repr=False)
class OneOfRequired(Check):
    """Validata's ``one-of-required``: one of the two columns, at least, has a value."""

    type = "one-of-required"
    Errors = [OneOfRequiredError]

    column1: str
    column2: str

    def validate_start(self):
        missing = [c for c in (self.column1, self.column2) if c not in self.resource.schema.field_names]  # type: ignore[union-attr]
        if len(missing) == 2:
            yield errors.CheckError(note=f'one-of-required check requires field "{self.column1}" or "{self.column2}"')

    def validate_row(self, row):
        if all(row.get(c) in (None, "") for c in (self.column1, self.column2)):
            yield OneOfRequiredError.from_row(
                row, note=f'one of "{self.column1}" or "{self.column2}" must have a value'
            )

    metadata_profile_patch = {
        "required": ["column1", "column2"],
        "properties": {"column1": {"type": "string"}, "column2": {"type": "string"}},
    }


def custom_checks(descriptor: dict) -> list[Check]:
    """The schema's ``custom_checks`` as frictionless checks; an unknown one is an error."""
    checks: list[Check] = []
    for custom in descriptor.get("custom_checks", []):
        name, params = custom["name"], custom.get("params", {})
        if name == "french-siret-value":
            checks.append(FrenchSiretValue(column=params["column"]))
        elif name == "one-of-required":
            checks.append(OneOfRequired(column1=params["column1"], column2=params["column2"]))
        else:
            raise ValueError(f"custom check {name!r} of the SCDL schema is not implemented here")
    return checks


def _messages(report) -> Iterable[str]:
    for error in report.errors:
        yield f"{error.type}: {error.message}"
    for task in report.tasks:
        for error in task.errors:
            yield f"{error.type}: {error.message}"


def validate_scdl(csv_text: str, schema_path: Path = SCHEMA_PATH) -> list[str]:
    """The errors of an SCDL « subventions » CSV (comma-separated, UTF-8) against the schema and its
    custom checks, one message per error; an empty list when the file is valid."""
    descriptor = json.loads(Path(schema_path).read_text(encoding="utf-8"))
    schema = Schema.from_descriptor(descriptor)
    resource = Resource(
        data=csv_text.encode("utf-8"),
        format="csv",
        encoding="utf-8",
        schema=schema,
        dialect=Dialect(controls=[formats.CsvControl(delimiter=",")]),
    )
    report = resource.validate(checklist=Checklist(checks=custom_checks(descriptor)))
    return list(_messages(report))
