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


def run_main(*args: str) -> tuple[int, str, str]:
    """The console script's own entry point (its last net included), in this process: exit
    status, standard output, standard error."""
    import io
    from contextlib import redirect_stderr, redirect_stdout

    from cli.main import main

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            main(list(args))
            status = 0
        except SystemExit as exc:
            status = exc.code if isinstance(exc.code, int) else 1
    return status, out.getvalue(), err.getvalue()
