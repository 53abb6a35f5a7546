"""A container's filesystem for :class:`~composer.backends.memory.MemoryBackend`.

Folders, files and symbolic links kept in a dict by absolute path, enough for
``cp``: a path's stat (with Go's ``os.FileMode`` bits, as the Engine API
reports them), a path as a tar archive whose root is named after it, and a tar
archive extracted into a folder.
"""

from __future__ import annotations

import io
import posixpath
import tarfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from composer.backends.types import MODE_DIR, MODE_SYMLINK, PathStat
from composer.errors import EngineError, NotFoundError

__all__ = ["FileTree"]


@dataclass
class _Entry:
    kind: str  # dir | file | link
    data: bytes = b""
    mode: int = 0o644
    link: str = ""
    uid: int = 0
    gid: int = 0
    mtime: float = field(default_factory=time.time)


def _norm(path: str) -> str:
    return posixpath.normpath("/" + path.lstrip("/")) if path else "/"


class FileTree:
    """One container's files. Paths are absolute; missing parents are not created
    implicitly, as in a real filesystem."""

    def __init__(self) -> None:
        self.entries: dict[str, _Entry] = {"/": _Entry("dir", mode=0o755)}
        for folder in ("/etc", "/tmp"):
            self.entries[folder] = _Entry("dir", mode=0o755)

    # -- direct use (tests, scripts)

    def write(self, path: str, data: bytes, *, mode: int = 0o644) -> None:
        """Create or replace a file, creating its folders."""
        path = _norm(path)
        self.mkdir(posixpath.dirname(path))
        self.entries[path] = _Entry("file", data=data, mode=mode)

    def mkdir(self, path: str) -> None:
        """Create a folder and its parents (``mkdir -p``)."""
        path = _norm(path)
        parts = [p for p in path.split("/") if p]
        current = ""
        for part in parts:
            current += "/" + part
            entry = self.entries.get(current)
            if entry is None:
                self.entries[current] = _Entry("dir", mode=0o755)
            elif entry.kind != "dir":
                raise EngineError(f"Error response from daemon: {current}: not a directory")

    def symlink(self, path: str, target: str) -> None:
        path = _norm(path)
        self.mkdir(posixpath.dirname(path))
        self.entries[path] = _Entry("link", link=target, mode=0o777)

    def read(self, path: str) -> bytes:
        entry = self.entries.get(_norm(path))
        if entry is None or entry.kind != "file":
            raise NotFoundError(f"no such file: {path}")
        return entry.data

    # -- the Engine API's archive calls

    def stat(self, path: str) -> PathStat | None:
        path = _norm(path)
        entry = self.entries.get(path)
        if entry is None:
            return None
        mode = entry.mode & 0o777
        if entry.kind == "dir":
            mode |= MODE_DIR
        elif entry.kind == "link":
            mode |= MODE_SYMLINK
        stamp = datetime.fromtimestamp(entry.mtime, UTC).isoformat().replace("+00:00", "Z")
        return PathStat(name=posixpath.basename(path) or "/", size=len(entry.data),
                        mode=mode, mtime=stamp, link_target=entry.link)

    def _children(self, path: str) -> list[str]:
        prefix = path.rstrip("/") + "/"
        return sorted(p for p in self.entries if p.startswith(prefix) and p != path)

    def archive(self, path: str, container: str) -> bytes:
        """``path`` (and what is under it) as a tar, its root named after ``path``."""
        path = _norm(path)
        if path not in self.entries:
            raise NotFoundError(f"Error response from daemon: Could not find the file {path} "
                                f"in container {container}")
        root = posixpath.basename(path) or "."
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            for member in [path, *self._children(path)]:
                entry = self.entries[member]
                name = root + member[len(path):] if path != "/" else "." + member
                info = tarfile.TarInfo(name.rstrip("/") or root)
                info.mode, info.uid, info.gid = entry.mode & 0o7777, entry.uid, entry.gid
                info.mtime = int(entry.mtime)
                if entry.kind == "dir":
                    info.type = tarfile.DIRTYPE
                    tar.addfile(info)
                elif entry.kind == "link":
                    info.type, info.linkname = tarfile.SYMTYPE, entry.link
                    tar.addfile(info)
                else:
                    info.size = len(entry.data)
                    tar.addfile(info, io.BytesIO(entry.data))
        return buffer.getvalue()

    def extract(self, path: str, data: bytes, container: str, *,
                copy_uid_gid: bool = False) -> None:
        """Extract the tar ``data`` into the folder ``path``."""
        path = _norm(path)
        entry = self.entries.get(path)
        if entry is None:
            raise NotFoundError(f"Error response from daemon: Could not find the file {path} "
                                f"in container {container}")
        if entry.kind != "dir":
            raise EngineError("Error response from daemon: extraction point is not a directory")
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            for member in tar.getmembers():
                target = _norm(posixpath.join(path, member.name))
                if not target.startswith(path.rstrip("/") + "/") and target != path:
                    continue  # nothing escapes the folder
                self.mkdir(posixpath.dirname(target))
                uid, gid = (member.uid, member.gid) if copy_uid_gid else (0, 0)
                if member.isdir():
                    if self.entries.get(target, _Entry("dir")).kind != "dir":
                        raise EngineError("Error response from daemon: cannot overwrite "
                                          f"non-directory {target} with directory")
                    self.entries[target] = _Entry("dir", mode=member.mode, uid=uid, gid=gid,
                                                  mtime=member.mtime)
                elif member.issym():
                    self.entries[target] = _Entry("link", link=member.linkname, uid=uid,
                                                  gid=gid, mode=0o777, mtime=member.mtime)
                elif member.isfile():
                    handle = tar.extractfile(member)
                    content = handle.read() if handle is not None else b""
                    if self.entries.get(target, _Entry("file")).kind == "dir":
                        raise EngineError("Error response from daemon: cannot overwrite "
                                          f"directory {target} with non-directory")
                    self.entries[target] = _Entry("file", data=content, mode=member.mode,
                                                  uid=uid, gid=gid, mtime=member.mtime)
