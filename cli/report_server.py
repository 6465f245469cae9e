"""The reports folder served read-only on 127.0.0.1 by ``territoires up``, so that the Prefect
UI's artifacts can link to the national dashboard's HTML page (a browser refuses ``file:``
links from a web page). Nothing but that folder's files is served; nothing listens outside."""

from __future__ import annotations

import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class _ReportHandler(SimpleHTTPRequestHandler):
    def list_directory(self, path):  # noqa: ANN001 - the folder's listing is not published
        self.send_error(404, "Introuvable")
        return None

    def end_headers(self) -> None:
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the platform's log is enough
        return


class ReportServer:
    def __init__(self, folder: Path, port: int, host: str = "127.0.0.1"):
        self.folder, self.port, self.host = folder, port, host
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> ReportServer:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._server = ThreadingHTTPServer((self.host, self.port), partial(_ReportHandler, directory=str(self.folder)))
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, name="rapports", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
