"""The project lock: one command at a time changes a project on an engine.

Every verb that changes a project (``up``, ``create``, ``run``'s dependencies,
``down``, ``start``, ``stop``, ``restart``, ``kill``, ``rm``, ``pause``,
``unpause``) holds the lock of (engine address, project name) while it
observes, plans and executes. A second composer command on the same project and
engine waits until the first one ends (its reporter is told once, naming the
holder), so two ``up -d`` started together both succeed, one after the other,
and ``up`` started during ``down`` runs once ``down`` is over.

How: ``fcntl.flock`` on a file in a private state directory (:func:`state_dir`:
``$XDG_RUNTIME_DIR/composer``, else ``/run/user/<uid>/composer``, else
``<tmp>/composer-<uid>``; mode 0700, owned by the user, checked each time). The
file holds the holder's pid and verb, for the waiter's message. The holder
removes the file before it lets go, so nothing is left once the command ends; a
waiter that then gets the lock of a removed file sees that the path no longer
names its file and tries again. A command killed outright (SIGKILL) leaves the
file behind, unlocked: the kernel drops the lock with the process, and the next
command takes it and removes it. A waiter polls (every 0.1 s) rather than
blocking a thread in ``flock``, so Ctrl-C or a ``timeout`` ends the wait at once.

Within one process the lock is shared: a verb run while another verb of the same
process holds it (the attached ``up``'s kill during its stop, on a second
Ctrl-C) goes ahead at once. The lock guards against other commands, not against
the caller's own concurrency.

Across machines there is no common file: two hosts talking to one engine are
not serialised by it. What they race on, the executor settles on the engine
itself (see :mod:`composer.runtime.executor`: a create that meets a name
conflict adopts an equal container; duplicate networks are resolved to the
oldest one). The in-memory engine (``memory://``) lives inside one process and
takes no lock.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import stat
import tempfile
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import anyio

from composer.errors import LockError

__all__ = ["POLL", "lock_path", "project_lock", "state_dir"]

#: Seconds between two tries while another command holds the lock.
POLL = 0.1


def state_dir(environ: dict[str, str] | None = None) -> Path:
    """composer's private state directory, created (mode 0700) if missing.

    ``$XDG_RUNTIME_DIR/composer`` when that variable names a directory of this
    user, else ``/run/user/<uid>/composer`` when that exists, else
    ``<tempdir>/composer-<uid>``. Raises :class:`~composer.errors.LockError` when
    the directory exists but is not a directory this user owns (never trusted)."""
    env = os.environ if environ is None else environ
    uid = os.getuid()
    for base in (env.get("XDG_RUNTIME_DIR", ""), f"/run/user/{uid}"):
        if base and os.path.isabs(base) and _owned_dir(Path(base), uid):
            return _private(Path(base) / "composer", uid)
    return _private(Path(tempfile.gettempdir()) / f"composer-{uid}", uid)


def _owned_dir(path: Path, uid: int) -> bool:
    try:
        info = path.stat()
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode) and info.st_uid == uid


def _private(path: Path, uid: int) -> Path:
    with contextlib.suppress(FileExistsError):
        os.mkdir(path, 0o700)
    try:
        info = os.lstat(path)
    except OSError as exc:
        raise LockError(f"cannot use the state directory {path}: {exc.strerror}") from exc
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != uid:
        raise LockError(f"the state directory {path} is not a directory owned by this user "
                        f"(uid {uid}): remove it, or set XDG_RUNTIME_DIR")
    if stat.S_IMODE(info.st_mode) != 0o700:
        os.chmod(path, 0o700)  # ours: made private again (an umask, a user's chmod)
    return path


def _engine_key(address: str) -> str:
    """One spelling per engine: a unix socket by its real path."""
    for prefix in ("unix://", "http+unix://"):
        if address.startswith(prefix):
            return "unix://" + os.path.realpath("/" + address[len(prefix):].lstrip("/"))
    return address


def lock_path(address: str, project: str, directory: Path | None = None) -> Path:
    """The lock file of ``project`` on the engine at ``address``."""
    digest = hashlib.sha256(_engine_key(address).encode()).hexdigest()[:16]
    return (directory or state_dir()) / f"{project}-{digest}.lock"


@dataclass
class _Held:
    fd: int
    count: int


_held: dict[Path, _Held] = {}
_registry = threading.Lock()


def _try_take(path: Path, command: str) -> bool:
    """One try; True when this process now holds ``path``'s lock."""
    with _registry:
        held = _held.get(path)
        if held is not None:
            held.count += 1
            return True
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                return False
            raise
        # The holder before us may have removed the file between our open and our
        # flock: then we hold the lock of a file nobody else can find.
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(path, follow_symlinks=False))
        except FileNotFoundError:
            same = False
        if not same:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()} {command}\n".encode())
        _held[path] = _Held(fd, 1)
        return True


def _release(path: Path) -> None:
    with _registry:
        held = _held[path]
        held.count -= 1
        if held.count:
            return
        del _held[path]
        # Removed while still locked, so a waiter never locks a file we leave behind.
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        os.close(held.fd)


def _holder(path: Path) -> str:
    """``up, pid 1234`` from the lock file, or "" if it cannot be read yet."""
    try:
        text = path.read_text(errors="replace").split()
    except OSError:
        return ""
    if len(text) >= 2 and text[0].isdigit():
        return f"{text[1]}, pid {text[0]}"
    return ""


@contextlib.asynccontextmanager
async def project_lock(address: str, project: str, *, command: str,
                       on_wait: Callable[[str], None] | None = None,
                       timeout: float | None = None,
                       directory: Path | None = None) -> AsyncIterator[None]:
    """Hold the lock of ``project`` on the engine at ``address`` for the block.

    ``command`` (``up``, ``down``...) is written for other commands to read.
    When another command holds it, ``on_wait`` is called once with a sentence
    naming it, and the wait goes on until it ends; with ``timeout`` (seconds) a
    :class:`~composer.errors.LockError` is raised once it has passed. An address
    of the in-memory engine (``memory://``) takes no lock."""
    if address.startswith("memory:"):
        yield
        return
    path = lock_path(address, project, directory)
    try:
        taken = _try_take(path, command)
    except OSError as exc:
        raise LockError(f"cannot lock project {project!r} ({path}): {exc.strerror}") from exc
    if not taken:
        holder = _holder(path)
        if on_wait is not None:
            by = f" ({holder})" if holder else ""
            on_wait(f"Waiting for another composer command{by} to finish")
        try:
            with anyio.fail_after(timeout):
                while not _try_take(path, command):
                    await anyio.sleep(POLL)
        except TimeoutError:
            holder = _holder(path) or holder
            by = f" ({holder})" if holder else ""
            raise LockError(f'project "{project}" is being changed by another composer '
                            f"command{by}: gave up waiting after {timeout:g}s") from None
        except OSError as exc:
            raise LockError(f"cannot lock project {project!r} ({path}): "
                            f"{exc.strerror}") from exc
    try:
        yield
    finally:
        _release(path)
