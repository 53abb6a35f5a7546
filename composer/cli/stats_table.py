"""``stats``: one sample per container, computed and laid out as the docker CLI does.

Columns: ``CONTAINER ID  NAME  CPU %  MEM USAGE / LIMIT  MEM %  NET I/O  BLOCK I/O
PIDS``; memory in binary units (``1.5MiB``), I/O in decimal ones (``1.2kB``),
memory usage without the page cache (``inactive_file``), as the CLI counts it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from composer.model.gofloat import format_g

__all__ = ["StatsRow", "bytes_size", "human_size", "json_lines", "row", "table"]

_BINARY = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB")
_DECIMAL = ("B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB")


def _scaled(size: float, base: float, units: Sequence[str]) -> tuple[float, str]:
    i = 0
    while size >= base and i < len(units) - 1:
        size /= base
        i += 1
    return size, units[i]


def bytes_size(size: float) -> str:
    """go-units' ``BytesSize``: ``%.4g`` in binary units (``1.5MiB``)."""
    value, unit = _scaled(size, 1024.0, _BINARY)
    return format_g(value, 4) + unit


def human_size(size: float) -> str:
    """go-units' ``HumanSizeWithPrecision(size, 3)``: decimal units (``1.2kB``)."""
    value, unit = _scaled(size, 1000.0, _DECIMAL)
    return format_g(value, 3) + unit


@dataclass(frozen=True, slots=True)
class StatsRow:
    id: str
    name: str
    cpu: float
    mem_usage: float
    mem_limit: float
    mem_percent: float
    net_rx: float
    net_tx: float
    block_read: float
    block_write: float
    pids: int


def _memory(mem: Mapping[str, Any]) -> float:
    usage = float(mem.get("usage") or 0)
    details = mem.get("stats") or {}
    for key in ("total_inactive_file", "inactive_file"):
        if key in details and float(details[key]) < usage:
            return usage - float(details[key])
    return usage


def row(container_id: str, name: str, sample: Mapping[str, Any]) -> StatsRow:
    """A row from one ``GET /containers/{id}/stats?stream=false`` answer ({}: not running)."""
    cpu_stats = sample.get("cpu_stats") or {}
    pre = sample.get("precpu_stats") or {}
    cpu_delta = float((cpu_stats.get("cpu_usage") or {}).get("total_usage") or 0) - float(
        (pre.get("cpu_usage") or {}).get("total_usage") or 0)
    system_delta = float(cpu_stats.get("system_cpu_usage") or 0) - float(
        pre.get("system_cpu_usage") or 0)
    online = float(cpu_stats.get("online_cpus") or 0) or float(
        len((cpu_stats.get("cpu_usage") or {}).get("percpu_usage") or ()))
    cpu = cpu_delta / system_delta * online * 100.0 if system_delta > 0 and cpu_delta > 0 \
        else 0.0
    mem = sample.get("memory_stats") or {}
    usage = _memory(mem)
    limit = float(mem.get("limit") or 0)
    rx = tx = 0.0
    for net in (sample.get("networks") or {}).values():
        rx += float(net.get("rx_bytes") or 0)
        tx += float(net.get("tx_bytes") or 0)
    read = write = 0.0
    for entry in (sample.get("blkio_stats") or {}).get("io_service_bytes_recursive") or ():
        op = str(entry.get("op") or "").lower()
        if op == "read":
            read += float(entry.get("value") or 0)
        elif op == "write":
            write += float(entry.get("value") or 0)
    return StatsRow(
        id=container_id, name=name, cpu=cpu, mem_usage=usage, mem_limit=limit,
        mem_percent=usage / limit * 100.0 if limit else 0.0, net_rx=rx, net_tx=tx,
        block_read=read, block_write=write,
        pids=int((sample.get("pids_stats") or {}).get("current") or 0))


def _cells(r: StatsRow, trunc: bool) -> list[str]:
    return [
        r.id[:12] if trunc else r.id,
        r.name,
        f"{r.cpu:.2f}%",
        f"{bytes_size(r.mem_usage)} / {bytes_size(r.mem_limit)}",
        f"{r.mem_percent:.2f}%",
        f"{human_size(r.net_rx)} / {human_size(r.net_tx)}",
        f"{human_size(r.block_read)} / {human_size(r.block_write)}",
        str(r.pids),
    ]


HEADER = ["CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O",
          "BLOCK I/O", "PIDS"]


def table(rows: Sequence[StatsRow], *, trunc: bool = True) -> str:
    """The docker CLI's stats table (Go tabwriter: min width 10, padding 3)."""
    lines = [HEADER] + [_cells(r, trunc) for r in rows]
    widths = [max(10, max(len(line[i]) for line in lines) + 3) for i in range(len(HEADER))]
    out = []
    for line in lines:
        out.append("".join(cell.ljust(widths[i]) for i, cell in enumerate(line[:-1]))
                   + line[-1])
    return "\n".join(out) + "\n"


def json_lines(rows: Sequence[StatsRow], *, trunc: bool = True) -> str:
    """``--format json``: one object per container, the CLI's field names
    (``Container`` is the full id, ``ID`` the short one unless ``trunc`` is off)."""
    out = []
    for r in rows:
        cells = _cells(r, trunc)
        out.append(json.dumps({
            "BlockIO": cells[6], "CPUPerc": cells[2], "Container": r.id, "ID": cells[0],
            "MemPerc": cells[4], "MemUsage": cells[3], "Name": r.name, "NetIO": cells[5],
            "PIDs": cells[7]}, separators=(",", ":")))
    return "".join(line + "\n" for line in out)
