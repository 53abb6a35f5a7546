"""An engine that lies about files: a proxy in front of the real Docker Engine.

Every request goes to the engine as it is, except ``GET``/``HEAD
/containers/{id}/archive`` (what ``cp`` out of a container asks for): those are
answered with the archive the test chose, so composer, the docker CLI and
Docker Compose v2 can all be pointed (``DOCKER_HOST``) at an engine whose
archives hold ``..`` names, links out of the destination, device files...

The proxy speaks plain HTTP/1.1 on a unix socket in a private (0700) folder; it
reads each engine answer whole, so it is only for request/answer calls (no
event stream, no attach), which is all ``cp`` makes.
"""

from __future__ import annotations

import base64
import http.client
import http.server
import io
import json
import os
import socket
import socketserver
import tarfile
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

ENGINE_SOCKET = "/var/run/docker.sock"


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str) -> None:
        super().__init__("localhost", timeout=120)
        self.path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(120)
        sock.connect(self.path)
        self.sock = sock


@dataclass
class Member:
    """One tar member of a hostile archive."""

    name: str
    kind: str = "file"  # file | dir | symlink | hardlink | chardev | blockdev | fifo
    data: bytes = b""
    link: str = ""
    mode: int = 0o644


@dataclass
class HostileArchive:
    """What the proxy answers ``cp`` with: the members, and the path stat the
    engine would send (``X-Docker-Container-Path-Stat``)."""

    members: Sequence[Member]
    root_name: str = "data"
    root_is_dir: bool = True
    requests: list[str] = field(default_factory=list)

    def tar(self) -> bytes:
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for m in self.members:
                info = tarfile.TarInfo(m.name)
                info.mode = m.mode
                info.mtime = 1_700_000_000
                if m.kind == "dir":
                    info.type = tarfile.DIRTYPE
                    info.mode = m.mode if m.mode != 0o644 else 0o755
                elif m.kind == "symlink":
                    info.type, info.linkname = tarfile.SYMTYPE, m.link
                elif m.kind == "hardlink":
                    info.type, info.linkname = tarfile.LNKTYPE, m.link
                elif m.kind == "chardev":
                    info.type, info.devmajor, info.devminor = tarfile.CHRTYPE, 1, 3
                elif m.kind == "blockdev":
                    info.type, info.devmajor, info.devminor = tarfile.BLKTYPE, 7, 0
                elif m.kind == "fifo":
                    info.type = tarfile.FIFOTYPE
                else:
                    info.size = len(m.data)
                    tar.addfile(info, io.BytesIO(m.data))
                    continue
                tar.addfile(info)
        return buffer.getvalue()

    def stat_header(self) -> str:
        mode = (1 << 31) | 0o755 if self.root_is_dir else 0o644
        stat = {"name": self.root_name, "size": 0, "mode": mode,
                "mtime": "2023-11-14T22:13:20Z", "linkTarget": ""}
        return base64.b64encode(json.dumps(stat).encode()).decode()


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        pass

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _answer(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.send_response(status)
        for key, value in headers:
            if key.lower() not in ("transfer-encoding", "content-length", "connection"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _handle(self) -> None:
        body = self._body()
        path = self.path.split("?", 1)[0]
        archive = self.server.archive
        if path.endswith("/archive") and "/containers/" in path and self.command in (
                "GET", "HEAD") and archive is not None:
            archive.requests.append(f"{self.command} {self.path}")
            data = archive.tar()
            self._answer(200, [("Content-Type", "application/x-tar"),
                               ("X-Docker-Container-Path-Stat", archive.stat_header())],
                         data)
            return
        upstream = _UnixConnection(self.server.engine)
        try:
            headers = {k: v for k, v in self.headers.items()
                       if k.lower() not in ("transfer-encoding", "content-length",
                                            "connection")}
            upstream.request(self.command, self.path, body=body or None, headers=headers)
            response = upstream.getresponse()
            data = response.read()
            self._answer(response.status, response.getheaders(), data)
        finally:
            upstream.close()

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    archive: HostileArchive | None = None
    engine: str = ENGINE_SOCKET

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client closing its connection early is not the test's business

    def get_request(self) -> tuple[Any, Any]:
        request, _ = self.socket.accept()
        return request, ("local", 0)


@contextmanager
def hostile_engine(archive: HostileArchive | None = None,
                   engine: str = ENGINE_SOCKET) -> Iterator[tuple[str, _Server]]:
    """A proxy serving ``archive`` for ``cp`` out; yields (``DOCKER_HOST`` value,
    server: set ``server.archive`` to change what it serves)."""
    folder = tempfile.mkdtemp(prefix="composer-hostile-")  # mkdtemp: mode 0700
    path = os.path.join(folder, "engine.sock")
    server = _Server(path, _Handler)
    server.archive = archive
    server.engine = engine
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"unix://{path}", server
    finally:
        server.shutdown()
        server.server_close()
        os.unlink(path)
        os.rmdir(folder)
