"""What composer writes beside the user's own files is private and does not
outlive the command. The one temporary file it makes is a build's context tar
(``cp``'s archives and the secrets' files it copies in are kept in memory); the
project lock's state folder is tested with the lock."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

import pytest

from composer.backends.docker import build
from composer.backends.types import BuildRequest


@pytest.fixture
def temp_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def test_the_build_context_tar_has_no_name_and_only_its_owner_can_read_it(
        tmp_path: Path, temp_folder: Path) -> None:
    context = tmp_path / "ctx"
    context.mkdir()
    (context / "Dockerfile").write_text("FROM busybox\n")
    (context / ".env").write_text("PASSWORD=hunter2\n")
    archive, _ = build.make_context(BuildRequest(service="a", tag="t", context=str(context)))
    try:
        info = os.fstat(archive.fileno())
        assert info.st_nlink == 0  # nothing to find in the temp folder, even after a kill
        assert stat.S_IMODE(info.st_mode) & 0o077 == 0
        assert list(temp_folder.iterdir()) == []
    finally:
        archive.close()


def test_a_context_that_cannot_be_read_leaves_nothing_open(
        tmp_path: Path, temp_folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    context = tmp_path / "ctx"
    context.mkdir()
    (context / "Dockerfile").write_text("FROM busybox\n")
    opened: list[object] = []
    real = tempfile.TemporaryFile

    def tracked(*args: object, **kwargs: object) -> object:
        handle = real()
        opened.append(handle)
        return handle

    def broken(**kwargs: object) -> None:
        raise OSError("Can not read file in context")

    monkeypatch.setattr(tempfile, "TemporaryFile", tracked)
    monkeypatch.setattr("docker.utils.build.create_archive", broken)
    with pytest.raises(OSError):
        build.make_context(BuildRequest(service="a", tag="t", context=str(context)))
    assert [h.closed for h in opened] == [True]  # type: ignore[attr-defined]
    assert list(temp_folder.iterdir()) == []
