"""Watch latency: a file saved on the host, readable in the container; composer vs v2.

Both tools watch at once, each its own project (``wtb-v2-<hex>``, ``wtb-co-<hex>``)
in its own copy of one layout: a busybox service ``web`` with one ``sync`` rule
(``./src`` -> ``/app/src``). ``watch`` starts each (``--quiet``); once both say
``Watch enabled``:

* **latency**, ``--runs`` times (default 15) after one untimed warm-up, the tools
  taking turns (the order alternating between runs): a new file with unique
  content is written in the tool's ``src/`` and the container is polled for it as
  fast as possible with the same probe for both tools, the Docker Engine API's
  ``GET /containers/{id}/archive?path=...`` (the docker SDK's ``APIClient``,
  reading the archive and comparing the content) in a tight loop. The time is
  ``time.perf_counter`` from just before the write to the first probe that reads
  the new content. The table gives the median, min and max, and the ratio of the
  medians. The probe's own cost (one ``GET`` of a file not there yet) is measured
  too and printed under the table: it is the resolution of the measure.
* **batching**, ``--batch-rounds`` times (default 3): ten files written one after
  the other with no pause ("save all"), then ten files 150 ms apart (one file at a
  time, a little slower than a person); each tool's ``Syncing service ... after N
  changes were detected`` lines are counted until the N add up to ten, i.e. how
  many syncs (one archive per container each) the ten files took.

v2 waits out a quiet period of 500 ms after the last change before it syncs; composer
50 ms (checked every 50 ms). That is most of the difference in latency, and also
why composer makes several syncs when files arrive more than 50 ms apart.

    python benchmarks/bench_watch.py [--runs 15] [--batch-rounds 3] [--update-readme]

Needs a Docker Engine with busybox:latest. v2 is ``$COMPOSE_V2``, default the Go
binary in the venv's ``compose`` package. Everything the run creates is removed at
the end (``down --volumes --rmi local`` by each tool, then anything still carrying
the project label), also on failure or Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
import docker.errors

REPO = Path(__file__).resolve().parents[1]
PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
TARGET = "/app/src"
#: Hang guard of one wait, seconds; nothing is judged by it.
TIMEOUT = 120.0
SYNCING = re.compile(r'^Syncing service "web" after (\d+) changes were detected$')

COMPOSE = f"""\
services:
  web:
    image: busybox:latest
    command: ["sleep", "86400"]
    stop_signal: SIGKILL
    develop:
      watch:
        - path: ./src
          target: {TARGET}
          action: sync
"""


def v2_binary() -> str:
    found = sorted(REPO.glob(".venv/lib/python3*/site-packages/compose/docker-compose"))
    return os.environ.get("COMPOSE_V2", str(found[0]) if found else "/nonexistent")


def composer() -> list[str]:
    beside = Path(sys.executable).with_name("composer")
    return [str(beside)] if beside.exists() else [sys.executable, "-m", "composer"]


# -- one tool watching ----------------------------------------------------------------------------


@dataclass
class Watching:
    """One tool's ``watch`` on its own project and folder, its stdout read by a thread."""

    tool: str
    command: list[str]
    project: str
    folder: Path
    proc: subprocess.Popen[bytes] | None = None
    container: str = ""
    lines: list[str] = field(default_factory=list)
    stamps: list[float] = field(default_factory=list)  # perf_counter of each line
    err: list[bytes] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def start(self) -> None:
        (self.folder / "src").mkdir(parents=True)
        (self.folder / "compose.yaml").write_text(COMPOSE)
        env = {k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_")}
        self.proc = subprocess.Popen(
            [*self.command, "-p", self.project, "watch", "--quiet"], cwd=self.folder,
            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE)
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._drain, daemon=True).start()

    def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for raw in self.proc.stdout:
            with self.changed:
                self.stamps.append(time.perf_counter())
                self.lines.append(raw.decode(errors="replace").rstrip("\n"))
                self.changed.notify_all()
        with self.changed:
            self.changed.notify_all()

    def _drain(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        for raw in self.proc.stderr:
            self.err.append(raw)

    def wait_lines(self, check: Callable[[list[str]], bool], what: str) -> None:
        deadline = time.monotonic() + TIMEOUT
        with self.changed:
            while not check(self.lines):
                if self.proc is not None and self.proc.poll() is not None:
                    raise SystemExit(f"{self.tool} watch ended ({self.proc.returncode}) "
                                     f"waiting for {what}:\n"
                                     + b"".join(self.err).decode(errors="replace")[-2000:])
                left = deadline - time.monotonic()
                if left <= 0:
                    raise SystemExit(f"{self.tool}: gave up waiting for {what}; "
                                     f"stdout: {self.lines}")
                self.changed.wait(min(left, 0.5))

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# -- the probe ------------------------------------------------------------------------------------


def read_file(api: Any, container: str, path: str) -> bytes | None:
    """The content of ``path`` in the container (one ``GET .../archive``), or None."""
    try:
        stream, _ = api.get_archive(container, path)
    except docker.errors.NotFound:
        return None
    data = b"".join(stream)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        member = tar.extractfile(os.path.basename(path))
        return member.read() if member is not None else None


def latency(api: Any, side: Watching, name: str) -> tuple[float, float]:
    """Seconds from writing ``src/<name>`` to the first probe reading its content,
    and to the tool's ``Syncing service`` line (printed before it copies)."""
    content = f"{name} {uuid.uuid4().hex}\n".encode()
    there = f"{TARGET}/{name}"
    deadline = time.monotonic() + TIMEOUT
    seen = len(side.lines)
    began = time.perf_counter()
    (side.folder / "src" / name).write_bytes(content)
    while read_file(api, side.container, there) != content:
        if time.monotonic() > deadline:
            raise SystemExit(f"{side.tool}: {there} never arrived")
    arrived = time.perf_counter() - began
    side.wait_lines(lambda lines: any(SYNCING.match(x) for x in lines[seen:]),
                    f"the sync line of {name}")
    line = next(i for i in range(seen, len(side.lines)) if SYNCING.match(side.lines[i]))
    return arrived, side.stamps[line] - began


def probe_cost(api: Any, container: str, count: int = 50) -> float:
    """The median time of one probe of a file that is not there."""
    times = []
    for i in range(count):
        began = time.perf_counter()
        read_file(api, container, f"{TARGET}/absent-{i}")
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def batches(side: Watching, names: list[str], pause: float) -> int:
    """Write ``names`` (``pause`` seconds apart); how many sync lines they took."""
    start = len(side.lines)
    for i, name in enumerate(names):
        if i and pause:
            time.sleep(pause)
        (side.folder / "src" / name).write_text(f"{name} {uuid.uuid4().hex}\n")

    def counted(lines: list[str]) -> bool:
        return sum(int(m.group(1)) for line in lines[start:]
                   if (m := SYNCING.match(line))) >= len(names)

    side.wait_lines(counted, f"syncs of {len(names)} files")
    return sum(1 for line in side.lines[start:] if SYNCING.match(line))


# -- clean-up -------------------------------------------------------------------------------------


def clean(client: Any, side: Watching) -> None:
    side.stop()
    if (side.folder / "compose.yaml").exists():
        env = {k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_")}
        subprocess.run([*side.command, "-p", side.project, "down", "--volumes", "--rmi",
                        "local"], cwd=side.folder, env=env, capture_output=True,
                       timeout=TIMEOUT, check=False)
    label = {"label": f"{PROJECT_LABEL}={side.project}"}
    for c in client.containers.list(all=True, filters=label):
        with contextlib.suppress(Exception):
            c.remove(force=True, v=True)
    for n in client.networks.list(filters=label):
        with contextlib.suppress(Exception):
            n.remove()


# -- the table ------------------------------------------------------------------------------------


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}"


def main(argv: list[str] | None = None) -> int:
    from bench_engine import Lines, update_readme

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--batch-rounds", type=int, default=3)
    parser.add_argument("--update-readme", action="store_true",
                        help="put the table in benchmarks/README.md")
    args = parser.parse_args(argv)
    if not Path(v2_binary()).exists():
        raise SystemExit(f"Docker Compose v2 not found at {v2_binary()} (set COMPOSE_V2)")
    client = docker.from_env(timeout=60)
    api = client.api
    token = uuid.uuid4().hex[:8]
    load = [os.getloadavg()[0]]
    results: dict[str, list[float]] = {}
    to_line: dict[str, list[float]] = {}
    counts: dict[tuple[str, str], list[int]] = {}
    probe = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        sides = [Watching("Compose v2", [v2_binary()], f"wtb-v2-{token}", Path(tmp, "v2")),
                 Watching("composer", composer(), f"wtb-co-{token}", Path(tmp, "composer"))]
        try:
            for side in sides:
                side.start()
            for side in sides:
                side.wait_lines(lambda lines: "Watch enabled" in lines, "Watch enabled")
                (found,) = api.containers(filters={"label": [
                    f"{PROJECT_LABEL}={side.project}", f"{SERVICE_LABEL}=web"]})
                side.container = found["Id"]
            probe = probe_cost(api, sides[0].container)
            for side in sides:  # warm-up, untimed
                latency(api, side, "warm-up.txt")
            for run in range(args.runs):
                order = sides if run % 2 == 0 else list(reversed(sides))
                for side in order:
                    arrived, said = latency(api, side, f"run-{run}.txt")
                    results.setdefault(side.tool, []).append(arrived)
                    to_line.setdefault(side.tool, []).append(said)
                print(f"run {run + 1}: " + ", ".join(
                    f"{s.tool} {ms(results[s.tool][-1])} ms" for s in sides), file=sys.stderr)
            for rnd in range(args.batch_rounds):
                for case, pause in (("at once", 0.0), ("150 ms apart", 0.15)):
                    for side in sides:
                        names = [f"batch-{rnd}-{case[:2]}-{i}.txt" for i in range(10)]
                        counts.setdefault((case, side.tool), []).append(
                            batches(side, names, pause))
        finally:
            for side in sides:
                clean(client, side)
    load.append(os.getloadavg()[0])

    lines = Lines()
    lines.emit("| tool | runs | median ms | min ms | max ms | median ms to its `Syncing` "
               "line |")
    lines.emit("| --- | ---: | ---: | ---: | ---: | ---: |")
    for side in sides:
        vals = results[side.tool]
        lines.emit(f"| {side.tool} | {len(vals)} | {ms(statistics.median(vals))} | "
                   f"{ms(min(vals))} | {ms(max(vals))} | "
                   f"{ms(statistics.median(to_line[side.tool]))} |")
    theirs = statistics.median(results["Compose v2"])
    ours = statistics.median(results["composer"])
    lines.emit("")
    lines.emit("| ten files saved | Compose v2: syncs | composer: syncs |")
    lines.emit("| --- | ---: | ---: |")
    for case in ("at once", "150 ms apart"):
        lines.emit(f"| {case} | " + " | ".join(
            ", ".join(map(str, counts[(case, s.tool)])) for s in sides) + " |")
    lines.emit("")
    lines.emit(f"- Latency: from writing a new file on the host to reading its content in "
               f"the container; v2/composer (medians) {theirs / ours:.2f}× (above 1: "
               "composer is faster).")
    lines.emit(f"- Probe: `GET /containers/{{id}}/archive` in a tight loop, {ms(probe)} ms "
               "a probe (median; the resolution of the latency).")
    lines.emit(f"- Syncs: the `Syncing service` lines for ten files, one number per round "
               f"({args.batch_rounds} rounds).")
    lines.emit(f"- Machine: {platform.machine()}, {os.cpu_count()} CPUs; Docker Engine "
               f"{client.version().get('Version')}; Python {platform.python_version()}.")
    print("One-minute load average " + " to ".join(f"{x:.1f}" for x in load)
          + " from the start to the end.")
    if args.update_readme:
        update_readme(lines, load, marker="watch", heading="Watch: from a saved file to "
                      "the container")
    return 0


if __name__ == "__main__":
    sys.exit(main())
