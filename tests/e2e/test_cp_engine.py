"""``cp`` on a real engine, compared with Docker Compose v2 (whose ``cp`` is the docker
CLI's): out of a container nothing lands outside the destination, into one the
engine's refusals are one line with its reason.

What a container can really hold (links out, hard links, FIFOs, device nodes) is
made in a busybox container; what only a lying engine can send (``..`` names, a
member written through a link, a hard link out) comes from a proxy in front of
the engine (``tests/hostile_engine.py``) that answers ``cp`` with a built archive.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hostile_engine import HostileArchive, Member, hostile_engine

from .cleanup import engine_client, remove_project

pytestmark = pytest.mark.engine

IMAGE = "busybox:latest"
COMPOSE = """\
services:
  box:
    image: busybox:latest
    command: ["sleep", "300"]
    stop_signal: SIGKILL
    volumes:
      - type: volume
        source: data
        target: /ro
        read_only: true
  rofs:
    image: busybox:latest
    command: ["sleep", "300"]
    stop_signal: SIGKILL
    read_only: true
volumes:
  data: {}
"""

RunCli = Callable[..., Any]


@dataclass
class Project:
    name: str
    folder: Path
    composer: RunCli
    v2: RunCli

    def run(self, *args: str, env: dict[str, str] | None = None) -> Any:
        result = self.composer("-p", self.name, *args, cwd=self.folder, env=env)
        assert "Traceback" not in result.stderr, result.stderr
        return result

    def run_v2(self, *args: str, env: dict[str, str] | None = None) -> Any:
        return self.v2("-p", self.name, *args, cwd=self.folder, env=env)

    def sh(self, script: str) -> str:
        result = self.run("exec", "-T", "box", "sh", "-c", script)
        assert result.returncode == 0, result.stderr
        return str(result.stdout)


@pytest.fixture
def project(tmp_path: Path, run_composer: RunCli, run_v2: RunCli) -> Iterator[Project]:
    client = engine_client(IMAGE)
    name = f"cpx{uuid.uuid4().hex[:8]}"
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "compose.yaml").write_text(COMPOSE)
    proj = Project(name, folder, run_composer, run_v2)
    try:
        up = proj.run("up", "-d")
        assert up.returncode == 0, up.stderr
        yield proj
    finally:
        remove_project(client, name, volumes=[f"{name}_data"])


def errors(result: Any) -> list[str]:
    """stderr without the progress lines."""
    return [line for line in result.stderr.splitlines()
            if line.strip() and "Copying" not in line and "Copied" not in line]


def listing(folder: Path) -> list[str]:
    out = []
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            rel = str(path.relative_to(folder))
            out.append(f"{rel} -> {os.readlink(path)}" if path.is_symlink()
                       else rel + "/" if path.is_dir() else rel)
    return sorted(out)


def test_what_a_container_holds_comes_out_inside_the_destination(project: Project,
                                                                  tmp_path: Path) -> None:
    project.sh("mkdir -p /tmp/d/sub && echo a > /tmp/d/a && ln /tmp/d/a /tmp/d/hard && "
               "ln -s /etc/passwd /tmp/d/abs && ln -s ../../etc/hosts /tmp/d/climbs && "
               "mkfifo /tmp/d/fifo && mknod /tmp/d/null c 1 3")
    out = tmp_path / "out"
    out.mkdir()
    refused = project.run("cp", "box:/tmp/d", str(out / "copy"))
    assert refused.returncode == 1
    assert errors(refused) == ['composer: refusing archive member "d/null": device files are '
                               'not copied out of a container (copy to "-" for the raw '
                               'archive)']
    assert listing(out) == []

    project.sh("rm /tmp/d/null")
    done = project.run("cp", "box:/tmp/d", str(out / "copy"))
    assert done.returncode == 0, done.stderr
    assert listing(out) == ["copy/", "copy/a", "copy/abs -> /etc/passwd",
                            "copy/climbs -> ../../etc/hosts", "copy/fifo", "copy/hard",
                            "copy/sub/"]
    assert (out / "copy" / "hard").stat().st_ino == (out / "copy" / "a").stat().st_ino
    # The docker CLI (v2's cp) refuses a relative link that climbs out of the
    # destination (and keeps absolute ones); composer keeps both: a link is never
    # followed by cp.
    v2_out = tmp_path / "v2"
    v2_out.mkdir()
    v2 = project.run_v2("cp", "box:/tmp/d", str(v2_out / "copy"))
    assert v2.returncode == 1
    assert errors(v2) == [f'invalid symlink "{v2_out}/copy/climbs" -> "../../etc/hosts"']


def hostile(out: str) -> dict[str, list[Member]]:
    root = [Member("data", "dir"), Member("data/ok", data=b"ok\n")]
    return {
        "dot-dot": [*root, Member("../evil", data=b"PWNED")],
        "through-link": [*root, Member("data/l", "symlink", link=out),
                         Member("data/l/pwned", data=b"PWNED")],
        "hard-link-out": [*root, Member("data/hl", "hardlink", link="../outside/victim"),
                          Member("data/hl", data=b"PWNED")],
    }


COMPOSER_SAYS = {
    "dot-dot": 'composer: refusing archive member "../evil": it would be written outside '
               "{dest}/data",
    "through-link": 'composer: refusing archive member "data/l/pwned": it would be written '
                    'through the symbolic link "data/l"',
    "hard-link-out": 'composer: refusing archive member "data/hl": its hard link target '
                     '"../outside/victim" points outside {dest}/data',
}


@pytest.mark.parametrize("case", sorted(COMPOSER_SAYS))
def test_a_lying_engine_cannot_make_cp_write_outside(project: Project, tmp_path: Path,
                                                     case: str) -> None:
    results = {}
    with hostile_engine() as (host, server):
        for tool in ("composer", "v2"):
            place = tmp_path / tool
            (place / "dest").mkdir(parents=True)
            (place / "outside").mkdir()
            (place / "outside" / "victim").write_text("original")
            server.archive = HostileArchive(hostile(str(place / "outside"))[case])
            run = project.run if tool == "composer" else project.run_v2
            results[tool] = run("cp", "box:/data", str(place / "dest"),
                                env={"DOCKER_HOST": host})
            assert server.archive.requests, "the proxy was not asked"
    dest = tmp_path / "composer" / "dest"
    assert results["composer"].returncode == 1
    assert errors(results["composer"]) == [COMPOSER_SAYS[case].format(dest=dest)]
    assert listing(dest) == []
    assert listing(tmp_path / "composer" / "outside") == ["victim"]
    assert (tmp_path / "composer" / "outside" / "victim").read_text() == "original"
    # Docker Compose v2.40.3 (the docker CLI's extraction) on the same archives.
    v2, v2_place = results["v2"], tmp_path / "v2"
    if case == "through-link":
        # v2 follows the absolute link and writes beside the destination.
        assert v2.returncode == 0
        assert (v2_place / "outside" / "pwned").read_text() == "PWNED"
    else:
        assert v2.returncode == 1
        assert (v2_place / "outside" / "victim").read_text() == "original"
        word = '"../evil" is outside of' if case == "dot-dot" else "invalid hardlink"
        assert any(word in line for line in errors(v2)), v2.stderr


@pytest.mark.parametrize(("source", "target"), [
    ("f.txt", "rofs:/tmp/x"),          # read-only root filesystem
    ("f.txt", "box:/ro/x"),            # read-only volume
    ("f.txt", "box:/no/such/dir/x"),   # missing parent folder
    ("f.txt", "box:/etc/hosts/x"),     # the parent is a file
])
def test_copy_in_says_what_the_engine_refused_as_v2_does(project: Project, source: str,
                                                         target: str) -> None:
    (project.folder / "f.txt").write_text("x\n")
    ours = project.run("cp", source, target)
    theirs = project.run_v2("cp", source, target)
    assert (ours.returncode, theirs.returncode) == (1, 1)
    reason = errors(theirs)
    assert len(reason) == 1 and reason[0].startswith("Error response from daemon: ")
    assert errors(ours) == [f"composer: {reason[0]}"]


def test_a_local_write_that_fails_is_one_line_as_v2s(project: Project) -> None:
    # Even root cannot create a file at the top of sysfs: a local refusal.
    if not os.path.isdir("/sys/kernel"):
        pytest.skip("no sysfs here")
    target = f"/sys/composer-{project.name}"
    ours = project.run("cp", "box:/etc/hostname", target)
    theirs = project.run_v2("cp", "box:/etc/hostname", target)
    assert (ours.returncode, theirs.returncode) == (1, 1)
    assert errors(theirs) == [f"open {target}: permission denied"]
    assert errors(ours) == [f"composer: cannot write {target}: Permission denied"]
