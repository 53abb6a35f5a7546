"""Which engine a command talks to, found the way a Docker or Podman user expects.

Order (``engine`` is the ``--engine`` flag, else ``COMPOSER_ENGINE``, else ``auto``):

* ``auto``: ``DOCKER_HOST`` when set; else the first socket that answers
  ``GET /_ping`` among Docker's (``/var/run/docker.sock``), Podman's rootful one
  (``/run/podman/podman.sock``) and the user's rootless one
  (``$XDG_RUNTIME_DIR/podman/podman.sock``); else ``CONTAINER_HOST`` (Podman's
  variable) when set; else Docker's socket, so the error names it.
* ``docker``: ``DOCKER_HOST``, else Docker's socket (no probing).
* ``podman``: ``CONTAINER_HOST`` when set, else the first Podman socket that
  answers.

When nothing answers (``auto``: no ``DOCKER_HOST``/``CONTAINER_HOST`` either;
``podman``) and ``podman`` is installed, the choice is a private ``podman system
service`` composer starts for the command and stops afterwards
(:mod:`composer.backends.podman_service`); without ``podman``, ``auto`` falls back
to Docker's socket (so the error names it) and ``podman`` is a one-line error.

``COMPOSER_DOCKER_SOCKET`` and ``COMPOSER_PODMAN_SOCKET`` replace the paths of
Docker's and Podman's rootful sockets (unusual installs, and tests that need a
machine where neither answers).

Probing costs a connect and one small request per candidate, with a short
timeout, and nothing at all when ``DOCKER_HOST`` decides. No SDK is imported:
the answer is read with a few lines of HTTP/1.0 over the socket.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Mapping
from typing import Any

from composer.errors import EngineUnreachableError, UsageError
from composer.frozen import frozen

__all__ = ["DOCKER_SOCKET", "ENGINES", "PRIVATE", "EngineChoice", "choose_engine", "discover",
           "engine_identity"]

#: The values of ``--engine`` and ``COMPOSER_ENGINE``.
ENGINES = ("auto", "docker", "podman", "lxc")
DOCKER_SOCKET = "/var/run/docker.sock"
PODMAN_ROOTFUL = "/run/podman/podman.sock"
#: How a private Podman service is named as the reason of a choice.
PRIVATE = "a private podman service"
#: Seconds a socket may take to answer ``/_ping`` before discovery moves on.
PROBE_TIMEOUT = 0.5


@frozen(slots=True)
class EngineChoice:
    """The engine address chosen (``unix:///...``, ``tcp://...``), which engine it
    is expected to be (``docker``, ``podman``, or ``""`` when unknown) and why
    (``DOCKER_HOST``, ``the Docker socket``...)."""

    address: str
    engine: str
    how: str

    @property
    def private(self) -> bool:
        """A private Podman service is to be started (``address`` is empty)."""
        return self.how == PRIVATE


def choose_engine(engine: str | None, environ: Mapping[str, str]) -> str:
    """The engine asked for: ``engine``, else ``COMPOSER_ENGINE``, else ``auto``."""
    value = (engine or environ.get("COMPOSER_ENGINE") or "auto").strip().lower()
    if value not in ENGINES:
        source = "--engine" if engine else "COMPOSER_ENGINE"
        raise UsageError(f"{source}: unknown engine {value!r} (docker, podman, lxc or auto)")
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
    out = [(environ.get("COMPOSER_PODMAN_SOCKET") or PODMAN_ROOTFUL, "Podman's rootful socket")]
    runtime = environ.get("XDG_RUNTIME_DIR") or f"/run/user/{os.getuid()}"
    out.append((os.path.join(runtime, "podman", "podman.sock"), "the rootless Podman socket"))
    return out


def discover(engine: str | None = None, environ: Mapping[str, str] | None = None, *,
             docker_socket: str | None = None) -> EngineChoice:
    """The engine address for ``engine`` (see the module's docstring)."""
    env = os.environ if environ is None else environ
    docker_socket = docker_socket or env.get("COMPOSER_DOCKER_SOCKET") or DOCKER_SOCKET
    wanted = choose_engine(engine, env)
    if wanted == "lxc":
        # No daemon to find: LXC is chosen by name (composer.backends.connect).
        return EngineChoice("lxc://", "lxc", "--engine" if engine else "COMPOSER_ENGINE")
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
    from composer.backends.podman_service import podman_command

    if podman_command() is not None:
        return EngineChoice("", "podman", PRIVATE)
    if wanted == "podman":
        raise EngineUnreachableError(
            f"no Podman engine answers (tried {', '.join(tried)}): start one with "
            "`podman system service --time=0 unix:///run/podman/podman.sock &` "
            "(or systemctl start podman.socket), or set CONTAINER_HOST; podman itself "
            "is not on PATH, so composer cannot start one")
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
