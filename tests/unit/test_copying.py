"""``cp`` out of a container never writes outside the destination, whatever the
engine's archive holds; ``cp`` into one says what the engine refused.

An engine that lies is an in-memory one whose ``get_archive`` answers with the
archive the test built (``..`` names, absolute names, links out, a member
written through a link, hard links out, device files). Each case checks what
was written in the destination and that nothing beside it changed.
"""

from __future__ import annotations

import errno
import io
import os
import stat
import tarfile
from collections.abc import Sequence
from pathlib import Path

import pytest
from hostile_engine import HostileArchive, Member

from composer.backends.memory import MemoryBackend
from composer.backends.types import MODE_DIR, PathStat
from composer.errors import ComposerError, EngineError
from composer.runtime import copying

pytestmark = pytest.mark.anyio


class LyingEngine(MemoryBackend):
    """Answers every ``cp`` out with the archive it was given."""

    def __init__(self, archive: bytes, *, root_is_dir: bool = True) -> None:
        super().__init__()
        self.archive = archive
        self.root_is_dir = root_is_dir
        self.asked: list[str] = []

    async def stat_path(self, container: str, path: str) -> PathStat | None:
        mode = MODE_DIR | 0o755 if self.root_is_dir else 0o644
        return PathStat(name=os.path.basename(path) or "/", mode=mode)

    async def get_archive(self, container: str, path: str) -> bytes:
        self.asked.append(path)
        return self.archive


def tar_of(members: Sequence[Member]) -> bytes:
    return HostileArchive(members).tar()


def listing(folder: Path) -> list[str]:
    """Every path under ``folder``: ``name`` (file), ``name/`` (folder), ``name -> x``."""
    out = []
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            rel = str(path.relative_to(folder))
            if path.is_symlink():
                out.append(f"{rel} -> {os.readlink(path)}")
            elif path.is_dir():
                out.append(rel + "/")
            else:
                out.append(rel)
    return sorted(out)


@pytest.fixture
def place(tmp_path: Path) -> Path:
    """``tmp_path`` with ``dest/`` (empty) and ``outside/victim`` beside it."""
    (tmp_path / "dest").mkdir()
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "victim").write_text("original")
    return tmp_path


def untouched_outside(place: Path) -> None:
    assert sorted(p.name for p in place.iterdir()) == ["dest", "outside"]
    assert listing(place / "outside") == ["victim"]
    assert (place / "outside" / "victim").read_text() == "original"


ROOT = [Member("data", "dir"), Member("data/ok", data=b"ok\n")]


def hostile_cases(out: str) -> list[tuple[str, list[Member], str]]:
    """(case, members, the refusal's words): ``out`` is the outside folder."""
    return [
        ("dot-dot", [*ROOT, Member("../evil", data=b"PWNED")],
         'refusing archive member "../evil": it would be written outside '),
        ("dot-dot inside a name", [*ROOT, Member("data/../../evil", data=b"PWNED")],
         'refusing archive member "data/../../evil": it would be written outside '),
        ("absolute name outside the copied path", [*ROOT, Member("/abs-evil", data=b"PWNED")],
         'refusing archive member "/abs-evil": it is not under "data", the path copied'),
        ("a sibling of the copied path", [*ROOT, Member("other", data=b"PWNED")],
         'refusing archive member "other": it is not under "data", the path copied'),
        ("written through an absolute link",
         [*ROOT, Member("data/l", "symlink", link=out), Member("data/l/pwned", data=b"PWNED")],
         'refusing archive member "data/l/pwned": it would be written through the symbolic '
         'link "data/l"'),
        ("written through a relative link",
         [*ROOT, Member("data/l", "symlink", link="../../outside"),
          Member("data/l/pwned", data=b"PWNED")],
         'refusing archive member "data/l/pwned": it would be written through the symbolic '
         'link "data/l"'),
        ("written under a file", [*ROOT, Member("data/ok/x", data=b"PWNED")],
         'refusing archive member "data/ok/x": it would be written through the non-directory '
         '"data/ok"'),
        ("hard link climbing out",
         [*ROOT, Member("data/hl", "hardlink", link="../outside/victim"),
          Member("data/hl", data=b"PWNED")],
         'refusing archive member "data/hl": its hard link target "../outside/victim" points '
         "outside "),
        ("hard link to an absolute path",
         [*ROOT, Member("data/hl", "hardlink", link=f"{out}/victim"),
          Member("data/hl", data=b"PWNED")],
         'refusing archive member "data/hl": its hard link target '),
        ("hard link to a link out",
         [*ROOT, Member("data/l", "symlink", link=f"{out}/victim"),
          Member("data/hl", "hardlink", link="data/l"), Member("data/hl", data=b"PWNED")],
         'refusing archive member "data/hl": its hard link target "data/l" is not a file '
         "copied before it"),
        ("character device", [*ROOT, Member("data/null", "chardev")],
         'refusing archive member "data/null": device files are not copied out of a '
         'container (copy to "-" for the raw archive)'),
        ("block device", [*ROOT, Member("data/sda", "blockdev")],
         'refusing archive member "data/sda": device files are not copied out'),
        ("a folder over a file", [*ROOT, Member("data/ok", "dir")],
         'refusing archive member "data/ok": a directory and a non-directory of the same '
         "name"),
    ]


@pytest.mark.parametrize("case", [c[0] for c in hostile_cases("/x")])
async def test_a_hostile_archive_is_refused_before_anything_is_written(
        place: Path, case: str) -> None:
    _, members, words = next(c for c in hostile_cases(str(place / "outside")) if c[0] == case)
    engine = LyingEngine(tar_of(members))
    with pytest.raises(EngineError) as caught:
        await copying.from_container(engine, "c", "/data", str(place / "dest"))
    message = str(caught.value)
    assert message.startswith(words), message
    assert "\n" not in message
    assert listing(place / "dest") == []
    untouched_outside(place)


async def test_what_the_docker_cli_accepts_is_written_inside(place: Path) -> None:
    out = str(place / "outside")
    engine = LyingEngine(tar_of([
        *ROOT,
        Member("/data/abs-name", data=b"a"),  # absolute names read as relative
        Member("data/abs-link", "symlink", link=f"{out}/victim"),
        Member("data/climbing-link", "symlink", link="../../outside/victim"),
        Member("data/fifo", "fifo"),
        Member("data/hard", "hardlink", link="data/ok"),
        Member("data/replaced", "symlink", link=f"{out}/victim"),
        Member("data/replaced", data=b"new"),  # replaces the link, never through it
        Member("data/suid", data=b"#!/bin/sh\n", mode=0o4755),
        Member("data/shared", data=b"s", mode=0o666),
    ]))
    await copying.from_container(engine, "c", "/data", str(place / "dest"))
    dest = place / "dest" / "data"
    assert listing(place / "dest") == [
        "data/", "data/abs-link -> " + f"{out}/victim", "data/abs-name",
        "data/climbing-link -> ../../outside/victim", "data/fifo", "data/hard", "data/ok",
        "data/replaced", "data/shared", "data/suid"]
    assert stat.S_ISFIFO((dest / "fifo").lstat().st_mode)
    assert (dest / "hard").stat().st_ino == (dest / "ok").stat().st_ino
    assert (dest / "replaced").read_text() == "new"
    assert stat.S_IMODE((dest / "suid").stat().st_mode) == 0o755  # setuid dropped
    assert stat.S_IMODE((dest / "shared").stat().st_mode) == 0o666  # as the docker CLI
    untouched_outside(place)


async def test_a_link_already_on_disk_is_not_followed_out(place: Path) -> None:
    (place / "dest" / "data").mkdir()
    (place / "dest" / "data" / "sub").symlink_to(place / "outside")
    engine = LyingEngine(tar_of([*ROOT, Member("data/sub/pwned", data=b"PWNED")]))
    with pytest.raises(EngineError, match=r'refusing archive member "data/sub/pwned": '
                                          r".*/dest/data/sub leads outside .*/dest/data "
                                          "through a symbolic link"):
        await copying.from_container(engine, "c", "/data", str(place / "dest"))
    untouched_outside(place)


async def test_a_hard_link_already_on_disk_is_replaced_not_written_through(
        place: Path) -> None:
    (place / "dest" / "data").mkdir()
    os.link(place / "outside" / "victim", place / "dest" / "data" / "ok")
    engine = LyingEngine(tar_of(ROOT))
    await copying.from_container(engine, "c", "/data", str(place / "dest"))
    assert (place / "dest" / "data" / "ok").read_text() == "ok\n"
    assert (place / "outside" / "victim").read_text() == "original"


async def test_the_destination_named_by_a_link_is_replaced_for_a_file(place: Path) -> None:
    (place / "dest" / "h").symlink_to(place / "outside" / "victim")
    engine = LyingEngine(tar_of([Member("hosts", data=b"127.0.0.1 localhost\n")]),
                         root_is_dir=False)
    await copying.from_container(engine, "c", "/etc/hosts", str(place / "dest" / "h"))
    assert not (place / "dest" / "h").is_symlink()
    assert (place / "dest" / "h").read_text() == "127.0.0.1 localhost\n"
    untouched_outside(place)


async def test_a_folder_is_not_copied_over_a_file_or_a_link(place: Path) -> None:
    (place / "dest" / "data").symlink_to(place / "outside")
    engine = LyingEngine(tar_of(ROOT))
    with pytest.raises(EngineError, match='cannot overwrite non-directory ".*/dest/data" '
                                          "with a directory"):
        await copying.from_container(engine, "c", "/data", str(place / "dest"))
    untouched_outside(place)


async def test_a_name_chosen_by_the_container_cannot_drive_the_terminal(place: Path) -> None:
    engine = LyingEngine(tar_of([*ROOT, Member("\x1b[2J\x1b]0;owned\x07", data=b"")]))
    with pytest.raises(EngineError) as caught:
        await copying.from_container(engine, "c", "/data", str(place / "dest"))
    assert "\x1b" not in str(caught.value) and "\x07" not in str(caught.value)
    assert '"\\u001b[2J\\u001b]0;owned\\u0007"' in str(caught.value)


async def test_a_broken_archive_is_one_line(place: Path) -> None:
    engine = LyingEngine(b"this is not a tar archive" * 40)
    with pytest.raises(EngineError, match="the engine sent an archive that cannot be read"):
        await copying.from_container(engine, "c", "/data", str(place / "dest"))


async def test_a_failed_local_write_names_the_file(place: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    def full(self: tarfile.TarFile, tarinfo: tarfile.TarInfo, targetpath: str) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), targetpath)

    monkeypatch.setattr(tarfile.TarFile, "makefile", full)
    engine = LyingEngine(tar_of(ROOT))
    with pytest.raises(ComposerError) as caught:
        await copying.from_container(engine, "c", "/data", str(place / "dest"))
    assert str(caught.value) == (f"cannot write {place}/dest/data/ok: "
                                 "No space left on device")


async def test_the_raw_stream_is_the_engines_archive_untouched(place: Path) -> None:
    data = tar_of([*ROOT, Member("../evil", data=b"PWNED")])
    engine = LyingEngine(data)
    chunks: list[bytes] = []
    await copying.from_container(engine, "c", "/data", "-", write=chunks.append)
    assert b"".join(chunks) == data
    untouched_outside(place)


# -- what the engine sends for ordinary paths ----------------------------------------------


def engine_tar(names: Sequence[tuple[str, str, str]]) -> bytes:
    """An archive as the engine builds it: (name, kind, hard link target)."""
    return tar_of([Member(n, k, data=b"x" if k == "file" else b"", link=t) for n, k, t in names])


async def test_a_folders_hard_links_follow_its_new_name(place: Path) -> None:
    # The engine names a hard link's target by its path in the archive ("d/a"); a
    # copy under another name must rename the target too.
    engine = LyingEngine(engine_tar([("d", "dir", ""), ("d/a", "file", ""),
                                     ("d/hard", "hardlink", "d/a")]))
    await copying.from_container(engine, "c", "/tmp/d", str(place / "dest" / "copy"))
    copy = place / "dest" / "copy"
    assert listing(place / "dest") == ["copy/", "copy/a", "copy/hard"]
    assert (copy / "hard").stat().st_ino == (copy / "a").stat().st_ino


@pytest.mark.parametrize("dest_exists", [True, False])
async def test_dir_dot_copies_the_folders_content(place: Path, dest_exists: bool) -> None:
    engine = LyingEngine(engine_tar([(".", "dir", ""), ("./a", "file", ""),
                                     ("./hard", "hardlink", "./a")]))
    target = place / "dest" / "content"
    if dest_exists:
        target.mkdir(mode=0o700)
    await copying.from_container(engine, "c", "/tmp/d/.", str(target))
    assert listing(target) == ["a", "hard"]
    assert engine.asked == ["/tmp/d/."]
    if dest_exists:  # the folder named is left as it was
        assert stat.S_IMODE(target.stat().st_mode) == 0o700


async def test_the_root_folder_comes_with_absolute_names(place: Path) -> None:
    engine = LyingEngine(engine_tar([("", "dir", ""), ("/etc", "dir", ""),
                                     ("/etc/hostname", "file", "")]))
    await copying.from_container(engine, "c", "/", str(place / "dest" / "root"))
    assert listing(place / "dest") == ["root/", "root/etc/", "root/etc/hostname"]


async def test_follow_link_copies_the_target_under_the_links_name(place: Path) -> None:
    class Link(LyingEngine):
        async def stat_path(self, container: str, path: str) -> PathStat | None:
            return PathStat(name="current", mode=(1 << 27) | 0o777, link_target="v2")

    engine = Link(engine_tar([("v2", "dir", ""), ("v2/f", "file", "")]))
    await copying.from_container(engine, "c", "/srv/current", str(place / "dest"),
                                 follow_link=True)
    assert engine.asked == ["/srv/v2"]
    assert listing(place / "dest") == ["current/", "current/f"]


def test_archive_root_is_named_as_the_engine_names_it() -> None:
    assert copying.archive_root("/etc/hosts") == "hosts"
    assert copying.archive_root("/tmp/d/") == "d"
    assert copying.archive_root("/tmp/d/.") == "."
    assert copying.archive_root("/") == "."
    assert copying.archive_root("relative/x") == "x"


# -- into a container -----------------------------------------------------------------------


async def test_copy_in_takes_an_unstatable_path_as_absent_and_reports_the_engine(
        tmp_path: Path) -> None:
    class Refusing(MemoryBackend):
        async def stat_path(self, container: str, path: str) -> PathStat | None:
            raise EngineError("Error response from daemon: 500 Server Error")

        async def put_archive(self, container: str, path: str, data: bytes, *,
                              copy_uid_gid: bool = False) -> None:
            raise EngineError("Error response from daemon: extraction point is not a "
                              "directory")

    (tmp_path / "f").write_text("x")
    with pytest.raises(EngineError, match="^Error response from daemon: extraction point is "
                                          "not a directory$"):
        await copying.to_container(Refusing(), "c", str(tmp_path / "f"), "/etc/hosts/x")


async def test_copy_in_refuses_a_folder_onto_a_file_and_a_missing_folder(
        tmp_path: Path) -> None:
    engine = MemoryBackend()
    cid = await engine.create_container("p-files-1", {"Image": "busybox", "Labels": {}})
    (tmp_path / "dir").mkdir()
    with pytest.raises(EngineError, match="^cannot copy the directory .*/dir onto the file "
                                          "/etc/hostname in the container$"):
        await copying.to_container(engine, cid, str(tmp_path / "dir"), "/etc/hostname")
    (tmp_path / "f").write_text("x")
    with pytest.raises(EngineError, match='^no such directory: "/nodir/" must exist in the '
                                          "container$"):
        await copying.to_container(engine, cid, str(tmp_path / "f"), "/nodir/")


async def test_copy_in_names_a_local_file_it_cannot_read(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    (tmp_path / "f").write_text("x")

    def unreadable(*args: object, **kwargs: object) -> None:
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(tmp_path / "f"))

    monkeypatch.setattr(tarfile.TarFile, "add", unreadable)
    engine = MemoryBackend()
    cid = await engine.create_container("p-files-1", {"Image": "busybox", "Labels": {}})
    with pytest.raises(ComposerError, match=f"^cannot read {tmp_path}/f: Permission denied$"):
        await copying.to_container(engine, cid, str(tmp_path / "f"), "/tmp/f")


def test_hostile_archive_helper_builds_what_it_says() -> None:
    data = tar_of([Member("a", "dir"), Member("a/l", "symlink", link="/x"),
                   Member("a/d", "chardev")])
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        kinds = [(m.name, m.issym(), m.ischr()) for m in tar]
    assert kinds == [("a", False, False), ("a/l", True, False), ("a/d", False, True)]
