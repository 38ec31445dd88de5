"""Serving the studio on 127.0.0.1 only, on a free port unless one is asked for."""

from __future__ import annotations

import threading
from typing import Callable
from urllib.parse import quote

from ..errors import EthosError
from . import security
from .project import Project


class Server:
    """A studio's threaded server, bound to 127.0.0.1; ``url`` carries the token."""

    def __init__(self, project: Project, port: int = 0, token: str | None = None, warm_up: bool = True):
        from werkzeug.serving import make_server

        from .app import create_app

        self.token = token or security.new_token()
        self.app = create_app(project, self.token, port or None)
        try:
            self.http = make_server("127.0.0.1", port or 0, self.app, threaded=True)
        except OSError as error:
            raise EthosError(f"cannot listen on 127.0.0.1:{port} ({error.strerror or error}); choose another --port, or leave it out for a free one") from None
        self.port = self.http.server_port
        self.app.config["ALLOWED_HOSTS"] = security.allowed_hosts(self.port)
        first = project.order[0] if project.named else None
        path = f"/doc/{quote(first, safe='')}" if first else "/"
        self.url = f"http://127.0.0.1:{self.port}{path}?token={self.token}"
        if warm_up:
            self.app.extensions["ethos_studio"].warm_up(first)

    def serve_forever(self) -> None:
        self.http.serve_forever()

    def start_in_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, name="ethos-studio", daemon=True)
        thread.start()
        return thread

    def shutdown(self) -> None:
        self.http.shutdown()
        self.http.server_close()


def serve(project: Project, port: int = 0, *, open_browser: bool = True, announce: Callable[[str], None] = print) -> None:
    """Serve until interrupted: announce the URL (with its token), open it in a browser unless told not to."""
    server = Server(project, port)
    announce(server.url)
    if open_browser:
        import webbrowser

        threading.Timer(0.3, lambda: webbrowser.open(server.url)).start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.http.server_close()
