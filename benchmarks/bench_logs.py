"""Merged-log throughput and completeness: composer vs Docker Compose v2 vs 1.29.2.

Several busybox containers each print ``seq -w 1 N`` (fixed-width lines) as fast
as they can. For each tool this times

* ``up`` (attached, ``--no-color``): create, attach, start, print every line,
  return when all containers exited;
* ``logs`` (``--no-color``): the same lines again, read back from the engine;

and checks completeness: every container's lines arrive exactly once, whole and
in order (``name | 000123``). Prints a markdown table.

    python benchmarks/bench_logs.py [--containers 4] [--lines 200000] [--repeat 1]

Needs a Docker Engine with busybox:latest. The tools: composer (this checkout),
v2 (``$COMPOSE_V2``, default the binary in the venv's ``compose`` package) and
1.29.2 (``$COMPOSE_V1``, default ``/usr/bin/docker-compose``); a missing one is
skipped.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PY = sys.executable
V2_DEFAULT = next(iter(sorted(REPO.glob(".venv/lib/python3*/site-packages/compose/"
                                        "docker-compose"))), Path("/nonexistent"))

TOOLS: dict[str, list[str]] = {
    "composer": [PY, "-m", "composer"],
    "compose v2": [os.environ.get("COMPOSE_V2", str(V2_DEFAULT))],
    "compose 1.29.2": [os.environ.get("COMPOSE_V1", "/usr/bin/docker-compose")],
}

LINE = re.compile(r"^(\S+?)\s*\| (.*)$")


def compose_file(containers: int, lines: int) -> str:
    services = "".join(
        f"  s{i}:\n    image: busybox:latest\n    command: [\"seq\", \"-w\", \"1\", \"{lines}\"]\n"
        for i in range(containers))
    return "services:\n" + services


def check(output: bytes, containers: int, lines: int) -> tuple[int, bool]:
    """(lines received, complete): every container's 1..N once, whole, in order."""
    width = len(str(lines))
    seen: dict[str, list[str]] = defaultdict(list)
    total = 0
    for raw in output.decode("utf-8", "replace").splitlines():
        match = LINE.match(raw)
        if match is None:
            continue
        seen[match.group(1)].append(match.group(2))
        total += 1
    expected = [str(i).zfill(width) for i in range(1, lines + 1)]
    complete = len(seen) == containers and all(v == expected for v in seen.values())
    return total, complete


def run(tool: list[str], project: str, folder: Path, verb: list[str]) -> tuple[float, bytes]:
    started = time.perf_counter()
    proc = subprocess.run([*tool, "-p", project, *verb], cwd=folder, stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, check=False, timeout=900)
    return time.perf_counter() - started, proc.stdout


def bench(name: str, tool: list[str], containers: int, lines: int) -> list[list[str]]:
    rows: list[list[str]] = []
    with tempfile.TemporaryDirectory(prefix="bench-logs-") as tmp:
        folder = Path(tmp)
        (folder / "docker-compose.yml").write_text(compose_file(containers, lines))
        project = f"benchlogs{uuid.uuid4().hex[:8]}"
        try:
            for verb in (["up", "--no-color"], ["logs", "--no-color"]):
                seconds, out = run(tool, project, folder, verb)
                total, complete = check(out, containers, lines)
                rows.append([name, verb[0], f"{total:,}", "yes" if complete else "**no**",
                             f"{seconds:.2f}", f"{total / seconds:,.0f}"])
        finally:
            subprocess.run([*tool, "-p", project, "down", "-t", "0"], cwd=folder,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--containers", type=int, default=4)
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--tools", default=",".join(TOOLS),
                        help="comma-separated subset of: " + ", ".join(TOOLS))
    args = parser.parse_args()
    expected = args.containers * args.lines
    print(f"{args.containers} containers x {args.lines:,} lines = {expected:,} lines "
          "(seconds: wall time of the command; lines/s: lines received / seconds)\n")
    print("| tool | command | lines received | complete | seconds | lines/s |")
    print("|---|---|---:|---|---:|---:|")
    for name in args.tools.split(","):
        tool = TOOLS[name.strip()]
        if not Path(tool[0]).exists():
            print(f"| {name} | (not installed: {tool[0]}) | | | | |")
            continue
        for row in bench(name, tool, args.containers, args.lines):
            print("| " + " | ".join(row) + " |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
