"""Text the engine commands print, laid out as Docker Compose v2 lays it out.

Pure functions of data: no engine, no terminal. v2 prints through Go's
``text/tabwriter`` and docker/cli's formatters; the helpers here reproduce what
a script reading our output can rely on (column layout, quoting, durations,
sizes, the ``PORTS`` column and the JSON field names).
"""

from __future__ import annotations

import datetime as _dt
import json
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import field
from typing import Any

from composer.frozen import frozen

__all__ = [
    "ImageRow",
    "PsRow",
    "StackRow",
    "TopRow",
    "displayable_ports",
    "ellipsis",
    "go_json",
    "go_quote",
    "human_duration",
    "human_size",
    "images_json",
    "images_table",
    "ls_json",
    "ls_table",
    "ps_json_lines",
    "ps_table",
    "tabulate",
    "top_table",
]


# -- primitives --------------------------------------------------------------------------------


def tabulate(rows: Sequence[Sequence[str]], *, minwidth: int, padding: int) -> str:
    """Rows laid out as Go's ``tabwriter.NewWriter(w, minwidth, 1, padding, ' ', 0)``.

    Every cell but a row's last is padded with spaces to its column's width,
    ``max(minwidth, widest cell + padding)`` (widths in code points, as Go counts
    runes); the last cell is written as is, so an empty last cell leaves the
    previous cell's padding at the end of the line, as v2's output has.
    """
    widths: list[int] = []
    for row in rows:
        for i, cell in enumerate(row[:-1]):
            w = max(minwidth, len(cell) + padding)
            if i == len(widths):
                widths.append(w)
            elif w > widths[i]:
                widths[i] = w
    out = []
    for row in rows:
        parts = [cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])]
        if row:
            parts.append(row[-1])
        out.append("".join(parts) + "\n")
    return "".join(out)


def human_duration(seconds: float) -> str:
    """go-units ``HumanDuration``: "Less than a second", "3 seconds", "About an hour"..."""
    s = int(seconds)
    if s < 1:
        return "Less than a second"
    if s == 1:
        return "1 second"
    if s < 60:
        return f"{s} seconds"
    minutes = int(seconds / 60)
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = int(seconds / 3600 + 0.5)
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{int(seconds / 3600) // 24 // 365} years"


_SIZE_UNITS = ("B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB")


def human_size(size: float, precision: int = 3) -> str:
    """go-units ``HumanSizeWithPrecision``: decimal units, ``%.3g`` ("1.99MB", "100B")."""
    value = float(size)
    i = 0
    while value >= 1000.0 and i < len(_SIZE_UNITS) - 1:
        value /= 1000.0
        i += 1
    return f"{value:.{precision}g}{_SIZE_UNITS[i]}"


def ellipsis(text: str, max_width: int) -> str:
    """docker/cli ``Ellipsis``: cut to ``max_width`` code points, the last one "…"."""
    if len(text) <= max_width:
        return text
    if max_width <= 1:
        return text[:max_width]
    return text[: max_width - 1] + "…"


_GO_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r",
               "\t": "\\t", "\v": "\\v", '"': '\\"', "\\": "\\\\"}


def go_quote(text: str) -> str:
    """Go's ``strconv.Quote``: double quotes, printable Unicode kept, the rest escaped."""
    out = ['"']
    for ch in text:
        if ch in _GO_ESCAPES:
            out.append(_GO_ESCAPES[ch])
        elif ch == " " or not unicodedata.category(ch).startswith(("C", "Z")):
            out.append(ch)
        else:
            code = ord(ch)
            if code < 0x80:
                out.append(f"\\x{code:02x}")
            elif code <= 0xFFFF:
                out.append(f"\\u{code:04x}")
            else:
                out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


def go_json(value: Any) -> str:
    """Compact JSON as Go's ``encoding/json`` writes it (``<``, ``>``, ``&`` escaped)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    # Those characters can only occur inside JSON strings, so replacing them is safe.
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _join_host_port(host: str, port: str) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _port_entry(p: Mapping[str, Any]) -> tuple[str, int, int, str]:
    return (str(p.get("IP") or ""), int(p.get("PrivatePort") or 0),
            int(p.get("PublicPort") or 0), str(p.get("Type") or "tcp"))


def displayable_ports(ports: Iterable[Mapping[str, Any]]) -> str:
    """The ``PORTS`` column: docker/cli ``DisplayablePorts`` over the engine's port list.

    ``ports`` are the engine's ``Ports`` entries (``IP``, ``PrivatePort``,
    ``PublicPort``, ``Type``). Consecutive unpublished (or same-numbered) ports
    collapse into ranges; published ones read ``127.0.0.1:8080->80/tcp``.
    """
    entries = sorted((_port_entry(p) for p in ports), key=lambda e: (e[1], e[0], e[2], e[3]))
    groups: dict[str, list[int]] = {}
    order: list[str] = []
    result: list[str] = []
    host_mappings: list[str] = []
    for ip, private, public, proto in entries:
        key = proto
        if ip:
            if public != private:
                host_mappings.append(f"{_join_host_port(ip, str(public))}->{private}/{proto}")
                continue
            key = f"{ip}/{proto}"
        group = groups.get(key)
        if group is None:
            groups[key] = [private, private]
            order.append(key)
            continue
        if private == group[1] + 1:
            group[1] = private
            continue
        result.append(_form_group(key, group[0], group[1]))
        groups[key] = [private, private]
    for key in order:
        first, last = groups[key]
        result.append(_form_group(key, first, last))
    return ", ".join(result + host_mappings)


def _form_group(key: str, first: int, last: int) -> str:
    ip, _, proto = key.rpartition("/")
    group = str(first) if first == last else f"{first}-{last}"
    if ip:
        group = f"{_join_host_port(ip, group)}->{group}"
    return f"{group}/{proto}"


# -- ps ----------------------------------------------------------------------------------------


@frozen
class PsRow:
    """What ``ps`` shows of one container (the engine's listing, plus compose labels)."""

    id: str
    name: str
    image: str
    command: str
    project: str
    service: str
    created: int  # seconds since the epoch
    state: str
    status: str
    health: str = ""
    exit_code: int = 0
    ports: tuple[Mapping[str, Any], ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    networks: tuple[str, ...] = ()
    mounts: tuple[str, ...] = ()
    local_volumes: int = 0


_PS_HEADER = ("NAME", "IMAGE", "COMMAND", "SERVICE", "CREATED", "STATUS", "PORTS")


def _running_for(created: int, now: float) -> str:
    return human_duration(now - created) + " ago"


def ps_table(rows: Sequence[PsRow], *, now: float, trunc: bool = True) -> str:
    """v2's default ``ps`` table: NAME IMAGE COMMAND SERVICE CREATED STATUS PORTS."""
    lines: list[Sequence[str]] = [_PS_HEADER]
    for r in rows:
        command = ellipsis(r.command, 20) if trunc else r.command
        lines.append((r.name, r.image, go_quote(command), r.service,
                      _running_for(r.created, now), r.status, displayable_ports(r.ports)))
    return tabulate(lines, minwidth=10, padding=3)


def _created_at(created: int) -> str:
    # Go's time.Time.String() in local time: "2006-01-02 15:04:05 -0700 MST".
    moment = _dt.datetime.fromtimestamp(created).astimezone()
    return moment.strftime("%Y-%m-%d %H:%M:%S %z ") + (moment.tzname() or "")


def ps_json_lines(rows: Sequence[PsRow], *, now: float, trunc: bool = True) -> str:
    """``ps --format json``: one JSON object per container and line, v2's field names.

    No containers gives one empty line, as v2 prints.
    """
    if not rows:
        return "\n"
    out = []
    for r in rows:
        command = ellipsis(r.command, 20) if trunc else r.command
        obj = {
            "Command": go_quote(command),
            "CreatedAt": _created_at(r.created),
            "ExitCode": r.exit_code,
            "Health": r.health,
            "ID": r.id[:12] if trunc else r.id,
            "Image": r.image,
            "Labels": ",".join(f"{k}={v}" for k, v in r.labels.items()),
            "LocalVolumes": str(r.local_volumes),
            "Mounts": ",".join(ellipsis(m, 15) if trunc else m for m in r.mounts),
            "Name": r.name,
            "Names": r.name,
            "Networks": ",".join(r.networks),
            "Ports": displayable_ports(r.ports),
            "Project": r.project,
            "Publishers": [
                {"URL": ip, "TargetPort": private, "PublishedPort": public, "Protocol": proto}
                # v2 orders them by container port.
                for ip, private, public, proto in sorted(
                    (_port_entry(p) for p in r.ports), key=lambda e: e[1])
            ],
            "RunningFor": _running_for(r.created, now),
            "Service": r.service,
            "Size": "0B",
            "State": r.state,
            "Status": r.status,
        }
        out.append(go_json(obj) + "\n")
    return "".join(out)


# -- top ---------------------------------------------------------------------------------------


@frozen
class TopRow:
    """The processes of one container, as the engine's ``top`` returns them."""

    name: str
    service: str
    number: int
    titles: tuple[str, ...]
    processes: tuple[tuple[str, ...], ...]


def top_table(containers: Sequence[TopRow]) -> str:
    """v2's ``top``: one table, SERVICE and # first, CMD last; "" when no process."""
    header: list[str] = ["SERVICE", "#"]
    entries: list[dict[str, str]] = []
    for c in sorted(containers, key=lambda c: c.name):
        for proc in c.processes:
            entry = {"SERVICE": c.service, "#": str(c.number)}
            for i, title in enumerate(c.titles):
                if title not in header:
                    header.append(title)
                entry[title] = proc[i] if i < len(proc) else ""
            entries.append(entry)
    if not entries:
        return ""
    if "CMD" in header:
        header.remove("CMD")
        header.append("CMD")
    rows: list[Sequence[str]] = [header]
    rows.extend([e.get(t, "-") for t in header] for e in entries)
    return tabulate(rows, minwidth=4, padding=2)


# -- ls ----------------------------------------------------------------------------------------


@frozen
class StackRow:
    """One project as ``ls`` lists it."""

    name: str
    status: str  # "running(2)", "exited(1), running(1)"
    config_files: str


def ls_table(stacks: Sequence[StackRow]) -> str:
    """``ls`` as v2 prints it: NAME STATUS CONFIG FILES."""
    rows: list[Sequence[str]] = [("NAME", "STATUS", "CONFIG FILES")]
    rows.extend((s.name, s.status, s.config_files) for s in stacks)
    return tabulate(rows, minwidth=20, padding=3)


def ls_json(stacks: Sequence[StackRow]) -> str:
    """``ls --format json``: one JSON array on one line (``[]`` when empty)."""
    return go_json([{"Name": s.name, "Status": s.status, "ConfigFiles": s.config_files}
                    for s in stacks]) + "\n"


# -- images ------------------------------------------------------------------------------------


@frozen
class ImageRow:
    """The image one container runs."""

    container: str
    id: str  # "sha256:..."
    repository: str
    tag: str
    platform: str  # "linux/amd64"
    size: int
    created: float | None = None  # seconds since the epoch
    last_tag_time: str = ""  # RFC 3339, "" when the engine has none


def _short_id(image_id: str) -> str:
    return image_id.partition(":")[2][:12] if ":" in image_id else image_id[:12]


def images_table(images: Sequence[ImageRow], *, now: float) -> str:
    """``images`` as v2 prints it, one row per container, sorted by container name."""
    rows: list[Sequence[str]] = [
        ("CONTAINER", "REPOSITORY", "TAG", "PLATFORM", "IMAGE ID", "SIZE", "CREATED")]
    for img in sorted(images, key=lambda i: i.container):
        created = "N/A" if img.created is None else _running_for(int(img.created), now)
        rows.append((img.container, img.repository or "<none>", img.tag or "<none>",
                     img.platform, _short_id(img.id), human_size(img.size), created))
    return tabulate(rows, minwidth=20, padding=3)


def images_json(images: Sequence[ImageRow]) -> str:
    """``images --format json``: one JSON array (``null`` when empty, as v2 prints)."""
    if not images:
        return "null\n"
    out = []
    for img in images:
        obj: dict[str, Any] = {
            "ID": img.id, "ContainerName": img.container, "Repository": img.repository,
            "Tag": img.tag, "Platform": img.platform, "Size": img.size,
        }
        if img.last_tag_time:
            obj["LastTagTime"] = img.last_tag_time
        out.append(obj)
    return go_json(out) + "\n"


def images_quiet(images: Sequence[ImageRow]) -> str:
    """``images -q``: each distinct image ID once, without its ``sha256:``."""
    seen: list[str] = []
    for img in images:
        iid = img.id.partition(":")[2] if ":" in img.id else img.id
        if iid not in seen:
            seen.append(iid)
    return "".join(i + "\n" for i in seen)
