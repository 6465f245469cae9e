"""Each served run still in a process of its own, forked from one that has Prefect and the
platform's flows imported already.

Why: ``serve`` runs each flow run in a new interpreter (multiprocessing's ``spawn``), which imports
Prefect and the platform again before the step does anything: about 5 s of CPU per step run on
this machine, paid again at every resume. Forking from a process that imported them once (Python's
``forkserver``) costs a few milliseconds and keeps what ``spawn`` gave: each run in its own
process, started from a single-threaded parent (the fork server starts no thread), killed, joined
and judged by its exit code as before; the fork server ends with the serving process.

Prefect's runner starts these processes through ``run_flow_in_subprocess``, which hard-codes the
``spawn`` context; its starter module says to patch that reference to change how runs start.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.forkserver
import threading
from types import SimpleNamespace

# Imported by the fork server once, so that no run imports them again. Weasyprint loads Pango for
# the acts' PDFs; a module missing here is only imported later, by the run that needs it.
PRELOADED = ["prefect.flow_engine", "prefect.runner", "weasyprint", "babel.dates", "babel.numbers"]

_lock = threading.Lock()


def use_forked_runs(flow_modules: list[str]) -> None:
    """From now on, the runs this process serves are forked from a preloaded fork server."""
    import prefect.flow_engine as flow_engine
    import prefect.runner._starter_direct as direct_starter
    import prefect.runner.runner as runner_module

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([*PRELOADED, *sorted(set(flow_modules))])
    multiprocessing.forkserver.ensure_running()  # it imports while the serving process starts
    spawn_through_fork_server = SimpleNamespace(get_context=lambda method: context)
    run_in_spawned_process = flow_engine.run_flow_in_subprocess

    def run_flow_in_forked_process(*args, **kwargs):
        # The engine's function reads ``multiprocessing.get_context`` when it is called: it is
        # pointed at the fork server for the duration of that call only.
        with _lock:
            flow_engine.multiprocessing = spawn_through_fork_server
            try:
                return run_in_spawned_process(*args, **kwargs)
            finally:
                flow_engine.multiprocessing = multiprocessing

    direct_starter.run_flow_in_subprocess = run_flow_in_forked_process
    runner_module.run_flow_in_subprocess = run_flow_in_forked_process
