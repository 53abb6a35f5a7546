"""``cp``: files between a container and the local filesystem, through tar archives.

The rules are ``docker cp``'s: copying to an existing folder puts the source
inside it under its own name (``SRC/.``: its content); copying to a path that
does not exist creates it with the source's content (so ``cp web:/etc/hosts
./h`` writes the file ``h``). ``-`` stands for a tar stream (the caller's reader
or writer), passed through untouched. ``follow_link`` (``-L``) copies what a
symbolic link in the source points at instead of the link.

Files copied out of a container belong to the local user; with ``archive``
(``-a``), files copied in keep their uid/gid.

**Out of a container, the archive is not trusted.** The engine sends what the
container holds, and a compromised container (or engine) decides what that is.
Whatever the archive holds, nothing is written outside the destination
(``DEST``, or ``DEST/NAME`` when ``DEST`` is an existing folder). Each member
is checked before anything is written, then again as it is written:

================================  ==========================================
archive member                    composer
================================  ==========================================
``../x``, ``a/../../x``           refused (the docker CLI refuses too)
``/a/x`` (absolute)               read as ``a/x`` (as the docker CLI)
not under the copied path         refused (the docker CLI writes it beside)
symbolic link, any target         created as it is: a link is never followed
                                  by ``cp`` (the docker CLI refuses relative
                                  links that climb out, keeps absolute ones)
a member under a symbolic link    refused (the docker CLI follows an absolute
(``link/x``)                      link and writes outside the destination)
a folder on disk that leads out   refused
through a symbolic link
hard link out of the copied path  refused (the docker CLI refuses too)
hard link to a file copied before created
a file where a file or link was   the old one is replaced, not written through
a folder where a file was, or     refused (as the engine and the docker CLI)
the reverse
character or block device         refused: a device node on this machine
                                  would reach past the destination (the docker
                                  CLI creates it when run as root); ``-``
                                  gives the raw archive
FIFO                              created
setuid / setgid bits              dropped (the docker CLI keeps them)
================================  ==========================================

Refusals are one line naming the member (quoted, control characters escaped)
and exit 1; a refusal found before writing leaves the destination untouched.
A local write that fails (disk full, permission) is one line naming the file.
"""

from __future__ import annotations

import io
import json
import os
import posixpath
import stat as stat_module
import tarfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import anyio.to_thread

from composer.backends.base import Backend
from composer.backends.types import ExecConfig
from composer.errors import ComposerError, EngineError, NotFoundError, UsageError

__all__ = ["from_container", "sync_to_container", "to_container"]

_SPECIAL_BITS = stat_module.S_ISUID | stat_module.S_ISGID


def _quote(name: str) -> str:
    """A member name for a message: quoted, control characters escaped (a name
    chosen by a container must not drive the terminal)."""
    return json.dumps(name, ensure_ascii=False)


def _refuse(name: str, why: str) -> EngineError:
    return EngineError(f"refusing archive member {_quote(name)}: {why}")


def archive_root(path: str) -> str:
    """The name the engine gives the root of ``path``'s archive, relative
    (``"."`` for ``/``, and for ``dir/.``, whose content is copied)."""
    if posixpath.basename(path) == ".":
        return "."
    stripped = posixpath.normpath("/" + path).strip("/")
    return posixpath.basename(stripped) or "."


def _relative(name: str) -> str:
    """An archive name as a relative path: leading slashes dropped (as the docker
    CLI reads them), ``.`` and ``..`` resolved; may start with ``..``."""
    stripped = name.lstrip("/")
    return posixpath.normpath(stripped) if stripped else "."


def _within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


@dataclass
class _Extraction:
    """One archive extracted into ``folder`` with its root ``old_root`` renamed
    ``new_root`` (``"."``: the root's content goes straight into ``folder``)."""

    folder: str
    old_root: str
    new_root: str
    uid: int
    gid: int
    current: str = ""  # the member being written, for a failure's message

    @property
    def top(self) -> str:
        """The destination: nothing is written outside it."""
        return os.path.normpath(os.path.join(self.folder, self.new_root))

    def rebase(self, original: str, name: str, *, link: bool = False) -> str:
        """``name`` (an archive name, or with ``link`` a hard link's target) renamed
        under the new root; refuses what climbs out or lies outside the copied path."""
        relative = _relative(name)
        subject = f"its hard link target {_quote(name)}" if link else "it"
        if relative == ".." or relative.startswith("../"):
            where = "points" if link else "would be written"
            raise _refuse(original, f"{subject} {where} outside {self.top}")
        if self.old_root == ".":
            rest = "" if relative == "." else relative
        elif relative == self.old_root:
            rest = ""
        elif relative.startswith(self.old_root + "/"):
            rest = relative[len(self.old_root) + 1:]
        else:
            raise _refuse(original, f"{subject} is not under {_quote(self.old_root)}, the "
                                    "path copied")
        if not rest:
            return self.new_root
        return rest if self.new_root == "." else f"{self.new_root}/{rest}"

    def check(self, tar: tarfile.TarFile) -> list[tarfile.TarInfo]:
        """Every member renamed and checked against the archive alone, before
        anything is written. Returns the members to extract."""
        kinds: dict[str, str] = {}  # name -> kind of the last member of that name
        chosen: list[tarfile.TarInfo] = []
        for member in tar.getmembers():
            original = member.name
            if "\x00" in original or "\x00" in member.linkname:
                raise _refuse(original, "its name holds a NUL character")
            name = self.rebase(original, original)
            kind = ("dir" if member.isdir() else "symlink" if member.issym()
                    else "hardlink" if member.islnk() else "fifo" if member.isfifo()
                    else "device" if member.isdev() else "file" if member.isreg() else "")
            if kind == "device":
                raise _refuse(original, "device files are not copied out of a container "
                                        '(copy to "-" for the raw archive)')
            if not kind:
                raise _refuse(original, "unsupported file type")
            parts = name.split("/")
            for depth in range(1, len(parts)):
                ancestor = "/".join(parts[:depth])
                if kinds.get(ancestor, "dir") != "dir":
                    through = ("the symbolic link" if kinds[ancestor] == "symlink"
                               else "the non-directory")
                    raise _refuse(original, f"it would be written through {through} "
                                            f"{_quote(ancestor)}")
            before = kinds.get(name)
            if before is not None and (before == "dir") != (kind == "dir"):
                raise _refuse(original, "a directory and a non-directory of the same name")
            if kind == "hardlink":
                target = self.rebase(original, member.linkname, link=True)
                if kinds.get(target) not in ("file", "hardlink"):
                    raise _refuse(original, f"its hard link target {_quote(member.linkname)} "
                                            "is not a file copied before it")
                member.linkname = target
            kinds[name] = kind
            if name == ".":
                continue  # the destination folder itself: left as it is (as the docker CLI)
            member.name = name
            member.uid, member.gid = self.uid, self.gid
            member.uname = member.gname = ""
            if kind not in ("dir", "symlink"):
                member.mode &= ~_SPECIAL_BITS
            chosen.append(member)
        return chosen

    def written(self, members: list[tarfile.TarInfo]) -> Iterator[tarfile.TarInfo]:
        """The members, each checked against the disk just before it is written."""
        # The destination's own name is not followed if it is a link: that link is
        # what a member of the same name replaces (or refuses to, for a folder).
        real_top = os.path.realpath(self.folder)
        if self.new_root != ".":
            real_top = os.path.join(real_top, self.new_root)
        for member in members:
            target = os.path.join(self.folder, member.name)
            self.current = target
            if os.path.normpath(target) != self.top:
                parent = os.path.realpath(os.path.dirname(target))
                if not _within(parent, real_top):
                    raise _refuse(member.name, f"{os.path.dirname(target)} leads outside "
                                               f"{self.top} through a symbolic link")
            if member.islnk():
                linked = os.path.realpath(os.path.join(self.folder, member.linkname))
                if not _within(linked, real_top) or not os.path.isfile(linked):
                    raise _refuse(member.name, f"its hard link target {_quote(member.linkname)}"
                                               f" is not a file inside {self.top}")
            if os.path.lexists(target):
                is_dir = os.path.isdir(target) and not os.path.islink(target)
                if member.isdir() and not is_dir:
                    raise EngineError(f'cannot overwrite non-directory "{target}" with a '
                                      "directory")
                if is_dir and not member.isdir():
                    raise EngineError(f'cannot overwrite directory "{target}" with a '
                                      "non-directory")
                if not is_dir:
                    os.unlink(target)  # replaced, never written through
            yield member


def _extract(data: bytes, dest_dir: str, old_root: str, new_root: str) -> None:
    """Extract the engine's archive ``data`` into ``dest_dir``, its root ``old_root``
    renamed ``new_root``, by the rules of the module docstring."""
    job = _Extraction(dest_dir, _relative(old_root), new_root, os.getuid(), os.getgid())
    try:
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            members = job.check(tar)
            # Our checks (above) decide; the standard filters would refuse absolute
            # symbolic links, which every container holds.
            options = {"filter": "fully_trusted"} if hasattr(tarfile, "fully_trusted_filter") \
                else {}
            tar.extractall(dest_dir, members=job.written(members), numeric_owner=True,
                           **options)  # type: ignore[arg-type]
    except tarfile.TarError as exc:
        raise EngineError(f"the engine sent an archive that cannot be read: {exc}") from None
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ComposerError(f"cannot write {job.current or dest_dir}: {reason}") from None


async def from_container(backend: Backend, container: str, src: str, dest: str, *,
                         follow_link: bool = False,
                         write: Callable[[bytes], None] | None = None) -> None:
    """Copy ``src`` from the container to ``dest`` here (``-``: the tar goes to
    ``write`` as the engine sent it). Raises :class:`EngineError` for an archive
    member that would land outside the destination (see the module docstring)."""
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
    root = archive_root(source)
    if os.path.isdir(dest):
        # -L: the copy takes the link's name, as the docker CLI's RebaseName.
        dest_dir = dest
        new_root = root if root == "." or source == src else archive_root(src)
    else:
        if dest.endswith(os.sep):
            raise UsageError(f'destination directory "{dest}" must exist')
        parent = os.path.dirname(os.path.abspath(dest))
        if not os.path.isdir(parent):
            raise UsageError(f'destination directory "{parent}" must exist')
        dest_dir, new_root = parent, os.path.basename(os.path.abspath(dest))
    # A full disk, a read-only or forbidden destination: one line (from _extract).
    await anyio.to_thread.run_sync(_extract, data, dest_dir, root, new_root)


def _archive(src: str, arcname: str, *, archive: bool, follow_link: bool) -> bytes:
    buffer = io.BytesIO()
    keep: Callable[[tarfile.TarInfo], tarfile.TarInfo] | None = None
    if not archive:
        def keep(info: tarfile.TarInfo) -> tarfile.TarInfo:
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            return info
    path = os.path.realpath(src) if follow_link else src
    try:
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            tar.add(path, arcname=arcname, recursive=True, filter=keep)
    except OSError as exc:
        where = exc.filename or path
        raise ComposerError(f"cannot read {where}: {exc.strerror or exc}") from None
    return buffer.getvalue()


async def to_container(backend: Backend, container: str, src: str, dest: str, *,
                       archive: bool = False, follow_link: bool = False,
                       read: Callable[[], bytes] | None = None) -> None:
    """Copy ``src`` here (``-``: the tar ``read`` returns) to ``dest`` in the container.

    The engine decides what may be written where: a read-only root filesystem or
    mount, a missing parent folder, a parent that is not a folder are its
    refusals, raised as :class:`EngineError` with its reason."""
    if src == "-":
        if read is None:
            raise UsageError("copying from a stream needs a reader")
        await backend.put_archive(container, dest, read(), copy_uid_gid=archive)
        return
    if not os.path.lexists(src):
        raise UsageError(f"could not find the file {src} in the local filesystem")
    try:
        stat = await backend.stat_path(container, dest)
    except NotFoundError:
        raise
    except EngineError:
        # As the docker CLI: a path the engine cannot stat (its parent is a file...)
        # is taken as absent; the copy itself then fails with the engine's reason.
        stat = None
    is_dir = stat is not None and stat.is_dir
    if stat is not None and not is_dir and os.path.isdir(src):
        raise EngineError(f"cannot copy the directory {src} onto the file {dest} in the "
                          "container")
    if is_dir:
        folder = dest
        arcname = os.path.basename(os.path.normpath(src))
    else:
        if dest.endswith("/"):
            raise EngineError(f'no such directory: "{dest}" must exist in the container')
        folder = posixpath.dirname(dest) or "/"
        arcname = posixpath.basename(dest)
    # A file we may not read: one line (from _archive).
    data = await anyio.to_thread.run_sync(
        lambda: _archive(src, arcname, archive=archive, follow_link=follow_link))
    await backend.put_archive(container, folder, data, copy_uid_gid=archive)


# -- a watch's sync ------------------------------------------------------------------------------


def _sync_archive(copies: Sequence[tuple[str, str]]) -> bytes:
    """One archive of ``copies`` (``(path here, path in the container)``), written at
    ``/``: each file, link or folder (a folder alone: the watch lists what is in it),
    owners kept, parents before their children. A path gone meanwhile is skipped."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for host, there in sorted(copies, key=lambda pair: pair[1]):
            try:
                tar.add(host, arcname=there.lstrip("/"), recursive=False)
            except FileNotFoundError:
                continue
            except OSError as exc:
                where = exc.filename or host
                raise ComposerError(f"cannot read {where}: {exc.strerror or exc}") from None
    return buffer.getvalue()


async def sync_to_container(backend: Backend, container: str,
                            copies: Sequence[tuple[str, str]],
                            deletions: Sequence[str] = ()) -> None:
    """A watch's sync, as Docker Compose v2 does it: ``deletions`` removed with ``rm
    -rf`` run in the container, then ``copies`` put at ``/`` in one archive (the
    engine creates missing parent folders; files keep their owner)."""
    if deletions:
        out = await backend.exec_run(container, ExecConfig(command=["rm", "-rf", *deletions]))
        if out.exit_code != 0:
            why = (out.stderr or out.stdout).decode(errors="replace").strip()
            raise EngineError(f"deleting paths in {container[:12]}: "
                              f"{why or f'rm exited with code {out.exit_code}'}")
    if copies:
        data = await anyio.to_thread.run_sync(_sync_archive, copies)
        try:
            await backend.put_archive(container, "/", data, copy_uid_gid=True)
        except EngineError as exc:
            raise EngineError(f"copying files to {container[:12]}: {exc}") from None
