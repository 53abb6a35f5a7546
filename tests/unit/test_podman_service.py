"""The private ``podman system service``: started on a socket in a fresh 0700
directory, answering, stopped and its directory removed; never outliving the
process that started it, even one killed with SIGKILL. ``podman`` here is a
stand-in that serves ``/_ping`` on the address it is given."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest
from waiting import wait_until

from composer.backends.discovery import answers
from composer.backends.podman_service import PREFIX, PodmanService
from composer.errors import EngineUnreachableError

FAKE_PODMAN = textwrap.dedent("""\
    #!{python}
    import socket, sys
    assert sys.argv[1:3] == ["system", "service"], sys.argv
    if "{mode}" == "broken":
        print("Error: cannot listen", flush=True)
        sys.exit(125)
    path = sys.argv[-1][len("unix://"):]
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(8)
    while True:
        conn, _ = server.accept()
        with conn:
            conn.recv(4096)
            conn.sendall(b"HTTP/1.0 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nOK")
    """)


def fake_podman(folder: Path, mode: str = "serves") -> str:
    path = folder / "podman"
    path.write_text(FAKE_PODMAN.format(python=sys.executable, mode=mode))
    path.chmod(0o755)
    return str(path)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its parent) is gone too.
    with open(f"/proc/{pid}/stat") as status:
        return status.read().split(") ")[-1][0] != "Z"


def test_started_on_a_private_socket_then_stopped_and_removed(tmp_path: Path,
                                                              runtime: Path) -> None:
    service = PodmanService(fake_podman(tmp_path))
    service.start()
    try:
        assert service.folder is not None and service.folder.parent == runtime
        assert service.folder.name.startswith(PREFIX)
        assert stat.S_IMODE(service.folder.stat().st_mode) == 0o700
        assert answers(service.socket)
        assert service.address == f"unix://{service.socket}"
        process = service.process
        assert process is not None
    finally:
        service.stop()
    assert process.poll() is not None
    assert list(runtime.iterdir()) == []
    service.stop()  # twice: nothing happens


def test_a_service_that_cannot_start_is_one_line_and_leaves_nothing(
        tmp_path: Path, runtime: Path) -> None:
    service = PodmanService(fake_podman(tmp_path, "broken"))
    with pytest.raises(EngineUnreachableError,
                       match="^no engine answers and podman system service did not start: "
                             "Error: cannot listen$"):
        service.start()
    assert list(runtime.iterdir()) == []


def test_the_service_dies_with_a_killed_composer_and_the_next_start_sweeps(
        tmp_path: Path, runtime: Path) -> None:
    podman = fake_podman(tmp_path)
    script = textwrap.dedent(f"""\
        import signal, sys
        from composer.backends.podman_service import PodmanService
        service = PodmanService({podman!r})
        service.start()
        print(service.process.pid, service.folder, flush=True)
        signal.pause()
        """)
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                              text=True, env={**os.environ, "XDG_RUNTIME_DIR": str(runtime)})
    assert parent.stdout is not None
    pid_text, folder = parent.stdout.readline().split()
    pid = int(pid_text)
    assert alive(pid)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    wait_until(lambda: not alive(pid), what="the orphaned service to stop", timeout=30)
    assert Path(folder).is_dir()  # nobody could remove it: the next start does
    service = PodmanService(podman)
    service.start()
    try:
        assert not Path(folder).exists()
    finally:
        service.stop()


def test_a_runtime_folder_too_deep_for_a_socket_gives_way_to_the_temporary_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    deep = tmp_path / ("d" * 100)
    deep.mkdir()
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(deep))
    service = PodmanService(fake_podman(tmp_path))
    service.start()
    try:
        assert service.folder is not None
        assert service.folder.parent == Path(tempfile.gettempdir())
        assert answers(service.socket)
    finally:
        service.stop()
    assert list(deep.iterdir()) == []
