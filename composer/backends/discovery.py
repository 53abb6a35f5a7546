"""Which engine a command talks to, found the way a Docker or Podman user expects.

Order (``engine`` is the ``--engine`` flag, else ``COMPOSER_ENGINE``, else ``auto``):

* ``auto``: ``DOCKER_HOST`` when set; else the first socket that answers
  ``GET /_ping`` among Docker's (``/var/run/docker.sock``), Podman's rootful one
  (``/run/podman/podman.sock``) and the user's rootless one
  (``$XDG_RUNTIME_DIR/podman/podman.sock``); else ``CONTAINER_HOST`` (Podman's
  variable) when set; else Docker's socket, so the error names it.
* ``docker``: ``DOCKER_HOST``, else Docker's socket (no probing).
* ``podman``: ``CONTAINER_HOST`` when set, else the first Podman socket that
  answers; none answering is a one-line error saying how to start one.

Probing costs a connect and one small request per candidate, with a short
timeout, and nothing at all when ``DOCKER_HOST`` decides. No SDK is imported:
the answer is read with a few lines of HTTP/1.0 over the socket.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from composer.errors import EngineUnreachableError, UsageError

__all__ = ["ENGINES", "DOCKER_SOCKET", "EngineChoice", "choose_engine", "discover",
           "engine_identity"]

#: The values of ``--engine`` and ``COMPOSER_ENGINE``.
ENGINES = ("auto", "docker", "podman")
DOCKER_SOCKET = "/var/run/docker.sock"
PODMAN_ROOTFUL = "/run/podman/podman.sock"
#: Seconds a socket may take to answer ``/_ping`` before discovery moves on.
PROBE_TIMEOUT = 0.5


@dataclass(frozen=True, slots=True)
class EngineChoice:
    """The engine address chosen (``unix:///...``, ``tcp://...``), which engine it
    is expected to be (``docker``, ``podman``, or ``""`` when unknown) and why
    (``DOCKER_HOST``, ``the Docker socket``...)."""

    address: str
    engine: str
    how: str


def choose_engine(engine: str | None, environ: Mapping[str, str]) -> str:
    """The engine asked for: ``engine``, else ``COMPOSER_ENGINE``, else ``auto``."""
    value = (engine or environ.get("COMPOSER_ENGINE") or "auto").strip().lower()
    if value == "lxc":
        raise UsageError("engine lxc is not supported yet (docker, podman or auto)")
    if value not in ENGINES:
        source = "--engine" if engine else "COMPOSER_ENGINE"
        raise UsageError(f"{source}: unknown engine {value!r} (docker, podman or auto)")
    return value


def _http_get(path: str, sock_path: str, target: str,
              timeout: float = PROBE_TIMEOUT) -> tuple[int, bytes] | None:
    """``GET target`` on the unix socket ``sock_path``: (status, body), or None."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(timeout)
            conn.connect(sock_path)
            conn.sendall(f"GET {target} HTTP/1.0\r\nHost: engine\r\n\r\n".encode())
            data = b""
            while chunk := conn.recv(65536):
                data += chunk
                if len(data) > 1 << 20:
                    break
    except OSError:
        return None
    head, _, body = data.partition(b"\r\n\r\n")
    parts = head.split(b" ", 2)
    if len(parts) < 2 or not parts[1].isdigit():
        return None
    return int(parts[1]), body


def answers(sock_path: str) -> bool:
    """Whether an engine answers ``/_ping`` on the unix socket ``sock_path``."""
    result = _http_get("_ping", sock_path, "/_ping")
    return result is not None and result[0] == 200


def podman_sockets(environ: Mapping[str, str]) -> list[tuple[str, str]]:
    """Podman's sockets in the order tried: (path, why)."""
    out = [(PODMAN_ROOTFUL, "Podman's rootful socket")]
    runtime = environ.get("XDG_RUNTIME_DIR") or f"/run/user/{os.getuid()}"
    out.append((os.path.join(runtime, "podman", "podman.sock"), "the rootless Podman socket"))
    return out


def discover(engine: str | None = None, environ: Mapping[str, str] | None = None, *,
             docker_socket: str = DOCKER_SOCKET) -> EngineChoice:
    """The engine address for ``engine`` (see the module's docstring)."""
    env = os.environ if environ is None else environ
    wanted = choose_engine(engine, env)
    docker_host = env.get("DOCKER_HOST", "")
    container_host = env.get("CONTAINER_HOST", "")
    if wanted in ("auto", "docker") and docker_host:
        return EngineChoice(docker_host, "docker" if wanted == "docker" else "", "DOCKER_HOST")
    if wanted == "docker":
        return EngineChoice(f"unix://{docker_socket}", "docker", "the Docker socket")
    if wanted == "podman" and container_host:
        return EngineChoice(container_host, "podman", "CONTAINER_HOST")
    if wanted == "auto" and answers(docker_socket):
        return EngineChoice(f"unix://{docker_socket}", "docker", "the Docker socket")
    tried = [docker_socket] if wanted == "auto" else []
    for path, why in podman_sockets(env):
        if answers(path):
            return EngineChoice(f"unix://{path}", "podman", why)
        tried.append(path)
    if wanted == "auto" and container_host:
        return EngineChoice(container_host, "podman", "CONTAINER_HOST")
    if wanted == "podman":
        raise EngineUnreachableError(
            f"no Podman engine answers (tried {', '.join(tried)}): start one with "
            "`podman system service --time=0 unix:///run/podman/podman.sock &` "
            "(or systemctl start podman.socket), or set CONTAINER_HOST")
    return EngineChoice(f"unix://{docker_socket}", "docker", "the Docker socket")


def engine_identity(address: str) -> dict[str, Any] | None:
    """What the engine at a ``unix://`` address says of itself (``/version``): its
    name (``docker`` or ``podman``), version and API version; None when it does not
    answer or the address is not a unix socket."""
    if not address.startswith("unix://"):
        return None
    result = _http_get("version", address[len("unix://"):], "/version", timeout=2.0)
    if result is None or result[0] != 200:
        return None
    try:
        data = json.loads(result[1])
    except ValueError:
        return None
    names = " ".join(str(c.get("Name", "")) for c in data.get("Components") or ())
    names += " " + str((data.get("Platform") or {}).get("Name", ""))
    return {"engine": "podman" if "podman" in names.lower() else "docker",
            "version": str(data.get("Version", "")),
            "api_version": str(data.get("ApiVersion", ""))}
