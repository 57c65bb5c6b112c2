"""A local HTTP file server for the weights tests (127.0.0.1, random port, its own thread).

It serves byte strings by URL path and can misbehave the ways real downloads do: ignore
``Range``, refuse it with 416, cut a transfer part way, serve other bytes than published.
Every request is recorded (path, Range header, status, bytes sent) so tests can assert what
the client asked for.
"""

from __future__ import annotations

import hashlib
import re
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from costcore.weights import WeightsEntry, WeightsFile


@dataclass
class Served:
    """One request as the server saw it."""

    path: str
    range: str | None
    status: int
    sent: int


@dataclass
class Behaviour:
    """How the server answers; tests change it between downloads."""

    ranges: bool = True
    #: answer every ranged request with 416 Range Not Satisfiable
    refuse_ranges: bool = False
    #: send this many body bytes of the next response, then close the connection
    cut_after: int | None = None
    #: send these bytes instead of the real ones (a wrong file behind the URL)
    replace: dict[str, bytes] = field(default_factory=dict)


class FileServer:
    """``with FileServer({"/a.pth": data}) as server: server.url("/a.pth")``."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = dict(files)
        self.behaviour = Behaviour()
        self.requests: list[Served] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def __enter__(self) -> FileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # keep test output clean
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                server._answer(self)

        return Handler

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        behaviour = self.behaviour
        ranged = handler.headers.get("Range")
        data = behaviour.replace.get(handler.path, self.files.get(handler.path))
        if data is None:
            self._record(handler.path, ranged, 404, 0)
            handler.send_error(404, "Not Found")
            return
        start = 0
        match = re.fullmatch(r"bytes=(\d+)-", ranged or "")
        if match and behaviour.refuse_ranges:
            self._record(handler.path, ranged, 416, 0)
            handler.send_response(416)
            handler.send_header("Content-Range", f"bytes */{len(data)}")
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        if match and behaviour.ranges and int(match.group(1)) < len(data):
            start = int(match.group(1))
            handler.send_response(206)
            handler.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            status = 206
        else:
            handler.send_response(200)
            status = 200
        body = data[start:]
        handler.send_header("Content-Length", str(len(body)))
        handler.send_header("Content-Type", "application/octet-stream")
        handler.end_headers()
        if behaviour.cut_after is not None:
            body = body[: behaviour.cut_after]
            behaviour.cut_after = None
        self._record(handler.path, ranged, status, len(body))
        try:
            handler.wfile.write(body)
            handler.wfile.flush()
        except OSError:  # the client went away (a cancelled download)
            pass
        handler.close_connection = True

    def _record(self, path: str, ranged: str | None, status: int, sent: int) -> None:
        self.requests.append(Served(path, ranged, status, sent))


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def make_entry(
    name: str, base_url: str, files: dict[str, bytes], engine: str = "testengine"
) -> WeightsEntry:
    """An entry whose files are served at ``base_url/<name>/<file>``."""
    return WeightsEntry(
        name=name,
        engine=engine,
        description=f"test weights {name}",
        license="MIT",
        files=tuple(
            WeightsFile(file_name, f"{base_url}/{name}/{file_name}", sha256(data), len(data))
            for file_name, data in files.items()
        ),
    )


def closed_port_url(path: str = "/x.pth") -> str:
    """A URL on 127.0.0.1 where nothing listens (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"
