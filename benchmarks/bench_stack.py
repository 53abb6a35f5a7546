"""Swarm stack benchmark: ``composer stack deploy`` against ``docker stack deploy``.

On the test swarm (``make swarm``: a manager and two workers, each a dockerd in
its own network namespace; ``--host`` names another manager), each case is timed
as wall-clock time of the command, the two tools taking turns within a run:

* deploy a 20-service stack and wait until it has converged (``--detach=false``:
  every task running);
* deploy the same unchanged file again, waiting (docker updates every service;
  composer leaves them alone);
* ``stack rm``.

Both tools run with their defaults otherwise (``--resolve-image always``: no
registry answers here, and both go on with the image as written). Cells are
medians of ``--runs`` runs. Every stack is named ``sbench...`` and removed at the
end, also on failure or Ctrl-C.

    python benchmarks/bench_stack.py [--runs 3] [--services 20]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench_engine import Lines, fmt_s, median_of, ratio, update_readme

REPO = Path(__file__).resolve().parents[1]
HOST = "unix:///run/composer-swarm/1/docker.sock"
TIMEOUT = 600.0


def stack_file(n: int) -> str:
    lines = ["services:"]
    for i in range(n):
        lines += [f"  s{i:02d}:", "    image: busybox:latest", "    command: sleep 3600",
                  "    init: true"]
    return "\n".join(lines) + "\n"


def composer() -> list[str]:
    beside = Path(sys.executable).with_name("composer")
    return [str(beside)] if beside.exists() else [sys.executable, "-m", "composer"]


def timed(cmd: list[str], cwd: Path, host: str) -> float:
    env = {**os.environ, "DOCKER_HOST": host}
    began = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, timeout=TIMEOUT)
    elapsed = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stderr.decode()}")
    return elapsed


def gone(stack: str, host: str) -> None:
    """Wait (untimed) until nothing of the stack is left on the swarm."""
    env = {**os.environ, "DOCKER_HOST": host}
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        left = [subprocess.run(["docker", kind, "ls", "-q", "--filter",
                                f"label=com.docker.stack.namespace={stack}"],
                               env=env, capture_output=True).stdout.strip()
                for kind in ("service", "network")]
        if not any(left):
            return
        subprocess.run(["docker", "stack", "rm", stack], env=env, capture_output=True)
        time.sleep(0.5)
    raise SystemExit(f"stack {stack} was not removed")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--services", type=int, default=20)
    parser.add_argument("--host", default=os.environ.get("COMPOSER_SWARM_HOST", HOST))
    parser.add_argument("--no-readme", action="store_true")
    args = parser.parse_args(argv)
    tools = {"docker stack": ["docker", "stack"], "composer": [*composer(), "stack"]}
    cases = ("deploy", "redeploy", "rm")
    results: dict[tuple[str, str], list[float]] = {}
    load = [os.getloadavg()[0]]
    stacks: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "compose.yaml").write_text(stack_file(args.services))
        try:
            for run in range(args.runs):
                order = list(tools) if run % 2 == 0 else list(reversed(tools))
                for tool in order:
                    stack = f"sbench{uuid.uuid4().hex[:6]}"
                    stacks.append(stack)
                    deploy = [*tools[tool], "deploy", "--detach=false", "-c", "compose.yaml",
                              stack]
                    for case, cmd in (("deploy", deploy), ("redeploy", deploy),
                                      ("rm", [*tools[tool], "rm", stack])):
                        results.setdefault((case, tool), []).append(
                            timed(cmd, folder, args.host))
                    gone(stack, args.host)
                    print(f"run {run + 1} {tool}: " + ", ".join(
                        fmt_s(results[(c, tool)][-1]) for c in cases), file=sys.stderr)
        finally:
            for stack in stacks:
                gone(stack, args.host)
    load.append(os.getloadavg()[0])
    lines = Lines()
    lines.emit(f"| case ({args.services} services, swarm of "
               f"{_nodes(args.host)} nodes) | docker stack | composer | docker/composer |")
    lines.emit("| --- | ---: | ---: | ---: |")
    words = {"deploy": "deploy and converge (`--detach=false`)",
             "redeploy": "redeploy, unchanged file (`--detach=false`)", "rm": "`stack rm`"}
    for case in cases:
        theirs, ours = median_of(results, case, "docker stack"), median_of(results, case,
                                                                           "composer")
        lines.emit(f"| {words[case]} | {fmt_s(theirs)} | {fmt_s(ours)} | "
                   f"{ratio(theirs, ours)} |")
    lines.emit("")
    lines.emit(f"Medians of {args.runs} runs; docker CLI "
               f"{_docker_version()}, engine {_engine_version(args.host)}.")
    if not args.no_readme:
        update_readme(lines, load, marker="stack", heading="Swarm stacks")
    return 0


def _docker_version() -> str:
    return subprocess.run(["docker", "version", "--format", "{{.Client.Version}}"],
                          capture_output=True, text=True,
                          env={**os.environ, "DOCKER_HOST": HOST}).stdout.strip()


def _engine_version(host: str) -> str:
    return subprocess.run(["docker", "version", "--format", "{{.Server.Version}}"],
                          capture_output=True, text=True,
                          env={**os.environ, "DOCKER_HOST": host}).stdout.strip()


def _nodes(host: str) -> int:
    out = subprocess.run(["docker", "node", "ls", "-q"], capture_output=True, text=True,
                         env={**os.environ, "DOCKER_HOST": host}).stdout
    return len(out.split())


if __name__ == "__main__":
    sys.exit(main())
