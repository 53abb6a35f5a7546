"""HTTP requests to the Engine API and the streams they answer with.

Requests the SDK has no method for (a body posted exactly as built, a ``HEAD``, a
wait that returns once registered) go through the SDK client's public
``requests.Session`` interface (``get``/``post``/``put``/``head``) on URLs built
from its public ``base_url`` and ``api_version``; :func:`check_response` turns
an error answer into the SDK's ``APIError``.

The two places that reach below the public API are here, each with its reason
and a test in ``tests/integration/test_backend_docker.py`` that fails if the
SDK (or urllib3) changes them:

* :func:`body_reader` — a response's buffered socket reader (urllib3's private
  ``HTTPResponse._fp``, http.client's ``fp``);
* :func:`raw_socket` — the socket inside the ``socket.SocketIO`` the SDK hands
  back for a hijacked connection (the standard library's ``SocketIO._sock``).
"""

from __future__ import annotations

import json
import select
import socket
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import requests

from composer.backends.docker.errors import check_response
from composer.backends.frames import FrameDecoder
from composer.backends.types import Frame

__all__ = [
    "END",
    "Dechunker",
    "FrameBatches",
    "api_url",
    "body_reader",
    "next_or_end",
    "post_json",
    "raw_socket",
    "response_socket",
]

END = object()


def api_url(client: Any, path: str, *args: str, versioned: bool = True) -> str:
    """The URL of ``path`` (``/containers/{0}/wait``) with ``args`` quoted into it."""
    quoted = [urllib.parse.quote(arg, safe="/:") for arg in args]
    base = f"{client.base_url}/v{client.api_version}" if versioned else str(client.base_url)
    return base + path.format(*quoted)


def post_json(client: Any, path: str, *args: str, body: Mapping[str, Any],
              params: Mapping[str, Any] | None = None,
              headers: Mapping[str, str] | None = None) -> Any:
    """POST ``body`` as JSON exactly as given (the SDK's own JSON posts drop null
    values, which the create bodies keep on purpose); the decoded answer or {}."""
    response = client.post(api_url(client, path, *args), data=json.dumps(body),
                           params=dict(params or {}),
                           headers={"Content-Type": "application/json", **(headers or {})},
                           timeout=client.timeout)
    check_response(response)
    if response.status_code == 204 or not response.content:
        return {}
    if "json" not in response.headers.get("Content-Type", "json"):
        return {}  # Podman answers a network connect with a plain "OK"
    return response.json()


def body_reader(response: requests.Response) -> Any:
    """The buffered reader on the response's socket. Private (urllib3's
    ``HTTPResponse._fp``): for a hijacked attach it holds the bytes that came with
    the headers, which urllib3's public reads never return (a 101 answer has no
    body for them), and reading it in bulk decodes chunked log streams several
    times faster than urllib3's chunk-per-call reads."""
    # Private: urllib3 exposes no reader of a hijacked (101) response's buffered bytes.
    return response.raw._fp.fp


def raw_socket(sock_like: Any) -> socket.socket:
    """The socket of what the SDK returns for a hijacked connection: a
    ``socket.SocketIO`` (plain HTTP, unix) wraps it in the standard library's
    private ``_sock``, which has no public accessor; TLS gives the socket itself."""
    # Private (stdlib): socket.SocketIO offers no public way back to its socket.
    raw = getattr(sock_like, "_sock", sock_like)
    if not isinstance(raw, socket.socket):
        raise TypeError(f"not a socket connection: {type(sock_like).__name__}")
    return raw


def response_socket(response: requests.Response) -> socket.socket | None:
    """The socket under a streamed response (to ask whether more bytes are waiting)."""
    try:
        return raw_socket(body_reader(response).raw)
    except (AttributeError, TypeError):
        return None


def next_or_end(stream: Iterator[Any]) -> Any:
    try:
        return next(stream)
    except StopIteration:
        return END


class Dechunker:
    """HTTP chunked transfer decoding of a streamed body, in bulk.

    http.client decodes a chunk per call, and the engine sends a chunk per log
    line: decoding whatever has arrived at once is several times faster.
    """

    def __init__(self, fp: Any) -> None:
        self._fp = fp
        self._buf = bytearray()
        self._data = 0  # bytes of the current chunk still to come
        self._skip = 0  # the CRLF after a chunk's data
        self._end = False

    def read(self) -> bytes:
        """The next decoded bytes (blocking until some arrive); b"" at the end."""
        while not self._end:
            data = self._fp.read1(1 << 16)
            if not data:
                self._end = True
                break
            out = self._feed(data)
            if out:
                return out
        return b""

    def _feed(self, data: bytes) -> bytes:
        buf = self._buf
        buf += data
        out = bytearray()
        pos, end = 0, len(buf)
        while pos < end:
            if self._data:
                take = min(self._data, end - pos)
                out += buf[pos:pos + take]
                pos += take
                self._data -= take
            elif self._skip:
                take = min(self._skip, end - pos)
                pos += take
                self._skip -= take
            else:
                eol = buf.find(b"\r\n", pos)
                if eol < 0:
                    break
                size = int(bytes(buf[pos:eol]).split(b";")[0] or b"0", 16)
                pos = eol + 2
                if size == 0:
                    self._end = True
                    break
                self._data, self._skip = size, 2
        del buf[:pos]
        return bytes(out)


class FrameBatches:
    """Frames of a streamed response, a batch per ``next()``: what has arrived.

    Each ``next()`` costs one worker-thread hop, and the engine sends a frame per
    log line; batching what the socket already holds keeps a chatty container
    from costing a hop per line. A read happens again only while the socket is
    readable (or a frame is incomplete), so a batch never waits for new output.
    """

    _LIMIT = 1 << 18

    def __init__(self, read: Callable[[], bytes | None], sock: socket.socket | None,
                 multiplexed: bool) -> None:
        self._read = read
        self._sock = sock
        self._decoder = FrameDecoder(multiplexed)
        self._done = False

    def __iter__(self) -> FrameBatches:
        return self

    def _ready(self) -> bool:
        if self._sock is None:
            return False
        try:
            return bool(select.select([self._sock], [], [], 0)[0])
        except (OSError, ValueError):
            return False

    def __next__(self) -> list[Frame]:
        frames: list[Frame] = []
        size = 0
        while not self._done:
            data = self._read()
            if data is None:
                continue
            if not data:
                self._done = True
                break
            frames += self._decoder.feed(data)
            size += len(data)
            if frames and (size >= self._LIMIT or not self._ready()):
                return frames
        if frames:
            return frames
        raise StopIteration


def json_lines(response: requests.Response) -> Iterator[Any]:
    """The JSON documents of a streamed answer that sends one per line (stats)."""
    pending = b""
    # chunk_size None: each sample as soon as it arrives, not once 512 bytes have.
    for chunk in response.iter_content(chunk_size=None):
        *lines, pending = (pending + chunk).split(b"\n")
        for line in lines:
            if line.strip():
                yield json.loads(line)
    if pending.strip():
        yield json.loads(pending)
