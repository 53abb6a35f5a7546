"""Engine benchmark: ``up -d`` / ``down`` side by side with the engine's own floor.

For each case this prints one markdown table row: the **floor** (the same containers
created, started, stopped and removed directly through the docker SDK, 16 calls at a
time, no compose logic), Docker Compose v2, Debian's docker-compose 1.29.2 and
composer, with the ratios composer/floor, v2/composer and 1.29.2/composer (above 1
means composer is faster). Cells are medians of ``--runs`` runs; the tools take turns
within a run so a busy machine slows them alike.

Cases: ``up -d`` and ``down`` of 20 and 100 independent busybox services (``sleep
3600`` with ``init: true`` so stop is quick), ``up -d`` of a 5-link ``service_healthy``
chain (health check interval 500ms), a second ``up -d`` on a running 100-service
project, and the peak resident memory of each tool for the 100-service ``up -d``.

    python benchmarks/bench_engine.py [--runs 3] [--quick]
    python benchmarks/bench_engine.py --engine podman [--runs 3]

``--engine podman``: the same tools on Podman's socket (``--podman-socket``, default
``/run/podman/podman.sock``; ``make podman`` starts it): Docker Compose v2 (pointed
there with ``DOCKER_HOST``), podman-compose (PyPI's, installed as a tool into
``benchmarks/.tools``, never a composer dependency; it drives the ``podman`` CLI)
and composer, on ``up -d``/``down`` of 20 services and the 5-link chain. Without
systemd Podman runs no healthchecks: a tool that waits for them forever is killed
after ``--chain-timeout`` seconds and shown as "did not finish".

Needs a Docker Engine with busybox:latest. Everything it creates carries a project
name starting with ``p1bench`` and is removed at the end, also on failure or Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import docker
from _bytecode import compile_composer

REPO = Path(__file__).resolve().parents[1]
PREFIX = "p1bench"
PROJECT_LABEL = "com.docker.compose.project"
IMAGE = "busybox:latest"
POOL = 16
CHAIN = 5
#: Seconds after which one tool command is killed and its case noted as failed.
TIMEOUT = 300.0


def _v2_binary() -> str:
    found = sorted(REPO.glob(".venv/lib/python3*/site-packages/compose/docker-compose"))
    return os.environ.get("COMPOSE_V2", str(found[0]) if found else "/nonexistent")


def _composer() -> list[str]:
    script = Path(sys.executable).with_name("composer")
    return [str(script)] if script.exists() else [sys.executable, "-m", "composer"]


TOOLS: dict[str, list[str]] = {
    "v2": [_v2_binary()],
    "1.29.2": [os.environ.get("COMPOSE_V1", "/usr/bin/docker-compose")],
    "composer": _composer(),
}



# -- compose files ------------------------------------------------------------------------

def independent_file(n: int) -> str:
    return "services:\n" + "".join(
        f"  s{i}:\n    image: {IMAGE}\n    command: [\"sleep\", \"3600\"]\n    init: true\n"
        for i in range(n))


def chain_file(links: int) -> str:
    out = ["services:\n"]
    for i in range(links):
        out.append(
            f"  c{i}:\n    image: {IMAGE}\n    command: [\"sleep\", \"3600\"]\n    init: true\n"
            "    healthcheck:\n      test: [\"CMD\", \"true\"]\n      interval: 500ms\n")
        if i:
            out.append(f"    depends_on:\n      c{i - 1}:\n        condition: service_healthy\n")
    return "".join(out)


# -- running a tool -----------------------------------------------------------------------

#: composer as a library: imports first (untimed), then load + the verb, timed in-process.
LIBRARY_RUNNER = """
import sys, time, anyio
from composer import LoadOptions, load_project
from composer.api import Compose
from composer.backends.docker import connect

folder, project, verb = sys.argv[1:4]

async def main() -> float:
    t0 = time.perf_counter()
    backend = connect()
    try:
        loaded = load_project(LoadOptions(project_directory=folder, project_name=project))
        compose = Compose(backend)
        await (compose.up(loaded) if verb == "up" else compose.down(loaded))
        return time.perf_counter() - t0
    finally:
        await backend.aclose()

print(anyio.run(main))
"""


def run_library(folder: Path, project: str, verb: str) -> float:
    out = subprocess.run([sys.executable, "-c", LIBRARY_RUNNER, str(folder), project, verb],
                         capture_output=True, text=True, timeout=TIMEOUT)
    if out.returncode != 0:
        raise RuntimeError(f"library {verb} exited {out.returncode}:\n{out.stderr[-2000:]}")
    return float(out.stdout.split()[-1])


def run_tool(cmd: list[str], folder: Path, project: str, *args: str,
             timeout: float = TIMEOUT, env: dict[str, str] | None = None) -> tuple[float, int]:
    """(wall seconds, peak RSS in KiB of the child and what it waited for)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([*cmd, "-p", project, *args], cwd=folder, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert proc.stdout is not None
    # A hung tool (1.29.2 was seen stuck on 100 services) must not stall the run.
    watchdog = threading.Timer(timeout, proc.kill)
    watchdog.start()
    try:
        out = proc.stdout.read()
        # wait4 gives this child's own rusage, not a running maximum over all children.
        _, status, usage = os.wait4(proc.pid, 0)
    except BaseException:
        # Interrupted: the child must not go on creating what clean-up removes.
        proc.kill()
        proc.wait()
        raise
    finally:
        watchdog.cancel()
    elapsed = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} {' '.join(args)} exited {proc.returncode}:\n"
                           f"{out.decode(errors='replace')[-2000:]}")
    return elapsed, usage.ru_maxrss


# -- the floor ----------------------------------------------------------------------------

class Floor:
    """The same engine work as a compose tool, straight through the SDK."""

    def __init__(self, client: docker.DockerClient) -> None:
        self.client = client
        self.pool = ThreadPoolExecutor(POOL)

    def _create(self, project: str, service: str, network: str,
                healthcheck: dict[str, Any] | None = None) -> Any:
        return self.client.containers.create(
            IMAGE, ["sleep", "3600"], name=f"{project}-{service}-1", init=True,
            labels={PROJECT_LABEL: project, "com.docker.compose.service": service},
            network=network, healthcheck=healthcheck, detach=True)

    def _create_start(self, project: str, service: str, network: str) -> Any:
        c = self._create(project, service, network)
        c.start()
        return c

    def up(self, project: str, n: int) -> float:
        t0 = time.perf_counter()
        net = f"{project}_default"
        self.client.networks.create(net, labels={PROJECT_LABEL: project})
        list(self.pool.map(lambda i: self._create_start(project, f"s{i}", net), range(n)))
        return time.perf_counter() - t0

    def noop(self, project: str) -> float:
        t0 = time.perf_counter()
        self.client.api.containers(all=True, filters={"label": f"{PROJECT_LABEL}={project}"})
        return time.perf_counter() - t0

    def down(self, project: str) -> float:
        t0 = time.perf_counter()
        found = self.client.api.containers(
            all=True, filters={"label": f"{PROJECT_LABEL}={project}"})

        def stop_remove(c: dict[str, Any]) -> None:
            self.client.api.stop(c["Id"])
            self.client.api.remove_container(c["Id"])

        list(self.pool.map(stop_remove, found))
        for net in self.client.networks.list(filters={"label": f"{PROJECT_LABEL}={project}"}):
            net.remove()  # fails with 20.10's stale-endpoint race: see README
        return time.perf_counter() - t0

    def chain(self, project: str, links: int) -> float:
        """Create every link at once, then start each once the engine reports the
        previous one healthy (what a compose tool can do at best)."""
        t0 = time.perf_counter()
        net = f"{project}_default"
        self.client.networks.create(net, labels={PROJECT_LABEL: project})
        hc = {"test": ["CMD", "true"], "interval": 500_000_000}
        events = self.client.events(decode=True, since=int(time.time()) - 1,
                                    filters={"type": "container",
                                             "label": f"{PROJECT_LABEL}={project}"})
        try:
            made = list(self.pool.map(
                lambda i: self._create(project, f"c{i}", net, hc), range(links)))
            for i, c in enumerate(made):
                c.start()
                if i == links - 1:
                    break
                for ev in events:
                    if (ev.get("id") == c.id
                            and ev.get("status") == "health_status: healthy"):
                        break
        finally:
            events.close()
        return time.perf_counter() - t0


# -- clean-up -----------------------------------------------------------------------------

def cleanup(client: docker.DockerClient, run_id: str) -> None:
    """Remove every container and network of this run's projects."""
    mine = f"{PREFIX}{run_id}"
    # In passes: Podman refuses to remove a container others depend on (podman-compose
    # links a service to its dependencies) until they are gone.
    for last in (False, False, False, True):
        left = [c for c in client.api.containers(all=True, filters={"label": PROJECT_LABEL})
                if c["Labels"].get(PROJECT_LABEL, "").startswith(mine)]
        for c in left:
            try:
                client.api.remove_container(c["Id"], force=True)
            except docker.errors.APIError as exc:
                if last:
                    print(f"clean-up: {exc}", file=sys.stderr)
        if not left:
            break
    for net in client.networks.list(filters={"label": PROJECT_LABEL}):
        if net.attrs.get("Labels", {}).get(PROJECT_LABEL, "").startswith(mine) \
                or net.name.startswith(mine):
            try:
                net.remove()
            except docker.errors.APIError as exc:
                print(f"clean-up: {exc}", file=sys.stderr)


# -- the run ------------------------------------------------------------------------------

def fmt_s(v: float | None) -> str:
    if v is None:
        return "–"
    return f"{v * 1000:.0f} ms" if v < 1 else f"{v:.2f} s"


def ratio(a: float | None, b: float | None) -> str:
    return "" if a is None or b is None or b == 0 else f"{a / b:.2f}×"


def median_of(results: dict[tuple[str, str], list[float]], case: str, col: str,
              unfinished: Collection[tuple[str, str]] = ()) -> float | None:
    """The median of a case's runs for a column (None: no run, or one that never ended)."""
    vals = results.get((case, col))
    return statistics.median(vals) if vals and (case, col) not in unfinished else None


class Lines(list[str]):
    """The table and its notes: each line printed as it is added, kept for the README."""

    def emit(self, text: str) -> None:
        print(text)
        self.append(text)


def update_readme(lines: list[str], load: list[float], marker: str = "engine",
                  heading: str = "") -> None:
    """Put ``lines`` (a table and its notes) between the ``marker`` comments of
    benchmarks/README.md (added under ``heading`` at its end when missing)."""
    readme = Path(__file__).with_name("README.md")
    text = readme.read_text()
    begin, end = f"<!-- {marker}:begin -->", f"<!-- {marker}:end -->"
    if begin not in text:
        text += f"\n## {heading}\n\n{begin}\n{end}\n"
    head, _, rest = text.partition(begin)
    _, _, tail = rest.partition(end)
    stamp = (f"One run ({time.strftime('%Y-%m-%d')}); one-minute load average "
             + " to ".join(f"{x:.1f}" for x in load) + " from its start to its end.")
    readme.write_text(head + begin + "\n" + stamp + "\n\n" + "\n".join(lines).rstrip()
                      + "\n" + end + tail)


# -- Podman -------------------------------------------------------------------------------

TOOLS_DIR = Path(__file__).with_name(".tools")


def podman_compose() -> list[str]:
    """podman-compose from ``$PODMAN_COMPOSE``, else ``benchmarks/.tools`` (installed
    there from PyPI on first use: a tool to compare with, not a dependency)."""
    if os.environ.get("PODMAN_COMPOSE"):
        return [os.environ["PODMAN_COMPOSE"]]
    script = TOOLS_DIR / "bin" / "podman-compose"
    if not script.exists():
        subprocess.run([sys.executable, "-m", "venv", str(TOOLS_DIR)], check=True)
        subprocess.run([str(TOOLS_DIR / "bin" / "pip"), "install", "-q", "podman-compose"],
                       check=True)
    return [str(script)]


def run_podman(args: argparse.Namespace) -> int:
    """``--engine podman``: v2, podman-compose and composer on Podman's socket."""
    load = [os.getloadavg()[0]]
    runs = 1 if args.quick else args.runs
    small, links = (5, 2) if args.quick else (20, CHAIN)
    address = f"unix://{args.podman_socket}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_")}
    env.update(DOCKER_HOST=address, COMPOSER_ENGINE="")
    tools = {"v2": [_v2_binary()], "podman-compose": podman_compose(),
             "composer": _composer()}
    client = docker.DockerClient(base_url=address, timeout=300)
    version = client.version()
    run_id = uuid.uuid4().hex[:6]
    results: dict[tuple[str, str], list[float]] = {}
    unfinished: set[tuple[str, str]] = set()
    notes: list[str] = []
    tmp = tempfile.TemporaryDirectory(prefix="p1bench-")
    root = Path(tmp.name)
    for name, text in (("small", independent_file(small)), ("chain", chain_file(links))):
        (root / name).mkdir()
        (root / name / "compose.yaml").write_text(text)
    counter = iter(range(1_000_000))
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))

    def tool(col: str, kind: str, project: str, *verb: str, timeout: float = TIMEOUT) -> float:
        return run_tool(tools[col], root / kind, project, *verb, timeout=timeout, env=env)[0]

    try:
        for r in range(runs):
            print(f"run {r + 1}/{runs} ...", file=sys.stderr, flush=True)
            for col in tools:
                p = f"{PREFIX}{run_id}{next(counter)}{col.replace('-', '')}"
                try:
                    results.setdefault((f"up {small}", col), []).append(
                        tool(col, "small", p, "up", "-d"))
                    results.setdefault((f"down {small}", col), []).append(
                        tool(col, "small", p, "down"))
                except RuntimeError as exc:
                    notes.append(f"run {r + 1}, {col}: {str(exc).splitlines()[0]}")
                    cleanup(client, run_id)
                if ("chain", col) in unfinished:
                    continue
                p = f"{PREFIX}{run_id}{next(counter)}{col.replace('-', '')}"
                try:
                    results.setdefault(("chain", col), []).append(
                        tool(col, "chain", p, "up", "-d", timeout=args.chain_timeout))
                except RuntimeError as exc:
                    first = str(exc).splitlines()[0]
                    if " exited -9:" in first:
                        unfinished.add(("chain", col))
                    else:
                        notes.append(f"run {r + 1}, {col}, chain: {first}")
                finally:
                    cleanup(client, run_id)
    except KeyboardInterrupt:
        notes.append("interrupted: partial results")
    finally:
        cleanup(client, run_id)
        tmp.cleanup()
        load.append(os.getloadavg()[0])

    def med(case: str, col: str) -> float | None:
        return median_of(results, case, col, unfinished)

    def cell(case: str, col: str) -> str:
        if (case, col) in unfinished:
            return f"did not finish ({args.chain_timeout:.0f} s)"
        return fmt_s(med(case, col))

    lines = Lines()
    lines.emit("| case (Podman) | v2 | podman-compose | composer | v2/composer "
               "| podman-compose/composer |")
    lines.emit("| --- | ---: | ---: | ---: | ---: | ---: |")
    for key, label in ((f"up {small}", f"`up -d`, {small} services"),
                       (f"down {small}", f"`down`, {small} services"),
                       ("chain", f"`up -d`, {links}-link `service_healthy` chain")):
        c = med(key, "composer")
        lines.emit(f"| {label} | {cell(key, 'v2')} | {cell(key, 'podman-compose')} "
                   f"| {cell(key, 'composer')} | {ratio(med(key, 'v2'), c)} "
                   f"| {ratio(med(key, 'podman-compose'), c)} |")
    lines.emit("")
    done = max((len(v) for v in results.values()), default=0)
    lines.emit(f"- Median of {done} run(s) on Podman {version.get('Version', '?')} (root, "
               f"no systemd), at {address}; ratios above 1 mean composer is faster.")
    for note in notes:
        lines.emit(f"- {note}")
    if args.update_readme:
        update_readme(lines, load, "podman", "On Podman")
    return 1 if notes else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--engine", choices=("docker", "podman"), default="docker")
    ap.add_argument("--podman-socket", default="/run/podman/podman.sock")
    ap.add_argument("--chain-timeout", type=float, default=60.0,
                    help="on Podman: seconds before a tool waiting on the chain is killed")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: 1 run, 5 and 10 services, a 2-link chain")
    ap.add_argument("--update-readme", action="store_true",
                    help="write the table into benchmarks/README.md")
    ap.add_argument("--tools", default="floor,v2,1.29.2,composer,library",
                    help="comma-separated columns to run")
    args = ap.parse_args(argv)
    compile_composer()
    if args.engine == "podman":
        return run_podman(args)
    load = [os.getloadavg()[0]]
    runs = 1 if args.quick else args.runs
    small, big = (5, 10) if args.quick else (20, 100)
    links = 2 if args.quick else CHAIN
    wanted = args.tools.split(",")
    tools = {k: v for k, v in TOOLS.items()
             if k in wanted and Path(v[0]).exists()}
    client = docker.from_env(timeout=300)
    floor = Floor(client)
    run_id = uuid.uuid4().hex[:6]
    results: dict[tuple[str, str], list[float]] = {}
    memory: dict[str, list[int]] = {}
    notes: list[str] = []

    def record(case: str, col: str, value: float) -> None:
        results.setdefault((case, col), []).append(value)

    # SIGTERM takes the same clean-up path as Ctrl-C.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    tmp = tempfile.TemporaryDirectory(prefix="p1bench-")
    root = Path(tmp.name)
    files = {"small": independent_file(small), "big": independent_file(big),
             "chain": chain_file(links)}
    for name, text in files.items():
        (root / name).mkdir()
        (root / name / "compose.yaml").write_text(text)
    counter = iter(range(1_000_000))

    def project(col: str) -> str:
        return f"{PREFIX}{run_id}{next(counter)}{col.replace('.', '')}"

    def measure(col: str, kind: str) -> None:
        p = project(col)
        if col == "library":
            folder = root / kind
            n = {"small": small, "big": big}.get(kind)
            record(f"up {n}" if n else "chain", col, run_library(folder, p, "up"))
            down = run_library(folder, p, "down")
            if n:
                record(f"down {n}", col, down)
            return
        if kind == "chain":
            if col == "floor":
                record("chain", col, floor.chain(p, links))
                floor.down(p)
            else:
                record("chain", col, run_tool(tools[col], root / "chain", p, "up", "-d")[0])
                run_tool(tools[col], root / "chain", p, "down")
            return
        n = small if kind == "small" else big
        if col == "floor":
            record(f"up {n}", col, floor.up(p, n))
            if kind == "big":
                record("noop", col, floor.noop(p))
            record(f"down {n}", col, floor.down(p))
            return
        t, rss = run_tool(tools[col], root / kind, p, "up", "-d")
        record(f"up {n}", col, t)
        if kind == "big":
            memory.setdefault(col, []).append(rss)
            record("noop", col, run_tool(tools[col], root / kind, p, "up", "-d")[0])
        record(f"down {n}", col, run_tool(tools[col], root / kind, p, "down")[0])
        if kind == "small":
            # A command with nothing to do: the tool's fixed cost (start-up, loading the
            # file, one listing), which every case above includes once.
            record("empty", col, run_tool(tools[col], root / kind, project(col), "down")[0])

    hung: set[tuple[str, str]] = set()
    try:
        for r in range(runs):
            print(f"run {r + 1}/{runs} ...", file=sys.stderr, flush=True)
            for col in ["floor", *tools, "library"]:
                if col not in wanted:
                    continue
                for kind in ("small", "big", "chain"):
                    if (col, kind) in hung:
                        continue
                    try:
                        measure(col, kind)
                    except Exception as exc:  # noqa: BLE001 - note it, go on with the rest
                        first = str(exc).splitlines()[0]
                        if " exited -9:" in first:  # killed by the watchdog: don't wait again
                            hung.add((col, kind))
                            first += f" (killed after {TIMEOUT:.0f} s; not run again)"
                        notes.append(f"run {r + 1}, {col}, {kind}: {first}")
                        print(exc, file=sys.stderr)
                        # What the failed case left must not weigh on the next ones.
                        cleanup(client, run_id)
    except KeyboardInterrupt:
        notes.append("interrupted: partial results")
        print("interrupted, cleaning up", file=sys.stderr)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        floor.pool.shutdown(cancel_futures=True)  # its calls finish before clean-up
        cleanup(client, run_id)
        tmp.cleanup()
        load.append(os.getloadavg()[0])

    cases = [(f"up {small}", f"`up -d`, {small} services"),
             (f"down {small}", f"`down`, {small} services"),
             (f"up {big}", f"`up -d`, {big} services"),
             (f"down {big}", f"`down`, {big} services"),
             ("chain", f"`up -d`, {links}-link `service_healthy` chain"),
             ("noop", f"second `up -d`, {big} running services"),
             ("empty", "`down` with nothing to take down (fixed cost)")]

    def med(case: str, col: str) -> float | None:
        return median_of(results, case, col)

    lines = Lines()
    emit = lines.emit
    emit("| case | floor | v2 | 1.29.2 | composer | composer/floor | v2/composer "
         "| 1.29.2/composer | library | library/floor |")
    emit("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for key, label in cases:
        f, v2, v1, c, lib = (med(key, col)
                             for col in ("floor", "v2", "1.29.2", "composer", "library"))
        emit(f"| {label} | {fmt_s(f)} | {fmt_s(v2)} | {fmt_s(v1)} | {fmt_s(c)} "
             f"| {ratio(c, f)} | {ratio(v2, c)} | {ratio(v1, c)} | {fmt_s(lib)} "
             f"| {ratio(lib, f)} |")
    mem = {col: statistics.median(v) for col, v in memory.items()}
    cells = [f"{mem[col] / 1024:.0f} MiB" if col in mem else "–"
             for col in ("v2", "1.29.2", "composer")]
    emit(f"| peak memory, `up -d` {big} | | {cells[0]} | {cells[1]} | {cells[2]} "
         "| | | | | |")
    emit("")
    done = max((len(v) for v in results.values()), default=0)
    emit(f"- Median of {done} run(s); ratios v2/composer and 1.29.2/composer above 1 mean "
         "composer is faster; composer/floor is composer's cost over the bare engine work.")
    emit("- library: composer's API called in-process after its imports (`load_project`, "
         "then `Compose.up`/`down`), i.e. the command without the interpreter's start-up.")
    emit(f"- Machine: {platform.machine()}, {os.cpu_count()} CPUs; "
         f"Docker Engine {client.version().get('Version', '?')}; "
         f"Python {platform.python_version()}.")
    for note in notes:
        emit(f"- {note}")
    if args.update_readme:
        update_readme(lines, load)
    return 1 if notes else 0


if __name__ == "__main__":
    sys.exit(main())
