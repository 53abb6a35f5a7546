"""``up -d`` and ``down`` of 20 services: composer on LXC against composer on Docker.

One project of 20 busybox services (``sleep``, SIGKILL on stop so no grace period
is measured), one run each of ``composer up -d`` then ``composer down`` per
engine, timed with ``time.perf_counter`` around the command; the engines take
turns, LXC first. Prints a table; the load average at the start and the end.

    python benchmarks/bench_lxc.py [--services 20] [--runs 1]

Needs root, LXC with its binding (``make lxc``) and a Docker Engine with
busybox:latest.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

COMPOSER = [str(Path(sys.executable).with_name("composer"))]


def compose_file(services: int) -> str:
    lines = ["services:"]
    for i in range(services):
        lines += [f"  s{i:02d}:", "    image: busybox", '    command: ["sleep", "600"]',
                  "    stop_signal: SIGKILL"]
    return "\n".join(lines) + "\n"


def timed(argv: list[str], cwd: str) -> float:
    began = time.perf_counter()
    out = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
    took = time.perf_counter() - began
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {out.stderr.strip()[-400:]}")
    return took


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--services", type=int, default=20)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    load = os.getloadavg()[0]
    results: dict[str, dict[str, list[float]]] = {"LXC": {"up": [], "down": []},
                                                  "Docker": {"up": [], "down": []}}
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "compose.yaml").write_text(compose_file(args.services))
        for _ in range(args.runs):
            for engine, flags in (("LXC", ["--engine", "lxc"]), ("Docker", ["--engine", "docker"])):
                name = f"benchlxc-{uuid.uuid4().hex[:6]}"
                base = [*COMPOSER, *flags, "-p", name]
                try:
                    results[engine]["up"].append(timed([*base, "up", "-d"], folder))
                finally:
                    results[engine]["down"].append(timed([*base, "down", "-t", "1"], folder))
    print("| engine | services | runs | up -d (s) | down (s) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for engine, times in results.items():
        print(f"| composer on {engine} | {args.services} | {args.runs} | "
              f"{statistics.median(times['up']):.2f} | {statistics.median(times['down']):.2f} |")
    print(f"\nOne-minute load average {load:.1f} at the start, {os.getloadavg()[0]:.1f} at the "
          "end; 2 CPUs.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
