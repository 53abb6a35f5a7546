"""``cp``: files between a container and the local filesystem, through tar archives.

The rules are ``docker cp``'s: copying to an existing folder puts the source
inside it under its own name; copying to a path that does not exist creates it
with the source's content (so ``cp web:/etc/hosts ./h`` writes the file ``h``).
``-`` stands for a tar stream (the caller's reader or writer). ``follow_link`` (``-L``) copies
what a symbolic link in the source points at instead of the link.

Files copied out of a container belong to the local user; with ``archive``
(``-a``), files copied in keep their uid/gid.
"""

from __future__ import annotations

import io
import os
import posixpath
import tarfile
from collections.abc import Callable

import anyio.to_thread

from composer.backends.base import Backend
from composer.errors import ComposerError, EngineError, UsageError

__all__ = ["from_container", "to_container"]


def _rename(member: tarfile.TarInfo, old: str, new: str) -> tarfile.TarInfo | None:
    name = member.name
    if name == old or name.startswith(old + "/"):
        member.name = new + name[len(old):]
        return member
    return None


def _extract(data: bytes, dest_dir: str, old_root: str, new_root: str) -> None:
    uid, gid = os.getuid(), os.getgid()
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        members = []
        for member in tar.getmembers():
            renamed = _rename(member, old_root, new_root)
            if renamed is None:
                continue
            renamed.uid, renamed.gid = uid, gid
            members.append(renamed)
        tar.extractall(dest_dir, members=members, numeric_owner=True, filter="tar")


async def from_container(backend: Backend, container: str, src: str, dest: str, *,
                         follow_link: bool = False,
                         write: Callable[[bytes], None] | None = None) -> None:
    """Copy ``src`` from the container to ``dest`` here (``-``: the tar goes to ``write``)."""
    stat = await backend.stat_path(container, src)
    if stat is None:
        raise EngineError(f"Error response from daemon: Could not find the file {src} in "
                          f"container {container}")
    source = src
    link = stat.link_target
    if follow_link and link:
        source = link if link.startswith("/") else posixpath.join(posixpath.dirname(src), link)
    data = await backend.get_archive(container, source)
    if dest == "-":
        if write is None:
            raise UsageError("copying to a stream needs a writer")
        write(data)
        return
    root = posixpath.basename(posixpath.normpath(source)) or "/"
    if os.path.isdir(dest):
        dest_dir, new_root = dest, posixpath.basename(posixpath.normpath(src)) or root
    else:
        if dest.endswith(os.sep):
            raise UsageError(f'destination directory "{dest}" must exist')
        parent = os.path.dirname(os.path.abspath(dest))
        if not os.path.isdir(parent):
            raise UsageError(f'destination directory "{parent}" must exist')
        dest_dir, new_root = parent, os.path.basename(os.path.abspath(dest))
    try:
        await anyio.to_thread.run_sync(_extract, data, dest_dir, root, new_root)
    except OSError as exc:  # a full disk, a read-only or forbidden destination
        raise _local_error("write", exc, dest) from exc


def _local_error(verb: str, exc: OSError, path: str) -> ComposerError:
    """One line for a local file that cannot be read or written (``cannot write
    out/big: No space left on device``)."""
    return ComposerError(f"cannot {verb} {exc.filename or path}: "
                         f"{exc.strerror or exc.__class__.__name__}")


def _archive(src: str, arcname: str, *, archive: bool, follow_link: bool) -> bytes:
    buffer = io.BytesIO()
    keep: Callable[[tarfile.TarInfo], tarfile.TarInfo] | None = None
    if not archive:
        def keep(info: tarfile.TarInfo) -> tarfile.TarInfo:
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            return info
    path = os.path.realpath(src) if follow_link else src
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        tar.add(path, arcname=arcname, recursive=True, filter=keep)
    return buffer.getvalue()


async def to_container(backend: Backend, container: str, src: str, dest: str, *,
                       archive: bool = False, follow_link: bool = False,
                       read: Callable[[], bytes] | None = None) -> None:
    """Copy ``src`` here (``-``: the tar ``read`` returns) to ``dest`` in the container."""
    if src == "-":
        if read is None:
            raise UsageError("copying from a stream needs a reader")
        await backend.put_archive(container, dest, read(), copy_uid_gid=archive)
        return
    if not os.path.lexists(src):
        raise UsageError(f"could not find the file {src} in the local filesystem")
    stat = await backend.stat_path(container, dest)
    is_dir = stat is not None and stat.is_dir
    if is_dir:
        folder = dest
        arcname = os.path.basename(os.path.normpath(src))
    else:
        if dest.endswith("/"):
            raise EngineError(f'Error response from daemon: destination directory "{dest}" '
                              "must exist")
        folder = posixpath.dirname(dest) or "/"
        arcname = posixpath.basename(dest)
    try:
        data = await anyio.to_thread.run_sync(
            lambda: _archive(src, arcname, archive=archive, follow_link=follow_link))
    except OSError as exc:  # a file we may not read
        raise _local_error("read", exc, src) from exc
    await backend.put_archive(container, folder, data, copy_uid_gid=archive)
