"""Peak memory of ``logs -f`` when the reader is slower than the containers.

Twenty busybox services each run ``yes <a long line>`` (as fast as they can; the
json-file log driver rotates at a few MB so the engine's disk use stays bounded).
For each tool, ``<tool> logs -f --no-color`` is piped into a slow reader (a
process that reads 16 KiB, then sleeps 15 ms: about 1 MiB/s, a slow terminal);
once the reader has read a fixed amount (``--read-mib``), the tool's peak
resident memory (``VmHWM`` in ``/proc/<pid>/status``) is read, then the reader
and the tool are stopped. The tools, one after the other in one run, on the same
running project:

* composer **before** the bounded log channel (the tree of ``--before``, a
  commit of this repository, extracted with ``git archive`` into a temporary
  folder and run with ``python -m composer`` from there);
* composer **after** (this checkout);
* Docker Compose v2 (``$COMPOSE_V2``, default the Go binary in the venv's
  ``compose`` package).

Each amount of ``--read-mib`` (default 8 and 32 MiB) is a round of all the
tools: an unbounded queue shows as a peak that grows with the amount (the longer
the reader lags, the more is queued), a bounded one as the same peak for both.
Prints a markdown table: MiB and lines read, the seconds it took, the tool's
peak resident memory and its resident memory at that moment::

    python benchmarks/bench_logs_memory.py [--services 20] [--read-mib 8,32]
        [--line-bytes 200] [--before COMMIT] [--tools before,after,v2]

Needs a Docker Engine with busybox:latest. The machine is shared: the producers
keep the engine busy (dockerd's log copying takes a core or so) for the few
seconds each tool is measured; the whole run takes about three minutes.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid
from io import BytesIO
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PY = sys.executable
V2_DEFAULT = next(iter(sorted(REPO.glob(".venv/lib/python3*/site-packages/compose/"
                                        "docker-compose"))), Path("/nonexistent"))
# The last commit with the unbounded channel between log readers and the writer
# (composer/runtime/logs.py: ``max_buffer_size=math.inf`` and ``send_nowait``).
BEFORE_DEFAULT = "9e3b129"

# The slow reader: reads ``chunk`` bytes, sleeps ``pause`` seconds, until ``limit``
# bytes are read; then says so on stdout and stops reading (keeping the pipe open,
# so the writer blocks rather than failing) until it is killed.
READER = r"""
import os, sys, time
limit, chunk, pause = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
got = lines = 0
start = None
while got < limit:
    data = os.read(0, chunk)
    if not data:
        break
    if start is None:
        start = time.monotonic()
    got += len(data)
    lines += data.count(b"\n")
    time.sleep(pause)
took = time.monotonic() - start if start is not None else 0.0
sys.stdout.write(f"{got} {lines} {took:.2f}\n")
sys.stdout.flush()
time.sleep(3600)
"""


def compose_file(services: int, line_bytes: int) -> str:
    line = "x" * line_bytes
    body = "".join(
        f"  s{i}:\n"
        f"    image: busybox:latest\n"
        f"    command: [\"yes\", \"{i:02d}{line}\"]\n"
        f"    logging: *logging\n"
        for i in range(services))
    return ("x-logging: &logging\n"
            "  driver: json-file\n"
            "  options: {max-size: \"4m\", max-file: \"2\"}\n"
            "services:\n" + body)


def status_kib(pid: int) -> tuple[int, int]:
    """(VmHWM, VmRSS) of a live process, in KiB."""
    fields: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmHWM", "VmRSS"):
            fields[key] = int(value.split()[0])
    return fields["VmHWM"], fields["VmRSS"]


def measure(command: list[str], env: dict[str, str], folder: Path, read_bytes: int,
            chunk: int, pause: float) -> tuple[int, int, int, int, float]:
    """(peak KiB, current KiB, bytes read, lines read, seconds) of ``command``
    piped into the slow reader."""
    tool = subprocess.Popen(command, cwd=folder, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    assert tool.stdout is not None
    reader = subprocess.Popen([PY, "-c", READER, str(read_bytes), str(chunk), str(pause)],
                              stdin=tool.stdout, stdout=subprocess.PIPE)
    tool.stdout.close()  # the reader holds the pipe's read end now
    assert reader.stdout is not None
    try:
        answer = reader.stdout.readline().split()
        if len(answer) != 3:
            raise RuntimeError(f"the reader read nothing from {command[-4:]}")
        peak, current = status_kib(tool.pid)
        got, lines, took = int(answer[0]), int(answer[1]), float(answer[2])
        return peak, current, got, lines, took
    finally:
        reader.kill()
        reader.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(tool.pid, signal.SIGINT)
        try:
            tool.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(tool.pid, signal.SIGKILL)
            tool.wait()


def extract(commit: str, into: Path) -> None:
    """``composer/`` as of ``commit``, written under ``into``."""
    archive = subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", commit,
                              "composer"], check=True, stdout=subprocess.PIPE).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--services", type=int, default=20)
    parser.add_argument("--read-mib", default="8,32",
                        help="how much the reader reads, MiB; several: a run each")
    parser.add_argument("--line-bytes", type=int, default=200)
    parser.add_argument("--chunk-kib", type=int, default=16)
    parser.add_argument("--pause", type=float, default=0.015,
                        help="the reader's sleep after each chunk (seconds)")
    parser.add_argument("--before", default=BEFORE_DEFAULT,
                        help="the commit measured as 'before' (default %(default)s)")
    parser.add_argument("--tools", default="before,after,v2")
    args = parser.parse_args()
    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    amounts = [float(a) for a in args.read_mib.split(",")]
    load_start = os.getloadavg()[0]
    env = dict(os.environ)
    rows: list[list[str]] = []
    with tempfile.TemporaryDirectory(prefix="bench-logmem-") as tmp:
        folder = Path(tmp) / "project"
        folder.mkdir()
        (folder / "compose.yaml").write_text(compose_file(args.services, args.line_bytes))
        old_tree = Path(tmp) / "before"
        commands: dict[str, tuple[list[str], dict[str, str]]] = {}
        if "before" in tools:
            extract(args.before, old_tree)
            old_env = {**env, "PYTHONPATH": str(old_tree)}
            where = subprocess.run([PY, "-c", "import composer; print(composer.__file__)"],
                                   env=old_env, cwd=tmp, check=True, capture_output=True,
                                   text=True).stdout.strip()
            if not where.startswith(str(old_tree)):
                raise RuntimeError(f"'before' imports {where}, not the extracted tree")
            commands["before"] = ([PY, "-m", "composer"], old_env)
        if "after" in tools:
            commands["after"] = ([PY, "-m", "composer"], env)
        if "v2" in tools:
            v2 = os.environ.get("COMPOSE_V2", str(V2_DEFAULT))
            if Path(v2).exists():
                commands["v2"] = ([v2], env)
            else:
                rows.append([f"v2 (not installed: {v2})", "", "", "", "", ""])
        project = f"benchlogmem{uuid.uuid4().hex[:8]}"
        up = [PY, "-m", "composer", "-p", project]
        subprocess.run([*up, "up", "-d", "--quiet-pull"], cwd=folder, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            time.sleep(2)  # let the containers' logs fill past what the reader takes
            labels = {"before": f"composer before ({args.before})",
                      "after": "composer after", "v2": "Docker Compose v2"}
            for amount in amounts:
                for name in tools:
                    if name not in commands:
                        continue
                    command, tool_env = commands[name]
                    peak, current, got, lines, took = measure(
                        [*command, "-p", project, "logs", "-f", "--no-color"], tool_env,
                        folder, int(amount * (1 << 20)), args.chunk_kib << 10, args.pause)
                    rows.append([labels[name], f"{got / (1 << 20):,.1f}", f"{lines:,}",
                                 f"{took:.1f}", f"{peak / 1024:,.0f}",
                                 f"{current / 1024:,.0f}"])
                    print(f"  {rows[-1]}", file=sys.stderr, flush=True)
        finally:
            subprocess.run([*up, "down", "-t", "0"], cwd=folder, check=False,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    print(f"{args.services} services x `yes` ({args.line_bytes}-byte lines), `logs -f "
          f"--no-color` piped into a reader taking {args.chunk_kib} KiB every "
          f"{args.pause * 1000:g} ms, until it has read "
          f"{' or '.join(f'{a:g}' for a in amounts)} MiB; one-minute load average "
          f"{load_start:.1f} at the start, {os.getloadavg()[0]:.1f} at the end\n")
    print("| tool | MiB read | lines read | seconds | peak RSS (MiB) | RSS then (MiB) |")
    print("|---|---:|---:|---:|---:|---:|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
