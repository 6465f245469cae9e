"""The ``territoires`` command line.

Nothing leaves the machine unasked: before Prefect is imported, its usage analytics (the server's
and the client's) and the UI's promotional content are turned off for this process and for every
process it starts (Prefect server, served flows, demo). An operator who wants them sets the
variables explicitly.
"""

import os

OFFLINE = {"PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1",
           "PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT": "false"}
for _name, _value in OFFLINE.items():
    os.environ.setdefault(_name, _value)
