"""The short syntaxes of ports and volumes, parsed as Docker Compose v2 parses them.

``"127.0.0.1:8000-8001:80/udp"`` and ``"./data:/data:ro"`` become the long
syntax (:func:`parse_port_spec`, :func:`parse_volume_spec`), with v2's words for a
spec it refuses; :func:`clean_path` is Go's ``path.Clean``. The canonical phase
applies them to a file's ``ports`` and ``volumes``; normalisation reuses them.
"""

from __future__ import annotations

import ipaddress
import posixpath
import re
from typing import Any

__all__ = ["clean_path", "parse_port_spec", "parse_volume_spec"]

_PROTOCOLS = frozenset({"tcp", "udp", "sctp"})
_DIGITS = re.compile(r"[0-9]+")
_PROPAGATIONS = frozenset({"rprivate", "private", "rshared", "shared", "rslave", "slave"})


def parse_port_spec(spec: str) -> list[dict[str, Any]]:
    """Expand a short port syntax the way Docker Compose v2 does (``nat.ParsePortSpecs``).

    ``"127.0.0.1:8000-8001:80-81/udp"`` gives two entries; a host range mapped to a
    single container port stays one entry with ``published: "8000-8001"``. Entries
    come in v2's order (container ports sorted as ``"<port>/<proto>"`` strings).
    Raises ``ValueError`` with v2's wording for malformed specs.
    """
    ip, host_port, container = _split_port_parts(spec)
    proto, container = _split_proto(container)
    if ip.startswith("["):
        if not ip.endswith("]"):
            raise ValueError(f"invalid IP address {ip}")
        ip = ip[1:-1]
    if ip and not _is_ip(ip):
        raise ValueError(f"invalid IP address: {ip}")
    if proto.lower() not in _PROTOCOLS:
        raise ValueError(f"invalid proto: {proto}")
    if not container:
        raise ValueError(f"no port specified: {spec}<empty>")
    try:
        start, end = _port_range(container)
    except ValueError:
        raise ValueError(f"invalid containerPort: {container}") from None
    host_start = host_end = 0
    if host_port:
        try:
            host_start, host_end = _port_range(host_port)
        except ValueError:
            raise ValueError(f"invalid hostPort: {host_port}") from None
        if end - start != host_end - host_start and end != start:
            raise ValueError(
                "invalid ranges specified for container and host Ports: "
                f"{container} and {host_port}"
            )
    proto = proto.lower()
    entries: list[tuple[str, dict[str, Any]]] = []
    for i in range(end - start + 1):
        port = start + i
        published = ""
        if host_port:
            published = str(host_start + i)
            if start == end and host_start != host_end:
                published = f"{published}-{host_end}"
        entry: dict[str, Any] = {"mode": "ingress"}
        if ip:
            entry["host_ip"] = ip
        entry["target"] = port
        if published:
            entry["published"] = published
        entry["protocol"] = proto
        entries.append((f"{port}/{proto}", entry))
    # v2 walks the parsed ports as sorted "<port>/<proto>" strings: "100/tcp" < "98/tcp".
    entries.sort(key=lambda e: e[0])
    return [e for _, e in entries]


def _split_port_parts(spec: str) -> tuple[str, str, str]:
    parts = spec.split(":")
    n = len(parts)
    if n == 1:
        return "", "", parts[0]
    if n == 2:
        return "", parts[0], parts[1]
    if n == 3:
        return parts[0], parts[1], parts[2]
    return ":".join(parts[: n - 2]), parts[n - 2], parts[n - 1]


def _split_proto(raw: str) -> tuple[str, str]:
    parts = raw.split("/")
    if not raw or not parts[0]:
        return "", ""
    if len(parts) == 1:
        return "tcp", raw
    if not parts[1]:
        return "tcp", parts[0]
    return parts[1], parts[0]


def _port_range(text: str) -> tuple[int, int]:
    if not text:
        raise ValueError("empty string specified for ports")
    if "-" not in text:
        port = _uint16(text)
        return port, port
    parts = text.split("-")
    start, end = _uint16(parts[0]), _uint16(parts[1])
    if end < start:
        raise ValueError(f"invalid range specified for port: {text}")
    return start, end


def _uint16(text: str) -> int:
    if not _DIGITS.fullmatch(text):
        raise ValueError(text)
    value = int(text)
    if value > 0xFFFF:
        raise ValueError(text)
    return value


def _is_ip(text: str) -> bool:
    if "%" in text:  # Go's net.ParseIP refuses zones
        return False
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def parse_volume_spec(spec: str) -> dict[str, Any]:
    """Parse ``[SOURCE:]TARGET[:OPTIONS]`` into v2's long syntax (``format.ParseVolume``).

    A source starting with ``.``, ``/``, ``~``, ``\\\\`` or a Windows drive is a bind
    mount (with ``create_host_path``); anything else names a volume. Options ``ro``,
    ``rw``, ``nocopy``, ``z``/``Z`` and the propagation modes are understood, others
    ignored, as v2 does. Raises ``ValueError`` (``empty section between colons``,
    ``too many colons``).
    """
    if not spec:
        raise ValueError("invalid empty volume spec")
    if len(spec) <= 2:
        # v2 takes such short specs as an anonymous volume target without more ado.
        return {"type": "volume", "target": spec}
    volume: dict[str, Any] = {}
    parts = spec.split(":")
    if "$" not in spec and not any(len(p) == 1 and p.isalpha() for p in parts[:-1]):
        # No ${...} and no drive letter: the colons are the separators, and the
        # first bad section decides the error, as in the general loop below.
        for i, part in enumerate(parts):
            if not part:
                raise ValueError("empty section between colons")
            if i == 2 and len(parts) > 3:
                raise ValueError("too many colons")
        if len(parts) == 3:
            _volume_options(parts[2], volume)
        source, target = ("", parts[0]) if len(parts) == 1 else (parts[0], parts[1])
        return _volume_long_form(source, target, volume)
    source = target = ""
    buffer: list[str] = []
    depth = 0
    n = len(spec)
    for i in range(n + 1):
        ch = spec[i] if i < n else ""
        if ch == "$" and i + 1 < n and spec[i + 1] == "{":
            depth += 1
            buffer.append(ch)
        elif ch == "}" and depth > 0:
            depth -= 1
            buffer.append(ch)
        elif ch == ":" and len(buffer) == 1 and buffer[0].isalpha():
            buffer.append(ch)  # a Windows drive letter, not a separator
        elif (ch == ":" or ch == "") and depth == 0:
            if not buffer:
                raise ValueError("empty section between colons")
            text = "".join(buffer)
            if not source and ch == "":
                target = text
            elif not source:
                source = text
            elif not target:
                target = text
            elif ch == ":":
                raise ValueError("too many colons")
            else:
                _volume_options(text, volume)
            buffer = []
        else:
            buffer.append(ch)
    return _volume_long_form(source, target, volume)


def _volume_long_form(source: str, target: str, volume: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if _is_file_path(source):
        out["type"] = "bind"
        bind = dict(volume.get("bind") or {})
        bind["create_host_path"] = True
        volume["bind"] = bind
    else:
        out["type"] = "volume"
        volume.setdefault("volume", {})
    if source:
        out["source"] = source
    out["target"] = _clean_target(target)
    if volume.get("read_only"):
        out["read_only"] = True
    for key in ("bind", "volume"):
        if key in volume:
            out[key] = volume[key]
    return out


def _volume_options(text: str, volume: dict[str, Any]) -> None:
    for option in text.split(","):
        if option == "ro":
            volume["read_only"] = True
        elif option == "rw":
            volume["read_only"] = False
        elif option == "nocopy":
            volume["volume"] = {"nocopy": True}
        elif option in ("z", "Z"):
            volume.setdefault("bind", {})["selinux"] = option
        elif option in _PROPAGATIONS:
            volume.setdefault("bind", {})["propagation"] = option


def _is_file_path(source: str) -> bool:
    if not source:
        return False
    if source[0] in "./~":
        return True
    if source.startswith("\\\\"):
        return True
    return len(source) > 1 and source[0].isalpha() and source[1] == ":"


def _clean_target(target: str) -> str:
    return clean_path(target) if target else target


def clean_path(path: str) -> str:
    """Go's ``path.Clean``: the shortest equivalent slash path (``//a/./b/`` -> ``/a/b``)."""
    if not path:
        return "."
    cleaned = posixpath.normpath(path)
    if cleaned.startswith("//"):
        cleaned = "/" + cleaned.lstrip("/")
    return cleaned
