"""The ``territoires`` command line.

Nothing leaves the machine unasked: before Prefect is imported, its usage analytics (the server's
and the client's) and the UI's promotional content are turned off for this process and for every
process it starts (Prefect server, served flows, demo). An operator who wants them sets the
variables explicitly.

The command line finds its platform: without ``PREFECT_API_URL``, it uses the Prefect API that
``territoires up`` recorded in the data folder (``cli/platform_state.py``), and it never starts a
temporary Prefect server of its own (one more writer on Prefect's database, and a server that
knows none of the platform's runs): with no reachable Prefect, a command stops with
« PREFECT_INJOIGNABLE » and says how to start the platform. ``find_platform`` runs when a command
is about to run (``cli.main``), before anything imports Prefect, which is imported only by the
commands that talk to it: ``territoires --help`` reads no record and imports no Prefect.
"""

import os

OFFLINE = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT": "false",
}
for _name, _value in OFFLINE.items():
    os.environ.setdefault(_name, _value)
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_ENABLED", "false")


def find_platform() -> None:
    """``PREFECT_API_URL`` from the record of ``territoires up``, unless it is set (once)."""
    from cli.platform_state import FROM_RECORD, load

    if os.environ.get("PREFECT_API_URL"):
        return
    record = load()
    if record is not None and record.api_url:
        os.environ["PREFECT_API_URL"] = record.api_url
        if record.ui_url:
            os.environ.setdefault("PREFECT_UI_URL", record.ui_url)
        os.environ[FROM_RECORD] = "1"
