"""``stats``: one sample per container, laid out as the docker CLI does.

Columns: ``CONTAINER ID  NAME  CPU %  MEM USAGE / LIMIT  MEM %  NET I/O  BLOCK I/O
PIDS``; memory in binary units (``1.5MiB``), I/O in decimal ones (``1.2kB``). The
numbers are the backend's :class:`~composer.backends.base.StatsSample` (CPU % and
memory without the page cache, computed as the docker CLI computes them).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from composer.backends.base import StatsSample
from composer.frozen import frozen
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


@frozen(slots=True)
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


def row(container_id: str, name: str, sample: StatsSample | None) -> StatsRow:
    """A row from one sample (None: not running, all zeros)."""
    s = sample or StatsSample()
    return StatsRow(
        id=container_id, name=name, cpu=s.cpu_percent, mem_usage=s.memory_usage,
        mem_limit=s.memory_limit, mem_percent=s.memory_percent, net_rx=s.network_rx,
        net_tx=s.network_tx, block_read=s.block_read, block_write=s.block_write, pids=s.pids)


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
