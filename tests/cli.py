"""Runs the ``territoires`` CLI in-process, as a user would type it."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from cli.main import app


def run(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def run_json(*args: str):
    result = run(*args, "--json")
    return result, json.loads(result.stdout) if result.stdout.strip() else None
