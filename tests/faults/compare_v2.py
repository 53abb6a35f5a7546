"""The fault suite's faults, tried on composer and on Docker Compose v2 side by side.

Not a test (v2's behaviour under some faults is not steady enough to assert):
a script that prints a Markdown table, one row per fault and tool: what the
command printed last (its error line), its exit, and what a plain rerun did.

    cd tests && python -m faults.compare_v2 [--only WORD]

Needs the shared engine with busybox:latest, root (tmpfs mounts, a private
dockerd for the engine faults) and the v2 binary of the dev extra. Each run uses
fresh projects and removes them.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

TESTS = Path(__file__).resolve().parents[1]
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

import docker  # noqa: E402
from conftest import find_v2_binary  # noqa: E402
from waiting import Streaming, wait_until  # noqa: E402

from faults.conftest import Proj, services_yaml  # noqa: E402
from faults.privateengine import PrivateEngine  # noqa: E402
from faults.test_dependency_faults import COMPLETES, DIES, FLAPS  # noqa: E402
from faults.test_interrupts import PROJECT, RECREATE  # noqa: E402
from faults.test_storage_faults import BIND  # noqa: E402

HANG = 60.0  # seconds a command may take to end after a fault before it counts as hung


def last_line(text: str) -> str:
    """The line a person reads last: the error if there is one."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("composer:") or "rror" in line]
    return (errors or lines or [""])[-1][:160]


def ended(stream: Streaming, timeout: float = HANG) -> str:
    try:
        code = stream.finish(timeout=timeout)
    except subprocess.TimeoutExpired:
        stream.kill()
        return "hung (killed after the guard)"
    return f"exit {code}: {last_line(stream.err)}"


def state(proj: Proj, services: list[str], volumes: tuple[str, ...] = ()) -> str:
    """``converged`` or what is off."""
    try:
        proj.assert_converged(services, volumes=list(volumes))
    except AssertionError:
        nets = [n["Name"] for n in proj.networks()]
        names = proj.names()
        odd = [n for n in names if n not in {f"{proj.name}-{s}-1" for s in services}]
        return (f"NOT converged: {len(names)} containers ({len(proj.names('running'))} "
                f"running){', odd: ' + ', '.join(odd) if odd else ''}, {len(nets)} network(s)")
    return "converged"


def rerun(proj: Proj, args: tuple[str, ...], services: list[str],
          volumes: tuple[str, ...] = ()) -> str:
    result = proj.run(*args)
    return f"exit {result.returncode}; {state(proj, services, volumes)}" + (
        f" ({last_line(result.stderr)})" if result.returncode else "")


SERVICES = [f"s{i:02d}" for i in range(20)]


# -- the faults: each returns (what the faulted command printed, what the rerun did)

def concurrent_ups(proj: Proj, _: Any) -> tuple[str, str]:
    proj.write(services_yaml(20))
    a, b = proj.start("up", "-d"), proj.start("up", "-d")
    out = f"{ended(a)} | {ended(b)}; {state(proj, SERVICES)}"
    return out, rerun(proj, ("up", "-d"), SERVICES)


def up_during_down(proj: Proj, _: Any) -> tuple[str, str]:
    proj.write(services_yaml(20))
    proj.run("up", "-d")
    down = proj.start("down")
    wait_until(lambda: len(proj.names()) < 20, what="down under way")
    up = proj.start("up", "-d")
    out = f"down {ended(down)} | up {ended(up)}; {state(proj, SERVICES)}"
    return out, rerun(proj, ("up", "-d"), SERVICES)


def signal_during_up(sig: signal.Signals) -> Callable[[Proj, Any], tuple[str, str]]:
    def fault(proj: Proj, _: Any) -> tuple[str, str]:
        proj.write(PROJECT)
        up = proj.start("up", "-d")
        wait_until(lambda: len(proj.names()) >= 6, what="a few containers")
        up.proc.send_signal(sig)
        return ended(up), rerun(proj, ("up", "-d"), SERVICES, ("data",))
    return fault


def signal_during_down(sig: signal.Signals) -> Callable[[Proj, Any], tuple[str, str]]:
    def fault(proj: Proj, _: Any) -> tuple[str, str]:
        proj.write(PROJECT)
        proj.run("up", "-d")
        down = proj.start("down")
        wait_until(lambda: len(proj.names()) <= 15, what="a few containers removed")
        down.proc.send_signal(sig)
        out = ended(down)
        again = proj.run("down")
        left = len(proj.names()) + len(proj.networks())
        return out, f"exit {again.returncode}; {'nothing left' if not left else f'{left} left'}"
    return fault


def signal_during_recreate(sig: signal.Signals) -> Callable[[Proj, Any], tuple[str, str]]:
    def fault(proj: Proj, _: Any) -> tuple[str, str]:
        (proj.folder / "gate").mkdir()
        proj.write(RECREATE.format(generation=1))
        proj.run("up", "-d")
        web = f"{proj.name}-web-1"
        proj.exec(web, "sh", "-c", "echo kept > /data/marker; echo anon > /anon/marker")
        proj.write(RECREATE.format(generation=2))
        up = proj.start("up", "-d")
        wait_until(lambda: len(proj.names()) == 2, what="the replacement created")
        up.proc.send_signal(sig)
        out = ended(up, timeout=20)
        (proj.folder / "gate" / "open").touch()
        left = ", ".join(n.replace(proj.name, "p") for n in proj.names())
        result = rerun(proj, ("up", "-d"), ["web"], ("data",))
        kept = "anonymous volume's data lost"
        with contextlib.suppress(Exception):
            (running,) = proj.names("running")  # under whatever name it ended
            if proj.exec(running, "cat", "/anon/marker") == "anon\n":
                kept = "anonymous volume's data kept"
        return f"{out}; left: {left}", f"{result}; {kept}"
    return fault


def engine_stopped_during_up(proj: Proj, engine: PrivateEngine) -> tuple[str, str]:
    proj.write(PROJECT)
    up = proj.start("up", "-d")
    wait_until(lambda: len(proj.names()) >= 6, what="a few containers")
    engine.stop()
    out = ended(up)
    engine.start()
    return out, rerun(proj, ("up", "-d"), SERVICES, ("data",))


def engine_stopped_during_logs(proj: Proj, engine: PrivateEngine) -> tuple[str, str]:
    proj.write(services_yaml(3, "    command: sh -c 'echo hello; exec sleep 3600'\n"
                                "    init: true\n"))
    proj.run("up", "-d")
    logs = proj.start("logs", "-f")
    logs.wait_for(lambda out, err: out.count("hello") == 3, what="the lines")
    engine.stop()
    out = ended(logs, timeout=20)
    engine.start()
    return out, rerun(proj, ("up", "-d"), SERVICES[:3])


def dies_during_wait(proj: Proj, _: Any) -> tuple[str, str]:
    (proj.folder / "gate").mkdir()
    proj.write(DIES)
    up = proj.start("up", "-d", "--wait")
    wait_until(lambda: proj.names("running") == [f"{proj.name}-web-1"], what="running")
    (proj.folder / "gate" / "die").touch()
    out = ended(up)
    (proj.folder / "gate" / "die").unlink()
    (proj.folder / "gate" / "healthy").touch()
    return out, rerun(proj, ("up", "-d", "--wait"), ["web"])


def flapping(proj: Proj, _: Any) -> tuple[str, str]:
    (proj.folder / "gate").mkdir()
    proj.write(FLAPS)
    healthy = proj.folder / "gate" / "healthy"
    healthy.touch()
    first = proj.run("up", "-d", "--wait")
    healthy.unlink()
    db = f"{proj.name}-db-1"

    def health() -> str:
        return str((proj.client.api.inspect_container(db)["State"].get("Health") or {})
                   .get("Status"))

    wait_until(lambda: health() == "unhealthy", what="unhealthy")
    second = proj.run("up", "-d", "--wait")
    healthy.touch()
    wait_until(lambda: health() == "healthy", what="healthy again")
    return (f"healthy: exit {first.returncode}; unhealthy: exit {second.returncode}: "
            f"{last_line(second.stderr)}", rerun(proj, ("up", "-d", "--wait"), ["app", "db"]))


def completes_non_zero(proj: Proj, _: Any) -> tuple[str, str]:
    (proj.folder / "gate").mkdir()
    proj.write(COMPLETES)
    result = proj.run("up", "-d")
    (proj.folder / "gate" / "ok").touch()
    again = proj.run("up", "-d")
    states = sorted(f"{c['Names'][0].lstrip('/').replace(proj.name, 'p')} {c['Status'][:10]}"
                    for c in proj.containers())
    return (f"exit {result.returncode}: {last_line(result.stderr)}",
            f"exit {again.returncode}; {', '.join(states)}")


def storage(kind: str) -> Callable[[Proj, Any], tuple[str, str]]:
    def fault(proj: Proj, _: Any) -> tuple[str, str]:
        points: list[Path] = []

        def tmpfs(name: str, options: str) -> Path:
            path = proj.folder / name
            path.mkdir()
            subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
                           check=True)
            points.append(path)
            return path

        try:
            if kind == "bind":
                tmpfs("ro", "ro,size=1m")
                tmpfs("full", "size=1m,nr_inodes=1")
                proj.write(BIND)
                result = proj.run("up", "-d")
                subprocess.run(["mount", "-o", "remount,rw", str(points[0])], check=True)
                subprocess.run(["mount", "-o", "remount,nr_inodes=100", str(points[1])],
                               check=True)
                return (f"exit {result.returncode}: {last_line(result.stderr)}",
                        rerun(proj, ("up", "-d"), ["a", "b"]))
            proj.write(services_yaml(1, "    command: sh -c 'head -c 2000000 /dev/zero > /big;"
                                        " exec sleep 3600'\n    init: true\n"))
            proj.run("up", "-d")
            wait_until(lambda: _exists(proj, f"{proj.name}-s00-1", "/big"), what="/big")
            target = tmpfs("dest", "size=1m" if kind == "full" else "ro,size=1m")
            result = proj.run("cp", "s00:/big", "dest/")
            subprocess.run(["umount", "-l", str(target)], check=True)
            points.remove(target)
            again = proj.run("cp", "s00:/big", "dest/")
            return (f"exit {result.returncode}: {last_line(result.stderr)}",
                    f"exit {again.returncode} once there is room")
        finally:
            for point in points:
                subprocess.run(["umount", "-l", str(point)], check=False)
    return fault


def _exists(proj: Proj, container: str, path: str) -> bool:
    with contextlib.suppress(Exception):
        result = proj.client.api.exec_create(container, ["test", "-s", path])
        proj.client.api.exec_start(result["Id"])
        return bool(proj.client.api.exec_inspect(result["Id"])["ExitCode"] == 0)
    return False


def long_stop_sigint(proj: Proj, _: Any) -> tuple[str, str]:
    (proj.folder / "gate").mkdir()
    proj.write(RECREATE.format(generation=1))
    proj.run("up", "-d")
    stop = proj.start("stop")
    stop.wait_for_text("Stopping", stream="err")
    stop.proc.send_signal(signal.SIGINT)
    out = ended(stop, timeout=20)
    (proj.folder / "gate" / "open").touch()
    again = proj.run("stop")
    return out, f"exit {again.returncode}; {len(proj.names('exited'))} exited"


FAULTS: list[tuple[str, Callable[[Proj, Any], tuple[str, str]], bool]] = [
    ("two up -d at once (20 services)", concurrent_ups, False),
    ("up -d during down", up_during_down, False),
    ("SIGINT during up -d (20 services)", signal_during_up(signal.SIGINT), False),
    ("SIGKILL during up -d (20 services)", signal_during_up(signal.SIGKILL), False),
    ("SIGINT during down", signal_during_down(signal.SIGINT), False),
    ("SIGKILL during down", signal_during_down(signal.SIGKILL), False),
    ("SIGINT during a recreate (old one stopping)", signal_during_recreate(signal.SIGINT),
     False),
    ("SIGKILL during a recreate (old one stopping)", signal_during_recreate(signal.SIGKILL),
     False),
    ("SIGINT during a long stop", long_stop_sigint, False),
    ("engine stopped during up -d", engine_stopped_during_up, True),
    ("engine stopped during logs -f", engine_stopped_during_logs, True),
    ("container dies during up --wait", dies_during_wait, False),
    ("healthcheck flaps", flapping, False),
    ("dependency exits 4 (service_completed_successfully)", completes_non_zero, False),
    ("cp out onto a full tmpfs", storage("full"), False),
    ("cp out into a read-only mount", storage("ro"), False),
    ("bind sources on read-only / inode-less tmpfs", storage("bind"), False),
]


@contextlib.contextmanager
def project(client: Any, command: list[str], env: dict[str, str]) -> Iterator[Proj]:
    with TemporaryDirectory() as folder:
        proj = Proj(f"cv{uuid.uuid4().hex[:8]}", Path(folder), client, env=env,
                    command=command)
        try:
            yield proj
        finally:
            proj.remove()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="run the faults whose name has this word")
    args = parser.parse_args()
    v2 = find_v2_binary()
    if v2 is None:
        sys.exit("no Docker Compose v2 binary found (make install)")
    tools = {"composer": [sys.executable, "-m", "composer"], "v2": [v2]}
    shared = docker.from_env(timeout=120)
    engine: PrivateEngine | None = None
    print("| fault | tool | what it printed (exit) | the rerun |")
    print("| --- | --- | --- | --- |")
    try:
        for name, fault, private in FAULTS:
            if args.only and args.only.lower() not in name.lower():
                continue
            if private and engine is None:
                engine = PrivateEngine()
                engine.start()
                engine.load_image(shared)
            for tool, command in tools.items():
                client = engine.client() if private and engine else shared
                env = {"DOCKER_HOST": engine.address} if private and engine else {}
                try:
                    with project(client, command, env) as proj:
                        printed, after = fault(proj, engine)
                except Exception as exc:  # a fault that went otherwise: say so, go on
                    printed, after = f"(the scenario failed: {exc!s:.120})", ""
                    if engine is not None and not engine.answers():
                        engine.start()
                cell = printed.replace("|", "\\|")
                print(f"| {name} | {tool} | {cell} | {after.replace('|', '/')} |", flush=True)
    finally:
        if engine is not None:
            engine.close()
    return 0


if __name__ == "__main__":
    os.environ.pop("DOCKER_HOST", None)
    raise SystemExit(main())
