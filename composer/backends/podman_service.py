"""A private ``podman system service`` for one command (or one library project).

Podman is daemonless: its Docker-compatible API exists only while a
``podman system service`` runs. When no engine answers and ``podman`` is
installed, composer starts one itself, on a socket in a fresh directory only the
calling user can open (``mkdtemp``: mode 0700; a rootful Podman socket is root on
the machine), uses it for the command, and stops it afterwards. The containers
it started keep running: Podman's containers do not depend on the service.

No service outlives composer: it is stopped when the backend closes (the end of
the command, Ctrl-C and SIGTERM included), and the kernel sends it SIGTERM when
composer's process dies any other way, SIGKILL included
(``prctl(PR_SET_PDEATHSIG)``, Linux). Its directory is removed when it stops;
one left by a killed composer is removed by the next start (the only files in
it are the socket and the service's log).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from composer.errors import EngineUnreachableError

__all__ = ["PodmanService", "podman_command"]

#: Seconds the service may take to answer its first ``/_ping``.
START_TIMEOUT = 30.0
#: Seconds it has to stop on SIGTERM before it is killed.
STOP_TIMEOUT = 5.0
PREFIX = "composer-podman-"
_PR_SET_PDEATHSIG = 1


def podman_command() -> str | None:
    """The ``podman`` executable on PATH, or None."""
    return shutil.which("podman")


#: The longest path a unix socket's address holds (``sun_path``, less its NUL).
SUN_PATH_MAX = 107


def _base_dir() -> Path:
    """``$XDG_RUNTIME_DIR`` when usable and short enough for the socket's path
    (``mkdtemp``'s name and ``/podman.sock`` under it), else the temporary folder."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isdir(runtime) and os.access(runtime, os.W_OK) \
            and len(os.fsencode(runtime)) + len(PREFIX) + 22 <= SUN_PATH_MAX:
        return Path(runtime)
    return Path(tempfile.gettempdir())


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    """(In the child, before exec.) SIGTERM when composer's thread that started it
    dies; then start a session of its own so a Ctrl-C at the terminal reaches
    composer only (composer stops it itself)."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    os.setsid()


def _sweep(base: Path) -> None:
    """Remove directories of services whose composer died (their socket answers
    no more)."""
    from composer.backends.discovery import answers

    for folder in base.glob(PREFIX + "*"):
        with contextlib.suppress(OSError):
            if folder.stat().st_uid == os.getuid() and not answers(str(folder / "podman.sock")):
                shutil.rmtree(folder, ignore_errors=True)


class PodmanService:
    """One private Podman API service: :meth:`start`, then :attr:`address`;
    :meth:`stop` (safe to call twice)."""

    def __init__(self, podman: str) -> None:
        self.podman = podman
        self.folder: Path | None = None
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def socket(self) -> str:
        assert self.folder is not None
        return str(self.folder / "podman.sock")

    @property
    def address(self) -> str:
        return f"unix://{self.socket}"

    def start(self, timeout: float = START_TIMEOUT) -> None:
        from composer.backends.discovery import answers

        base = _base_dir()
        _sweep(base)
        self.folder = Path(tempfile.mkdtemp(prefix=PREFIX, dir=base))  # mode 0700
        log = open(self.folder / "service.log", "wb")  # noqa: SIM115 - the child keeps it
        try:
            self.process = subprocess.Popen(
                [self.podman, "system", "service", "--time=0", self.address],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent, close_fds=True,
                # Set (even empty), these make podman a remote client, which serves nothing.
                env={k: v for k, v in os.environ.items()
                     if k not in ("CONTAINER_HOST", "CONTAINER_CONNECTION")})
        except OSError as exc:
            self.stop()
            raise EngineUnreachableError(f"cannot start podman system service: {exc}") \
                from None
        finally:
            log.close()
        deadline = time.monotonic() + timeout
        while not answers(self.socket):
            if self.process.poll() is not None or time.monotonic() > deadline:
                reason = self._log_tail() or f"it exited ({self.process.returncode})" \
                    if self.process.poll() is not None else f"no answer after {timeout:g}s"
                self.stop()
                raise EngineUnreachableError(
                    f"no engine answers and podman system service did not start: {reason}")
            time.sleep(0.05)  # the socket appears within a moment

    def _log_tail(self) -> str:
        assert self.folder is not None
        with contextlib.suppress(OSError):
            lines = (self.folder / "service.log").read_text(errors="replace").splitlines()
            return lines[-1].strip() if lines else ""
        return ""

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        folder, self.folder = self.folder, None
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
