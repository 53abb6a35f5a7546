"""A private Docker Engine for the tests that stop an engine: never the shared one.

:class:`PrivateEngine` starts its own ``dockerd`` (its own ``--data-root``,
``--exec-root``, ``--pidfile`` and unix socket, hence its own containerd) inside a
network namespace of its own (``ip netns``), so its bridges, addresses and
iptables rules never meet the shared engine's: ``--bridge=none`` and no
iptables rules, containers on the project's user network. It gets
``busybox:latest`` from the shared engine (``docker save | docker load``),
can be stopped and started again on the same data (an engine restart), and
:meth:`close` takes everything down (daemon, containerd, mounts, namespace,
files) whatever state the tests left it in.

A namespace left by a test run killed outright (``composer-faults-<pid>`` of a
dead pid) is removed by the next run.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

NETNS_PREFIX = "composer-faults-"


def missing_tools() -> str | None:
    """Why no private engine can run here, or None."""
    if os.geteuid() != 0:
        return "a private dockerd needs root"
    for tool in ("dockerd", "ip", "nsenter", "umount"):
        if shutil.which(tool) is None:
            return f"{tool} not found"
    return None


def _sweep_stale_namespaces() -> None:
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True,
                            check=False).stdout
    for line in listed.splitlines():
        name = line.split()[0] if line.split() else ""
        if not name.startswith(NETNS_PREFIX):
            continue
        pid = name[len(NETNS_PREFIX):].split("-")[0]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            subprocess.run(["ip", "netns", "del", name], capture_output=True, check=False)


class PrivateEngine:
    """One private dockerd; :attr:`address` is its ``DOCKER_HOST``."""

    def __init__(self) -> None:
        _sweep_stale_namespaces()
        self.root = Path(tempfile.mkdtemp(prefix="composer-faults-"))
        self.netns = f"{NETNS_PREFIX}{os.getpid()}-{self.root.name[-8:]}"
        self.socket = self.root / "docker.sock"
        self.address = f"unix://{self.socket}"
        self.log = self.root / "dockerd.log"
        self.proc: subprocess.Popen[bytes] | None = None
        subprocess.run(["ip", "netns", "add", self.netns], check=True, capture_output=True)
        subprocess.run(["ip", "-n", self.netns, "link", "set", "lo", "up"], check=True,
                       capture_output=True)

    def start(self, timeout: float = 120) -> None:
        """Start the daemon (again, on the same data) and wait until it answers."""
        assert self.proc is None or self.proc.poll() is not None, "already running"
        with self.log.open("ab") as log:
            # nsenter enters only the network namespace (ip netns exec would also
            # remount /sys, hiding the cgroup mounts dockerd needs).
            self.proc = subprocess.Popen(
                ["nsenter", f"--net=/run/netns/{self.netns}", "dockerd",
                 "--data-root", str(self.root / "data"),
                 "--exec-root", str(self.root / "exec"),
                 "--pidfile", str(self.root / "docker.pid"),
                 "-H", self.address, "--bridge=none", "--iptables=false",
                 "--ip6tables=false"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)
        deadline = time.monotonic() + timeout
        while not self.answers():
            if self.proc.poll() is not None:
                raise RuntimeError(f"the private dockerd exited ({self.proc.returncode}): "
                                   f"{self.log.read_text()[-2000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the private dockerd did not answer in {timeout:.0f} s")
            time.sleep(0.1)  # a hang guard's poll, not a wait for a duration

    def answers(self) -> bool:
        if not self.socket.exists():
            return False
        import socket

        with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX) as s:
            s.settimeout(5)
            s.connect(str(self.socket))
            s.sendall(b"GET /_ping HTTP/1.0\r\nHost: localhost\r\n\r\n")
            return s.recv(64).split(b" ")[1:2] == [b"200"]
        return False

    def stop(self, timeout: float = 120) -> None:
        """Stop the daemon as a service manager would (SIGTERM) and wait until it has
        exited; its containers stop with it (no live-restore)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def client(self) -> Any:
        """A docker SDK client for this engine."""
        import docker

        return docker.DockerClient(base_url=self.address, version="auto", timeout=60)

    def load_image(self, shared: Any, image: str = "busybox:latest") -> None:
        """``image`` from the shared engine's client ``shared`` into this one."""
        data = b"".join(shared.images.get(image).save(named=True))
        with contextlib.closing(self.client()) as mine:
            mine.images.load(data)

    def close(self) -> None:
        """Everything down, whatever state it is in."""
        with contextlib.suppress(Exception):
            self.stop()
        with contextlib.suppress(Exception):
            containerd = self.root / "exec" / "containerd" / "containerd.pid"
            if containerd.exists():
                os.kill(int(containerd.read_text().strip()), signal.SIGKILL)
        # Mounts dockerd may leave under its roots (overlays, netns files, shm).
        mounts = Path("/proc/self/mounts").read_text().splitlines()
        points = sorted((m.split()[1] for m in mounts
                         if m.split()[1].startswith(str(self.root))), reverse=True)
        for point in points:
            subprocess.run(["umount", "-l", point], capture_output=True, check=False)
        subprocess.run(["ip", "netns", "del", self.netns], capture_output=True, check=False)
        shutil.rmtree(self.root, ignore_errors=True)
