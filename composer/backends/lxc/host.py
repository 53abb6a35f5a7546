"""The machine's side of the LXC backend: containers through LXC's Python binding,
bridges and addresses through ``ip``, state in files. Blocking: the backend calls
it from worker threads.

Layout under ``root`` (``/var/lib/composer-lxc``)::

    containers/NAME/config        LXC's own config (lxc.Container(NAME, containers/))
    containers/NAME/state.json    the container as the Engine API would show it:
                                  Id, Name, Created, Config, HostConfig, the
                                  networks and their addresses, State
    containers/NAME/upper, work   the overlay's writable layer over the image
    containers/NAME/run/          bind-mounted at /.composer-run: the exit code
    containers/NAME/console.log   the container's output (lxc.console.logfile, every
                                  run appended; state.json's LogRuns say where
                                  each run begins)
    containers/.removed/ID|NAME   the exit code of a container removed lately (for
                                  whoever still waits on a ``run --rm``)
    networks/NAME.json            a compose network: its bridge, subnet, labels
    volumes/NAME/_data            a named volume; volumes/NAME/volume.json its labels
    helper/busybox                a static busybox, bind-mounted read-only at
                                  /.composer: the wrapper that records the exit code

A service's command runs under LXC's ``init.lxc`` (``start(useinit=True)``) through
a small shell of composer's (the static busybox) that forwards signals to it and
writes its exit code where composer reads it after the container stops: LXC
itself keeps no exit code for an application container.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import ipaddress
import json
import math
import os
import secrets
import shutil
import signal as signal_module
import socket
import stat as stat_module
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from composer.errors import ConflictError, EngineError, NotFoundError

__all__ = ["LxcHost", "now_rfc3339"]

ROOT = "/var/lib/composer-lxc"
#: Where the default subnets of compose networks come from (one /24 each).
POOL = ipaddress.ip_network("10.233.0.0/16")
#: The shell composer's static busybox runs as the container's command: it passes
#: signals on (and a signal means "stopping"), records each exit code, and follows
#: the restart policy ($1, with $2 the most retries of on-failure; 0: no limit),
#: restarting the command in the container with Docker's doubling delay (100 ms
#: on, at most 1 minute, back to 100 ms after a run of 10 seconds).
WRAPPER = (
    # $3, the command's input: "none" (/dev/null, as an async list gets it), "tty"
    # (the console, a terminal) or "pipe" (the FIFO
    # /.composer-run/stdin, which attach writes to; held open here as fd 4 so the
    # command waits for input rather than read its end, closed on SIGPWR: a
    # StdinOnce attach's input has ended).
    'policy=$1; most=$2; input=$3; shift 3; n=0; delay=100; stopping=0; '
    "mark=$(printf '\\036\\037'); "
    # Without a terminal asked for, no \n -> \r\n on the console (Docker writes to
    # a pipe then): the output stays as written.
    # With a terminal, job control: the command runs in the foreground, in a process
    # group of its own that the terminal's Ctrl-C reaches (an async list would
    # ignore SIGINT for good); the shell waits on it and so cannot pass signals on,
    # so LXCHost.signal sends them to the command itself too.
    'case $input in tty) set -m ;; '
    'pipe) /.composer/busybox stty -onlcr 2>/dev/null; exec 4<>/.composer-run/stdin; '
    'trap "exec 4>&-" PWR ;; '
    '*) /.composer/busybox stty -onlcr 2>/dev/null ;; esac; '
    'for s in TERM INT HUP QUIT USR1 USR2; do '
    'trap "stopping=1; kill -$s \\$child 2>/dev/null" $s; done; '
    'while :; do '
    'began=$(/.composer/busybox date +%s); '
    'case $input in tty) "$@"; code=$? ;; '
    # Without one, the command's stderr goes through the FIFO /.composer-run/stderr
    # to a relay (busybox awk, flushing each line: sed keeps them in its buffer)
    # that writes each of its lines to the console behind the mark
    # (console.MARK): the log tells the two streams apart. The relay ends once the
    # command's stderr is closed; its last lines are waited for, a second at most
    # (a process the command left behind may hold it open; the shell reaps the
    # relay while it waits on usleep, after which kill -0 fails). No redirection
    # from /proc here: one that fails is a line in the command's output.
    '*) /.composer/busybox awk -v m="$mark" \'{ print m $0; fflush() }\' '
    '</.composer-run/stderr 4>&- & relay=$!; '
    'case $input in pipe) "$@" </.composer-run/stdin 2>/.composer-run/stderr 4>&- & ;; '
    '*) "$@" 2>/.composer-run/stderr & ;; esac; '
    'child=$!; wait $child; code=$?; '
    'while kill -0 $child 2>/dev/null; do wait $child; code=$?; done; i=0; '
    'while [ $i -lt 20 ] && kill -0 $relay 2>/dev/null; do '
    '/.composer/busybox usleep 50000; i=$((i + 1)); done ;; esac; '
    'echo $code > /.composer-run/exit; '
    '[ $stopping = 1 ] && break; '
    'case $policy in always|unless-stopped) ;; '
    'on-failure) [ $code = 0 ] && break; [ $most -gt 0 ] && [ $n -ge $most ] && break ;; '
    '*) break ;; esac; '
    'n=$((n + 1)); echo $n > /.composer-run/restarts; '
    '[ $(( $(/.composer/busybox date +%s) - began )) -ge 10 ] && delay=100; '
    '/.composer/busybox usleep $((delay * 1000)); '
    'delay=$((delay * 2)); [ $delay -gt 60000 ] && delay=60000; '
    'done; exit $code'
)


def now_rfc3339() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _write_json(path: str, data: Any) -> None:
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle, indent=1, sort_keys=True)
    os.replace(tmp, path)


def _read_json(path: str) -> Any:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def _run(*argv: str) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise EngineError(f"{argv[0]} is not installed") from None
    if out.returncode != 0:
        raise EngineError(f"{' '.join(argv)}: {out.stderr.strip() or out.returncode}")
    return out.stdout


def _lxc() -> Any:
    try:
        import lxc
    except ImportError:
        raise EngineError("LXC's Python binding is not installed: pip install "
                          "'composer-orchestrator[lxc]' (and LXC itself: apt-get install "
                          "lxc)") from None
    return lxc


class LxcHost:
    """Containers, networks and volumes under ``root`` (see the module docstring)."""

    def __init__(self, root: str = ROOT) -> None:
        self.root = root
        self.containers_dir = os.path.join(root, "containers")
        self.networks_dir = os.path.join(root, "networks")
        self.volumes_dir = os.path.join(root, "volumes")
        for folder in (self.containers_dir, self.networks_dir, self.volumes_dir):
            os.makedirs(folder, exist_ok=True)

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """One process changes the state files at a time."""
        with open(os.path.join(self.root, ".lock"), "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    # -- the wrapper

    def helper(self) -> str:
        """The folder with composer's static busybox (made once)."""
        folder = os.path.join(self.root, "helper")
        target = os.path.join(folder, "busybox")
        if not os.path.exists(target):
            source = shutil.which("busybox") or "/bin/busybox"
            if not os.path.exists(source):
                raise EngineError("a static busybox is needed on this machine for LXC "
                                  "containers: apt-get install busybox-static")
            os.makedirs(folder, exist_ok=True)
            shutil.copy2(source, target + ".tmp")
            os.replace(target + ".tmp", target)
        return folder

    # -- containers: state

    def container_dir(self, name: str) -> str:
        return os.path.join(self.containers_dir, name)

    def stdin_path(self, name: str) -> str:
        """The FIFO an ``OpenStdin`` container without a terminal reads as its input
        (``/.composer-run/stdin`` inside)."""
        return os.path.join(self.containers_dir, name, "run", "stdin")

    def names(self) -> list[str]:
        return sorted(n for n in os.listdir(self.containers_dir)
                      if os.path.exists(os.path.join(self.containers_dir, n, "state.json")))

    def states(self) -> list[dict[str, Any]]:
        """Every container's state (one removed meanwhile left out)."""
        out = []
        for name in self.names():
            with contextlib.suppress(NotFoundError):
                out.append(self.load(name))
        return out

    def load(self, name: str) -> dict[str, Any]:
        try:
            data: dict[str, Any] = _read_json(os.path.join(self.container_dir(name),
                                                           "state.json"))
        except FileNotFoundError:
            raise NotFoundError(f"No such container: {name}", kind="container",
                                name=name) from None
        return data

    def save(self, state: Mapping[str, Any]) -> None:
        """Write ``state`` back, unless the container was removed meanwhile (a look
        at a container that another process removes must not bring it back)."""
        folder = self.container_dir(state["Name"])
        try:
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
        except FileNotFoundError:
            return
        with os.fdopen(fd, "w") as handle:
            json.dump(state, handle, indent=1, sort_keys=True)
        try:
            os.replace(tmp, os.path.join(folder, "state.json"))
        except FileNotFoundError:
            return

    def find(self, ref: str) -> dict[str, Any]:
        """A container by name, ID or ID prefix."""
        if os.path.exists(os.path.join(self.container_dir(ref), "state.json")):
            return self.refresh(self.load(ref), restarts=True)
        matches = []
        for state in self.states():
            if state["Id"] == ref or (len(ref) >= 4 and state["Id"].startswith(ref)):
                matches.append(state)
        if len(matches) != 1:
            raise NotFoundError(f"No such container: {ref}", kind="container", name=ref)
        return self.refresh(matches[0], restarts=True)

    def container(self, name: str) -> Any:
        return _lxc().Container(name, self.containers_dir)

    def refresh(self, state: dict[str, Any], *, restarts: bool = False) -> dict[str, Any]:
        """``state`` with what LXC says now: a container found stopped that we
        thought running gets its exit code and finish time; with ``restarts``, also
        how often composer's shell restarted its command (the Engine API's
        ``RestartCount``, which only a look at one container shows)."""
        run = state["State"]
        if restarts:
            try:
                with open(os.path.join(self.container_dir(state["Name"]), "run", "restarts"),
                          encoding="utf-8") as handle:
                    state["RestartCount"] = int(handle.read().strip() or "0")
            except (OSError, ValueError):
                state["RestartCount"] = 0
        if run.get("Running"):
            c = self.container(state["Name"])
            if c.state in ("STOPPED", "ABORTING") or not c.running:
                self._stopped(state)
                self.save(state)
            elif c.state == "FROZEN":
                run["Paused"], run["Status"] = True, "paused"
        return state

    def _stopped(self, state: dict[str, Any]) -> None:
        run = state["State"]
        exit_file = os.path.join(self.container_dir(state["Name"]), "run", "exit")
        try:
            with open(exit_file, encoding="utf-8") as handle:
                code = int(handle.read().strip() or "0")
        except (OSError, ValueError):
            code = 128 + int(signal_module.SIGKILL)
        run.update(Status="exited", Running=False, Paused=False, Pid=0, ExitCode=code,
                   FinishedAt=now_rfc3339())
        self.unforward(state)

    # -- containers: lifecycle

    def create(self, name: str, body: Mapping[str, Any], rootfs: str, image_id: str,
               image_config: Mapping[str, Any]) -> str:
        folder = self.container_dir(name)
        if os.path.exists(os.path.join(folder, "state.json")):
            raise ConflictError(f'Conflict. The container name "/{name}" is already in use')
        ident = secrets.token_hex(32)
        for sub in ("upper", "work", "run"):
            os.makedirs(os.path.join(folder, sub), exist_ok=True)
        config = {k: v for k, v in body.items() if k not in ("HostConfig", "NetworkingConfig")}
        env = list(image_config.get("Env") or ())
        keys = {e.split("=", 1)[0] for e in config.get("Env") or ()}
        config["Env"] = [e for e in env if e.split("=", 1)[0] not in keys] + \
            list(config.get("Env") or ())
        for key in ("WorkingDir", "User", "StopSignal"):
            if not config.get(key) and image_config.get(key):
                config[key] = image_config[key]
        if config.get("Entrypoint") is None:
            config["Entrypoint"] = image_config.get("Entrypoint")
        if not config.get("Cmd") and body.get("Entrypoint") is None:
            config["Cmd"] = image_config.get("Cmd")
        labels = dict(image_config.get("Labels") or {})
        labels.update(config.get("Labels") or {})
        config["Labels"] = labels
        endpoints = ((body.get("NetworkingConfig") or {}).get("EndpointsConfig") or {})
        state: dict[str, Any] = {
            "Id": ident, "Name": name, "Created": now_rfc3339(), "Image": image_id,
            "Rootfs": rootfs, "Config": config, "HostConfig": dict(body.get("HostConfig") or {}),
            "Networks": {net: {"Aliases": list((ep or {}).get("Aliases") or ()),
                               "IPAddress": ""} for net, ep in endpoints.items()},
            "State": {"Status": "created", "Running": False, "Paused": False, "Pid": 0,
                      "ExitCode": 0, "StartedAt": "0001-01-01T00:00:00Z",
                      "FinishedAt": "0001-01-01T00:00:00Z"},
            "Forwards": [],
        }
        network_mode = str(state["HostConfig"].get("NetworkMode") or "")
        if not state["Networks"] and network_mode not in ("", "default", "bridge", "none"):
            state["Networks"][network_mode] = {"Aliases": [], "IPAddress": ""}
        self.save(state)
        return ident

    def _mounts(self, state: Mapping[str, Any]) -> list[str]:
        """``lxc.mount.entry`` lines for the binds, volumes and tmpfs of ``state``."""
        host = state["HostConfig"]
        entries: list[str] = []

        def add(source: str, target: str, read_only: bool, is_dir: bool = True) -> None:
            if not source.startswith("/"):
                source = self.volume_path(source)
            kind = "dir" if is_dir and not os.path.isfile(source) else "file"
            options = f"bind,create={kind}" + (",ro" if read_only else "")
            entries.append(f"{source} {target.lstrip('/')} none {options} 0 0")

        for bind in host.get("Binds") or ():
            parts = str(bind).split(":")
            add(parts[0], parts[1], len(parts) > 2 and "ro" in parts[2].split(","))
        for mount in host.get("Mounts") or ():
            kind = mount.get("Type")
            if kind in ("bind", "volume"):
                source = str(mount.get("Source") or "")
                if kind == "volume" and not source:
                    # An anonymous volume, made at the first start and kept in the
                    # state (saved with it) for every later run, as the engine keeps it.
                    source = "anon-" + secrets.token_hex(16)
                    self.create_volume(source, {"Labels": {
                        "com.docker.volume.anonymous": ""}})
                    mount["Source"] = source
                add(source, str(mount["Target"]), bool(mount.get("ReadOnly")))
            elif kind == "tmpfs":
                entries.append(f"tmpfs {str(mount['Target']).lstrip('/')} tmpfs "
                               "rw,nosuid,nodev,create=dir 0 0")
        for target in host.get("Tmpfs") or {}:
            entries.append(f"tmpfs {str(target).lstrip('/')} tmpfs rw,nosuid,nodev,"
                           "create=dir 0 0")
        return entries

    def start(self, ref: str) -> None:
        with self.locked():
            state = self.find(ref)
            if state["State"]["Running"]:
                return
            self._start(state)
        self.write_hosts()

    def _start(self, state: dict[str, Any]) -> None:
        name = state["Name"]
        folder = self.container_dir(name)
        config, host = state["Config"], state["HostConfig"]
        items: list[tuple[str, str]] = [
            ("lxc.uts.name", str(config.get("Hostname") or state["Id"][:12])),
            ("lxc.rootfs.path", f"overlay:{state['Rootfs']}:{folder}/upper"),
            ("lxc.mount.auto", "proc:mixed sys:mixed cgroup:mixed"),
            ("lxc.autodev", "1"), ("lxc.pty.max", "1024"), ("lxc.tty.max", "0"),
            ("lxc.console.logfile", f"{folder}/console.log"),
            ("lxc.log.file", f"{folder}/lxc.log"), ("lxc.log.level", "WARN"),
            ("lxc.apparmor.profile", "unconfined"),
            ("lxc.mount.entry", f"{self.helper()} .composer none bind,ro,create=dir 0 0"),
            ("lxc.mount.entry", f"{folder}/run .composer-run none bind,create=dir 0 0"),
        ]
        items += [("lxc.mount.entry", entry) for entry in self._mounts(state)]
        for env in config.get("Env") or ():
            items.append(("lxc.environment", str(env)))
        if config.get("WorkingDir"):
            items.append(("lxc.init.cwd", str(config["WorkingDir"])))
        user = str(config.get("User") or "")
        uid, gid = 0, 0
        if user:
            uid, gid = self.resolve_user(state, user)
            items += [("lxc.init.uid", str(uid)), ("lxc.init.gid", str(gid))]
        # cgroup v2 keys on a unified hierarchy, v1's otherwise (this machine's).
        v2 = os.path.exists("/sys/fs/cgroup/cgroup.controllers")
        if host.get("Memory"):
            items.append(("lxc.cgroup2.memory.max" if v2 else
                          "lxc.cgroup.memory.limit_in_bytes", str(int(host["Memory"]))))
        if host.get("NanoCpus"):
            quota = int(int(host["NanoCpus"]) * 100000 / 1e9)
            if v2:
                items.append(("lxc.cgroup2.cpu.max", f"{quota} 100000"))
            else:
                items += [("lxc.cgroup.cpu.cfs_period_us", "100000"),
                          ("lxc.cgroup.cpu.cfs_quota_us", str(quota))]
        if host.get("CpusetCpus"):
            items.append(("lxc.cgroup2.cpuset.cpus" if v2 else "lxc.cgroup.cpuset.cpus",
                          str(host["CpusetCpus"])))
        if host.get("CpuShares"):
            shares = int(host["CpuShares"])
            # cgroup v2's weight from v1's shares, as runc converts them.
            items.append(("lxc.cgroup2.cpu.weight", str(1 + ((shares - 2) * 9999) // 262142))
                         if v2 else ("lxc.cgroup.cpu.shares", str(shares)))
        for limit in host.get("Ulimits") or ():
            items.append((f"lxc.prlimit.{str(limit['Name']).lower()}",
                          f"{limit.get('Soft')}:{limit.get('Hard')}"))
        if host.get("PidsLimit"):
            items.append(("lxc.cgroup2.pids.max" if v2 else "lxc.cgroup.pids.max",
                          str(int(host["PidsLimit"]))))
        for device in host.get("Devices") or ():
            items += _device_items(device, v2)
        if not host.get("Privileged"):
            # Docker's default set, with cap_add and cap_drop (LXC keeps every
            # capability otherwise).
            items.append(("lxc.cap.keep", " ".join(sorted(capabilities(
                host.get("CapAdd") or (), host.get("CapDrop") or ()))) or "none"))
        for index, (net, endpoint) in enumerate(state["Networks"].items()):
            network = self.network(net)
            address = self._allocate(network, state["Id"])
            endpoint["IPAddress"] = address
            prefix = ipaddress.ip_network(network["Subnet"]).prefixlen
            items += [(f"lxc.net.{index}.type", "veth"),
                      (f"lxc.net.{index}.link", network["Bridge"]),
                      (f"lxc.net.{index}.flags", "up"),
                      (f"lxc.net.{index}.name", f"eth{index}"),
                      (f"lxc.net.{index}.ipv4.address", f"{address}/{prefix}")]
            if index == 0:
                items.append((f"lxc.net.{index}.ipv4.gateway", network["Gateway"]))
        if not state["Networks"]:
            items.append(("lxc.net.0.type", "empty"))
        # Written as LXC's own config file, which the binding loads with the container
        # (its set_config_item refuses a "type:path" rootfs such as overlay's).
        for key, value in items:
            if "\n" in value:
                raise EngineError(f"{key}: a value with a new line cannot go to LXC")
        text = "".join(f"{key} = {value}\n" for key, value in items)
        with open(os.path.join(folder, "config.tmp"), "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(os.path.join(folder, "config.tmp"), os.path.join(folder, "config"))
        c = self.container(name)
        if c.get_config_item("lxc.rootfs.path") in ("", None):
            raise EngineError(f"container {name}: LXC did not take its configuration: "
                              f"{self._lxc_error(folder)}")
        command = list(config.get("Entrypoint") or ()) + list(config.get("Cmd") or ())
        if not command:
            raise EngineError(f"container {name}: no command specified")
        for left in ("exit", "restarts"):
            with contextlib.suppress(FileNotFoundError):
                os.remove(os.path.join(folder, "run", left))
        self._etc(state)
        self._write_hosts(starting=state)
        restart = host.get("RestartPolicy") or {}
        policy = str(restart.get("Name") or "no")
        most = str(int(restart.get("MaximumRetryCount") or 0))
        mode = "tty" if config.get("Tty") else "pipe" if config.get("OpenStdin") else "none"
        if mode == "pipe" and not os.path.exists(self.stdin_path(name)):
            os.mkfifo(self.stdin_path(name), 0o600)
        stderr = os.path.join(folder, "run", "stderr")
        if mode != "tty" and not os.path.exists(stderr):
            os.mkfifo(stderr, 0o600)
        # composer's shell runs as the service's user: its folder and FIFOs are its.
        run = os.path.join(folder, "run")
        for path in (run, *(os.path.join(run, f) for f in os.listdir(run))):
            os.chown(path, uid, gid)
        argv = ("/.composer/busybox", "sh", "-c", WRAPPER, "composer-init", policy, most,
                mode, *command)
        try:  # where this run's output begins in the console log (kept across runs)
            offset = os.path.getsize(os.path.join(folder, "console.log"))
        except OSError:
            offset = 0
        taken = self._ports_in_use(state)
        self._check_ports(state, taken)
        began = now_rfc3339()
        if not c.start(useinit=True, daemonize=True, cmd=argv):
            raise EngineError(f"container {name} did not start: {self._lxc_error(folder)}")
        c.wait("RUNNING", 10)
        state["State"].pop("Health", None)
        state["State"].update(Status="running", Running=True, Paused=False,
                              Pid=int(c.init_pid), ExitCode=0, StartedAt=began)
        # FinishedAt stays the end of the last run, as Docker keeps it.
        state["LogRuns"] = [*(state.get("LogRuns") or ()), [began, offset]]
        self.save(state)
        self.forward(state, taken)

    @staticmethod
    def _lxc_error(folder: str) -> str:
        try:
            with open(os.path.join(folder, "lxc.log"), encoding="utf-8") as handle:
                errors = [line for line in handle if " ERROR " in line]
        except OSError:
            return "see LXC's log"
        # The first error is the cause; the later ones are its consequences.
        if not errors:
            return "see LXC's log"
        parts = errors[0].strip().split(" - ")
        return " - ".join(parts[2:] or parts[-1:])

    def _etc(self, state: Mapping[str, Any]) -> None:
        """/etc/hostname, /etc/hosts, /etc/resolv.conf in the container's writable layer."""
        etc = os.path.join(self.container_dir(state["Name"]), "upper", "etc")
        os.makedirs(etc, exist_ok=True)
        hostname = str(state["Config"].get("Hostname") or state["Id"][:12])
        with open(os.path.join(etc, "hostname"), "w", encoding="utf-8") as handle:
            handle.write(hostname + "\n")
        resolv = os.path.join(etc, "resolv.conf")
        host = state["HostConfig"]
        if host.get("Dns") or host.get("DnsSearch") or host.get("DnsOptions"):
            lines = [f"nameserver {d}" for d in host.get("Dns") or ()]
            if not lines and os.path.exists("/etc/resolv.conf"):
                with open("/etc/resolv.conf", encoding="utf-8") as handle:
                    lines = [line.strip() for line in handle
                             if line.startswith("nameserver")]
            if host.get("DnsSearch"):
                lines.append("search " + " ".join(host["DnsSearch"]))
            if host.get("DnsOptions"):
                lines.append("options " + " ".join(host["DnsOptions"]))
            with open(resolv, "w", encoding="utf-8") as handle:
                handle.write("\n".join(lines) + "\n")
        elif not os.path.exists(resolv):
            if os.path.exists("/etc/resolv.conf"):
                shutil.copyfile("/etc/resolv.conf", resolv)
            else:
                open(resolv, "w").close()

    def write_hosts(self) -> None:
        """Every running container's /etc/hosts: itself, then the names (container
        name, service, aliases) of the running containers on a network it shares."""
        with self.locked():
            self._write_hosts()

    def _write_hosts(self, starting: dict[str, Any] | None = None) -> None:
        """(Under the lock.) ``starting``: a container about to start, counted as
        running, so its own file names its peers before its command runs."""
        states = [s for s in self.states()
                  if starting is None or s["Name"] != starting["Name"]]
        running = [s for s in states if s["State"]["Running"]]
        if starting is not None:
            running.append(starting)
        for state in running:
            lines = ["127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback"]
            mine = set(state["Networks"])
            for other in running:
                for net, endpoint in other["Networks"].items():
                    if net not in mine or not endpoint.get("IPAddress"):
                        continue
                    names = [other["Name"], *endpoint.get("Aliases", ())]
                    if other is state:
                        names.insert(0, str(other["Config"].get("Hostname")
                                            or other["Id"][:12]))
                    lines.append(endpoint["IPAddress"] + "\t" + " ".join(dict.fromkeys(names)))
            for extra in state["HostConfig"].get("ExtraHosts") or ():
                name, _, address = str(extra).partition(":")
                if address:
                    lines.append(f"{address}\t{name}")
            path = os.path.join(self.container_dir(state["Name"]), "upper", "etc", "hosts")
            os.makedirs(os.path.dirname(path), exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".hosts-")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write("\n".join(lines) + "\n")
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)

    def stop(self, ref: str, timeout: float, signal: str) -> None:
        """``stop_begin``, then ``stopped_within`` the grace, then ``stop_end`` (in
        one blocking call; the backend takes these steps one at a time, so that a
        second Ctrl-C is not kept waiting by the grace)."""
        name = self.stop_begin(ref, signal)
        if name is not None:
            self.stop_end(name, force=not self.stopped_within(name, math.ceil(timeout)))

    def stop_begin(self, ref: str, signal: str) -> str | None:
        """Send the stop signal; the container's name, or None when it is not running."""
        state = self.find(ref)
        if not state["State"]["Running"]:
            return None
        self.signal(state, signal)
        return str(state["Name"])

    def stopped_within(self, name: str, seconds: int) -> bool:
        """Whether the container stops within ``seconds`` (waited for)."""
        c = self.container(name)
        # (LXC's wait with a timeout of 0 waits without end: no time is no wait.)
        return bool(c.wait("STOPPED", seconds)) if seconds > 0 else c.state == "STOPPED"

    def stop_end(self, name: str, *, force: bool) -> None:
        """Kill what is left when ``force``, then record the stop."""
        if force:
            c = self.container(name)
            c.stop()
            c.wait("STOPPED", 10)
        self._record_stop(name)

    def _record_stop(self, name: str) -> None:
        """A container that has stopped: its exit code and forwards in its state, its
        name out of its peers' hosts files."""
        with self.locked():
            state = self.load(name)
            self._stopped(state)
            self.save(state)
        self.write_hosts()

    def signal(self, state: Mapping[str, Any], signal: str) -> None:
        """Send ``signal`` to the service's process: to composer's shell, which passes
        it on (and, told to stop, does not restart the command); with a terminal,
        to the command too (the shell waits on it in the foreground then)."""
        c = self.container(state["Name"])
        number = _signal_number(signal)
        pid = int(c.init_pid)
        if pid <= 0:
            return
        # init.lxc's child is the wrapper.
        targets = _children(pid) or [pid]
        if state["Config"].get("Tty"):
            targets += [child for wrapper in targets for child in _children(wrapper)]
        for target in targets:
            with contextlib.suppress(ProcessLookupError):
                os.kill(target, number)

    def kill(self, ref: str, signal: str) -> None:
        state = self.find(ref)
        if not state["State"]["Running"]:
            raise EngineError(f"Cannot kill container: {ref}: container {state['Id']} is "
                              "not running")
        if _signal_number(signal) == signal_module.SIGKILL:
            c = self.container(state["Name"])
            c.stop()
            c.wait("STOPPED", 10)
            self._record_stop(state["Name"])
            return
        self.signal(state, signal)

    def remove(self, ref: str, force: bool) -> None:
        state = self.find(ref)
        if state["State"]["Running"]:
            if not force:
                raise ConflictError(f"You cannot remove a running container {state['Id']}. "
                                    "Stop the container before attempting removal or force "
                                    "remove")
            self.kill(state["Name"], "SIGKILL")
        c = self.container(state["Name"])
        if c.defined:
            c.clear_config()
        self._tombstone(self.refresh(state))
        shutil.rmtree(self.container_dir(state["Name"]), ignore_errors=True)
        with self.locked():
            for net in state["Networks"]:
                with contextlib.suppress(NotFoundError):
                    self._release(self.network(net), state["Id"])

    def _tombstone(self, state: Mapping[str, Any]) -> None:
        """The exit code of a removed container, kept a while by ID and by name: one
        that removes itself (``run --rm``) is still waited for by whoever ran it."""
        folder = os.path.join(self.containers_dir, ".removed")
        os.makedirs(folder, exist_ok=True)
        now = time.time()
        for entry in os.listdir(folder):
            with contextlib.suppress(OSError):
                if now - os.path.getmtime(os.path.join(folder, entry)) > TOMBSTONE_SECONDS:
                    os.remove(os.path.join(folder, entry))
        code = str(int(state["State"].get("ExitCode") or 0))
        for key in (state["Id"], state["Name"]):
            with open(os.path.join(folder, key), "w", encoding="utf-8") as handle:
                handle.write(code)

    def exit_code_of_removed(self, ref: str) -> int | None:
        """The exit code of container ``ref`` (ID or name) if it was removed lately."""
        if "/" in ref or ref.startswith("."):
            return None
        try:
            with open(os.path.join(self.containers_dir, ".removed", ref),
                      encoding="utf-8") as handle:
                return int(handle.read().strip() or "0")
        except (OSError, ValueError):
            return None

    def _etc_file(self, state: Mapping[str, Any], name: str) -> list[list[str]]:
        """The entries of the container's /etc/NAME (its writable layer first)."""
        for base in (os.path.join(self.container_dir(state["Name"]), "upper"),
                     state["Rootfs"]):
            path = os.path.join(base, "etc", name)
            if os.path.isfile(path) and not os.path.islink(path):
                with open(path, encoding="utf-8", errors="replace") as handle:
                    return [line.rstrip("\n").split(":") for line in handle if ":" in line]
        return []

    def resolve_user(self, state: Mapping[str, Any], user: str) -> tuple[int, int]:
        """``user`` (``name``, ``uid``, ``name:group``, ``uid:gid``) as numbers, read
        from the container's /etc/passwd and /etc/group, as runc resolves it."""
        name, _, group = user.partition(":")
        passwd = self._etc_file(state, "passwd")
        if name.isdigit():
            uid = int(name)
            gid = next((int(e[3]) for e in passwd if len(e) > 3 and e[2] == name
                        and e[3].isdigit()), uid if not passwd else 0)
        else:
            entry = next((e for e in passwd if e[0] == name and len(e) > 3), None)
            if entry is None:
                raise EngineError(f"unable to find user {name}: no matching entries in "
                                  "passwd file")
            uid, gid = int(entry[2]), int(entry[3])
        if group:
            if group.isdigit():
                gid = int(group)
            else:
                found = next((e for e in self._etc_file(state, "group")
                              if e[0] == group and len(e) > 2), None)
                if found is None:
                    raise EngineError(f"unable to find group {group}: no matching entries "
                                      "in group file")
                gid = int(found[2])
        return uid, gid

    def rename(self, ref: str, name: str) -> None:
        """A container not running gets a new name (its folder moves; LXC's config
        is written again at its next start)."""
        with self.locked():
            state = self.find(ref)
            if state["State"]["Running"]:
                raise EngineError(f"Error when allocating new name: renaming the running "
                                  f"container {state['Name']} is not supported on LXC")
            if os.path.exists(self.container_dir(name)):
                raise ConflictError(f'Conflict. The container name "/{name}" is already in '
                                    "use")
            os.rename(self.container_dir(state["Name"]), self.container_dir(name))
            state["Name"] = name
            self.save(state)

    # -- processes and resource usage

    def _cgroup(self, name: str, controller: str, v1_file: str, v2_file: str) -> str | None:
        payload = f"lxc.payload.{name}"
        if os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
            path = os.path.join("/sys/fs/cgroup", payload, v2_file)
        else:
            path = os.path.join("/sys/fs/cgroup", controller, payload, v1_file)
        try:
            with open(path, encoding="utf-8") as handle:
                return handle.read()
        except OSError:
            return None

    def pids(self, ref: str) -> list[int]:
        """The processes of a running container (its cgroup's)."""
        state = self.find(ref)
        if not state["State"]["Running"]:
            raise ConflictError(f"Container {state['Id']} is not running", status=409)
        text = self._cgroup(state["Name"], "pids", "cgroup.procs", "cgroup.procs") or ""
        own = self._own_processes(state["Name"])
        return sorted(int(p) for p in text.split() if int(p) not in own)

    def _own_processes(self, name: str) -> set[int]:
        """composer's processes in the container, not the service's: LXC's init and
        the shell under it that runs the command (as Docker, ``top`` and ``stats``
        show the service's processes only)."""
        init = int(self.container(name).init_pid)
        if init <= 0:
            return set()
        own = {init}
        for child in _children(init):
            with contextlib.suppress(OSError):
                with open(f"/proc/{child}/cmdline", "rb") as handle:
                    if handle.read().startswith(b"/.composer/busybox\0sh\0-c\0"):
                        own.add(child)
                        own.update(_relays(child))
        return own

    def usage(self, ref: str) -> dict[str, float]:
        """Counters of a running container's cgroup: ``cpu_ns`` (CPU time used),
        ``memory``, ``memory_limit`` (bytes; 0: none), ``pids``."""
        state = self.find(ref)
        name = state["Name"]
        if not state["State"]["Running"]:
            return {}
        out: dict[str, float] = {}
        v2 = os.path.exists("/sys/fs/cgroup/cgroup.controllers")
        if v2:
            stat = self._cgroup(name, "cpu", "", "cpu.stat") or ""
            for line in stat.splitlines():
                if line.startswith("usage_usec "):
                    out["cpu_ns"] = float(line.split()[1]) * 1000
        else:
            out["cpu_ns"] = float((self._cgroup(name, "cpuacct", "cpuacct.usage", "") or
                                   "0").strip() or 0)
        memory = self._cgroup(name, "memory", "memory.usage_in_bytes", "memory.current")
        out["memory"] = float((memory or "0").strip() or 0)
        limit = (self._cgroup(name, "memory", "memory.limit_in_bytes", "memory.max")
                 or "").strip()
        out["memory_limit"] = float(limit) if limit.isdigit() and int(limit) < 1 << 60 else 0.0
        pids = self._cgroup(name, "pids", "pids.current", "pids.current")
        out["pids"] = max(0.0, float((pids or "0").strip() or 0)
                          - len(self._own_processes(name)))
        return out

    # -- exec

    def exec_terminal(self, ref: str, argv: Sequence[str], env: Sequence[str], user: str,
                      workdir: str, terminal: int) -> int:
        """Run ``argv`` in the container on the terminal ``terminal`` (a pty's
        follower side, its stdin, stdout and stderr); its exit code."""
        with os.fdopen(os.dup(terminal), "r+b", buffering=0) as tty:
            code, _, _ = self._exec(ref, argv, [*env, "TERM=xterm"], user, workdir,
                                    streams=(tty, tty, tty))
        return code

    def exec(self, ref: str, argv: Sequence[str], env: Sequence[str], user: str,
             workdir: str, stdin: bytes = b"") -> tuple[int, bytes, bytes]:
        """Run ``argv`` in the container with ``stdin`` as its input; its exit code,
        stdout and stderr."""
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
                tempfile.TemporaryFile() as given:
            given.write(stdin)
            given.seek(0)
            code, _, _ = self._exec(ref, argv, env, user, workdir, streams=(given, out, err))
            out.seek(0)
            err.seek(0)
            stdout, stderr = out.read(), err.read()
        state = self.find(ref)
        if code == 255 or (code == 1 and not stdout and not stderr and not _exists(
                self, state, argv[0])):
            return 127, stdout, stderr or (
                f'OCI runtime exec failed: exec failed: unable to start container process: '
                f'exec: "{argv[0]}": executable file not found in $PATH: unknown\n').encode()
        return code, stdout, stderr

    def offline(self, ref: str, argv: Sequence[str], stdin: bytes = b"") -> tuple[int, bytes,
                                                                                  bytes]:
        """Run composer's busybox (``argv`` its arguments) on the filesystem of a
        container that is not running: its overlay mounted in a mount namespace of
        the call's own (gone with it, never seen by the host), the busybox bound at
        ``/.composer``, chrooted there (so the container's links resolve inside
        it, as ``docker cp`` does with a stopped container)."""
        state = self.find(ref)
        if state["State"]["Running"]:
            raise EngineError(f"container {state['Id']} is running")
        folder = self.container_dir(state["Name"])
        for sub in ("upper", "work"):
            os.makedirs(os.path.join(folder, sub), exist_ok=True)
        root = tempfile.mkdtemp(prefix="composer-lxc-cp-")
        script = (
            'mount -t overlay overlay -o "lowerdir=$1,upperdir=$2,workdir=$3" "$4" && '
            'mkdir -p "$4/.composer" && mount --bind -o ro "$5" "$4/.composer" && '
            'shift 5 && exec chroot "$ROOT" /.composer/busybox "$@"')
        try:
            done = subprocess.run(
                ["unshare", "--mount", "--propagation", "private", "sh", "-c", script,
                 "composer-cp", state["Rootfs"], os.path.join(folder, "upper"),
                 os.path.join(folder, "work"), root, self.helper(), *argv],
                input=stdin, capture_output=True, check=False,
                env={"ROOT": root, "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
        finally:
            with contextlib.suppress(OSError):
                os.rmdir(root)
        return done.returncode, done.stdout, done.stderr

    def _exec(self, ref: str, argv: Sequence[str], env: Sequence[str], user: str,
              workdir: str, *, streams: tuple[Any, Any, Any]) -> tuple[int, bytes, bytes]:
        lxc = _lxc()
        state = self.find(ref)
        if not state["State"]["Running"]:
            raise ConflictError(f"Container {state['Id']} is not running", status=409)
        c = self.container(state["Name"])
        environment = list(state["Config"].get("Env") or ()) + list(env)
        # As the engine: an exec runs as the container's user unless told otherwise.
        user = user or str(state["Config"].get("User") or "")
        uid, gid = self.resolve_user(state, user) if user else (-1, -1)
        cwd = workdir or str(state["Config"].get("WorkingDir") or "/")
        stdin, stdout, stderr = streams
        kwargs: dict[str, Any] = dict(
            stdin=stdin, stdout=stdout, stderr=stderr, env_policy=lxc.LXC_ATTACH_CLEAR_ENV,
            extra_env_vars=environment, initial_cwd=cwd)
        if uid >= 0:
            kwargs.update(uid=uid, gid=gid)
        status = c.attach_wait(lxc.attach_run_command, list(argv), **kwargs)
        if status < 0:
            raise EngineError(f"exec in {state['Name']} failed")
        code = os.waitstatus_to_exitcode(status) if status > 255 or status == 0 else status
        return code, b"", b""

    # -- networks

    def network_path(self, name: str) -> str:
        return os.path.join(self.networks_dir, name + ".json")

    def networks(self) -> list[dict[str, Any]]:
        out = []
        for entry in sorted(os.listdir(self.networks_dir)):
            if entry.endswith(".json"):
                out.append(_read_json(os.path.join(self.networks_dir, entry)))
        return out

    def network(self, ref: str) -> dict[str, Any]:
        path = self.network_path(ref)
        if os.path.exists(path):
            data: dict[str, Any] = _read_json(path)
            return data
        for network in self.networks():
            if network["Id"] == ref or (len(ref) >= 4 and network["Id"].startswith(ref)):
                return network
        raise NotFoundError(f"network {ref} not found", kind="network", name=ref)

    def create_network(self, name: str, body: Mapping[str, Any]) -> str:
        with self.locked():
            if os.path.exists(self.network_path(name)):
                raise ConflictError(f"network with name {name} already exists")
            used = {ipaddress.ip_network(n["Subnet"]) for n in self.networks()}
            configs = ((body.get("IPAM") or {}).get("Config") or [])
            subnet = configs[0].get("Subnet") if configs else None
            found = ipaddress.ip_network(subnet, strict=False) if subnet else next(
                (s for s in POOL.subnets(new_prefix=24) if s not in used), None)
            if found is None:
                raise EngineError("no free subnet left for a network")
            net = found
            gateway = (configs[0].get("Gateway") if configs else None) or \
                str(next(net.hosts()))
            ident = secrets.token_hex(32)
            bridge = "clx" + hashlib.sha256(name.encode()).hexdigest()[:10]
            _run("ip", "link", "add", bridge, "type", "bridge")
            try:
                _run("ip", "addr", "add", f"{gateway}/{net.prefixlen}", "dev", bridge)
                _run("ip", "link", "set", bridge, "up")
                if not body.get("Internal"):
                    _iptables("-t", "nat", "-A", "POSTROUTING", "-s", str(net), "!", "-o",
                              bridge, "-j", "MASQUERADE")
                _iptables("-I", "FORWARD", "-i", bridge, "-j", "ACCEPT")
                _iptables("-I", "FORWARD", "-o", bridge, "-j", "ACCEPT")
            except EngineError:
                subprocess.run(["ip", "link", "del", bridge], capture_output=True)
                raise
            _write_json(self.network_path(name), {
                "Id": ident, "Name": name, "Created": now_rfc3339(), "Driver": "bridge",
                "Scope": "local", "Labels": dict(body.get("Labels") or {}),
                "Subnet": str(net), "Gateway": gateway, "Bridge": bridge,
                "Internal": bool(body.get("Internal")), "Allocated": {}})
        with contextlib.suppress(OSError):
            with open("/proc/sys/net/ipv4/ip_forward", "w") as handle:
                handle.write("1")
        return ident

    def remove_network(self, ref: str) -> None:
        with self.locked():
            network = self.network(ref)
            users = [st["Name"] for st in self.states()
                     if network["Name"] in st["Networks"] and st["State"]["Running"]]
            if users:
                raise ConflictError(f"error while removing network: network "
                                    f"{network['Name']} id {network['Id']} has active "
                                    "endpoints")
            bridge, net = network["Bridge"], network["Subnet"]
            subprocess.run(["ip", "link", "del", bridge], capture_output=True)
            if not network.get("Internal"):
                _iptables("-t", "nat", "-D", "POSTROUTING", "-s", net, "!", "-o", bridge,
                          "-j", "MASQUERADE", check=False)
            _iptables("-D", "FORWARD", "-i", bridge, "-j", "ACCEPT", check=False)
            _iptables("-D", "FORWARD", "-o", bridge, "-j", "ACCEPT", check=False)
            os.remove(self.network_path(network["Name"]))

    def _allocate(self, network: dict[str, Any], ident: str) -> str:
        allocated: dict[str, str] = network.setdefault("Allocated", {})
        for address, owner in allocated.items():
            if owner == ident:
                return address
        taken = set(allocated) | {network["Gateway"]}
        for host in ipaddress.ip_network(network["Subnet"]).hosts():
            if str(host) not in taken:
                allocated[str(host)] = ident
                _write_json(self.network_path(network["Name"]), network)
                return str(host)
        raise EngineError(f"no address left in network {network['Name']}")

    def _release(self, network: dict[str, Any], ident: str) -> None:
        allocated: dict[str, str] = network.get("Allocated") or {}
        network["Allocated"] = {a: o for a, o in allocated.items() if o != ident}
        _write_json(self.network_path(network["Name"]), network)

    # -- published ports

    def _ports_in_use(self, state: Mapping[str, Any]) -> set[int]:
        """The host ports the other running containers of ours forward."""
        return {int(b["HostPort"]) for other in self.states() if other["Id"] != state["Id"]
                and other["State"].get("Running")
                for hosts in (other.get("Ports") or {}).values() for b in hosts or ()
                if str(b.get("HostPort") or "").isdigit()}

    def forward(self, state: dict[str, Any], taken: set[int]) -> None:
        """DNAT rules for the published ports (to the first network's address);
        ``taken``: the host ports in use (an ephemeral one is chosen outside them)."""
        bindings = state["HostConfig"].get("PortBindings") or {}
        addresses = [e["IPAddress"] for e in state["Networks"].values() if e.get("IPAddress")]
        if not bindings or not addresses:
            return
        rules: list[list[str]] = []
        taken = set(taken)
        published: dict[str, list[dict[str, str]]] = {}
        for port, hosts in bindings.items():
            number, _, proto = str(port).partition("/")
            for binding in hosts or ():
                host_port = _host_port(str(binding.get("HostPort") or ""), proto or "tcp",
                                       str(binding.get("HostIp") or ""), taken, str(port))
                taken.add(int(host_port))
                published.setdefault(str(port), []).append(
                    {"HostIp": str(binding.get("HostIp") or "0.0.0.0"), "HostPort": host_port})
                target = f"{addresses[0]}:{number}"
                match = ["-p", proto or "tcp", "--dport", host_port]
                if binding.get("HostIp") and binding["HostIp"] not in ("0.0.0.0", "::"):
                    match = ["-d", binding["HostIp"], *match]
                rules.append(["-t", "nat", "-A", "PREROUTING", *match, "-j", "DNAT",
                              "--to-destination", target])
                rules.append(["-t", "nat", "-A", "OUTPUT", *match, "-j", "DNAT",
                              "--to-destination", target])
        rules.append(["-t", "nat", "-A", "POSTROUTING", "-d", addresses[0], "-j",
                      "MASQUERADE"])
        with contextlib.suppress(OSError):
            with open("/proc/sys/net/ipv4/conf/all/route_localnet", "w") as handle:
                handle.write("1")
        for rule in rules:
            _iptables(*rule)
        state["Forwards"] = rules
        state["Ports"] = published  # as NetworkSettings.Ports: the host ports in use
        self.save(state)

    def _check_ports(self, state: Mapping[str, Any], taken: set[int]) -> None:
        """Refuse the start, as the engine does, when a host port asked for is in use
        (something listens there, or another container of ours forwards it)."""
        for port, hosts in (state["HostConfig"].get("PortBindings") or {}).items():
            proto = str(port).partition("/")[2] or "tcp"
            for binding in hosts or ():
                asked = str(binding.get("HostPort") or "")
                host_ip = str(binding.get("HostIp") or "") or "0.0.0.0"
                if asked.isdigit() and (int(asked) in taken
                                        or not _free(int(asked), proto, host_ip)):
                    raise EngineError(f"driver failed programming external connectivity: "
                                      f"Bind for {host_ip}:{asked} failed: port is already "
                                      "allocated")

    def unforward(self, state: dict[str, Any]) -> None:
        for rule in state.get("Forwards") or ():
            _iptables(*[("-D" if part == "-A" else part) for part in rule], check=False)
        state["Forwards"] = []
        state["Ports"] = {}

    # -- volumes

    def volume_path(self, name: str) -> str:
        return os.path.join(self.volumes_dir, name, "_data")

    def volumes(self) -> list[dict[str, Any]]:
        out = []
        for name in sorted(os.listdir(self.volumes_dir)):
            path = os.path.join(self.volumes_dir, name, "volume.json")
            if os.path.exists(path):
                out.append(_read_json(path))
        return out

    def volume(self, name: str) -> dict[str, Any]:
        path = os.path.join(self.volumes_dir, name, "volume.json")
        try:
            data: dict[str, Any] = _read_json(path)
        except FileNotFoundError:
            raise NotFoundError(f"get {name}: no such volume", kind="volume",
                                name=name) from None
        return data

    def create_volume(self, name: str, body: Mapping[str, Any]) -> str:
        path = os.path.join(self.volumes_dir, name, "volume.json")
        if os.path.exists(path):
            return name
        os.makedirs(self.volume_path(name), exist_ok=True)
        _write_json(path, {"Name": name, "Driver": "local", "Mountpoint": self.volume_path(name),
                           "Labels": dict(body.get("Labels") or {}),
                           "CreatedAt": now_rfc3339()})
        return name

    def remove_volume(self, name: str) -> None:
        self.volume(name)
        for state in self.states():
            sources = [str(m.get("Source")) for m in state["HostConfig"].get("Mounts") or ()]
            sources += [str(b).split(":")[0] for b in state["HostConfig"].get("Binds") or ()]
            if name in sources:
                raise EngineError(f"remove {name}: volume is in use - [{state['Id']}]")
        shutil.rmtree(os.path.join(self.volumes_dir, name), ignore_errors=True)


#: The capabilities a Docker container has unless told otherwise (moby's
#: oci/caps/defaults.go).
DEFAULT_CAPABILITIES = frozenset({
    "chown", "dac_override", "fsetid", "fowner", "mknod", "net_raw", "setgid", "setuid",
    "setfcap", "setpcap", "net_bind_service", "sys_chroot", "kill", "audit_write"})
#: Every capability LXC knows by name (for ``cap_add: [ALL]``).
ALL_CAPABILITIES = frozenset({
    "audit_control", "audit_read", "audit_write", "block_suspend", "bpf", "checkpoint_restore",
    "chown", "dac_override", "dac_read_search", "fowner", "fsetid", "ipc_lock", "ipc_owner",
    "kill", "lease", "linux_immutable", "mac_admin", "mac_override", "mknod", "net_admin",
    "net_bind_service", "net_broadcast", "net_raw", "perfmon", "setfcap", "setgid", "setpcap",
    "setuid", "sys_admin", "sys_boot", "sys_chroot", "sys_module", "sys_nice", "sys_pacct",
    "sys_ptrace", "sys_rawio", "sys_resource", "sys_time", "sys_tty_config", "syslog",
    "wake_alarm"})


def capabilities(add: Sequence[str], drop: Sequence[str]) -> set[str]:
    """Docker's rule: the default set, plus ``add``, minus ``drop`` (``ALL`` on
    either side: every capability; a drop of ALL keeps only what is added)."""
    def names(values: Sequence[str]) -> set[str]:
        return {str(v).lower().removeprefix("cap_") for v in values}

    added, dropped = names(add), names(drop)
    kept = set(DEFAULT_CAPABILITIES)
    if "all" in dropped:
        kept = set()
    kept -= dropped
    kept |= ALL_CAPABILITIES if "all" in added else (added & ALL_CAPABILITIES)
    return kept


def _iptables(*args: str, check: bool = True) -> None:
    out = subprocess.run(["iptables", "-w", *args], capture_output=True, text=True)
    if check and out.returncode != 0:
        raise EngineError(f"iptables {' '.join(args)}: {out.stderr.strip()}")


#: How long the exit code of a removed container is kept for whoever waits on it.
TOMBSTONE_SECONDS = 600

#: Where a published port without a host port gets one (Linux's ephemeral range,
#: as Docker's port allocator uses).
EPHEMERAL_PORTS = (32768, 60999)


def _free(port: int, proto: str, host_ip: str) -> bool:
    kind = socket.SOCK_DGRAM if proto == "udp" else socket.SOCK_STREAM
    with socket.socket(socket.AF_INET, kind) as probe:
        try:
            probe.bind((host_ip if host_ip not in ("", "0.0.0.0", "::") else "", port))
        except OSError:
            return False
    return True


def _host_port(asked: str, proto: str, host_ip: str, taken: set[int], port: str) -> str:
    """The host port of a binding: ``asked`` when it is one, else a free one of the
    range it names (``8000-8010``), else of the ephemeral range (as Docker does);
    free meaning nothing on the host listens there and no other container of ours
    forwards it."""
    if asked.isdigit():
        return asked
    low, high = EPHEMERAL_PORTS
    if asked:
        first, _, last = asked.partition("-")
        if not (first.isdigit() and last.isdigit()):
            raise EngineError(f"port {port}: invalid host port {asked!r}")
        low, high = int(first), int(last)
    start = low + secrets.randbelow(high - low + 1) if not asked else low
    for candidate in [*range(start, high + 1), *range(low, start)]:
        if candidate not in taken and _free(candidate, proto, host_ip):
            return str(candidate)
    raise EngineError(f"port {port}: no free host port in {low}-{high}")


def _device_items(device: Mapping[str, Any], v2: bool) -> list[tuple[str, str]]:
    """LXC config for one of ``devices:``: the host's node bound at its path in the
    container, and the cgroup rule that lets the container use it (its
    ``CgroupPermissions``, ``rwm`` by default)."""
    source = str(device.get("PathOnHost") or "")
    target = str(device.get("PathInContainer") or source)
    try:
        info = os.stat(source)
    except OSError as exc:
        raise EngineError(f'error gathering device information while adding custom device '
                          f'"{source}": {exc.strerror.lower() if exc.strerror else exc}'
                          ) from None
    if stat_module.S_ISCHR(info.st_mode):
        kind = "c"
    elif stat_module.S_ISBLK(info.st_mode):
        kind = "b"
    else:
        raise EngineError(f'error gathering device information while adding custom device '
                          f'"{source}": not a device node')
    rule = (f"{kind} {os.major(info.st_rdev)}:{os.minor(info.st_rdev)} "
            f"{device.get('CgroupPermissions') or 'rwm'}")
    return [("lxc.cgroup2.devices.allow" if v2 else "lxc.cgroup.devices.allow", rule),
            ("lxc.mount.entry",
             f"{source} {target.lstrip('/')} none bind,create=file 0 0")]


def _signal_number(name: str) -> int:
    text = str(name).upper()
    if text.isdigit():
        return int(text)
    if not text.startswith("SIG"):
        text = "SIG" + text
    try:
        return int(getattr(signal_module, text))
    except AttributeError:
        raise EngineError(f"invalid signal: {name}") from None


def _relays(wrapper: int) -> list[int]:
    """The stderr relays (busybox ``awk``) among the wrapper's children."""
    out = []
    for child in _children(wrapper):
        with contextlib.suppress(OSError):
            with open(f"/proc/{child}/cmdline", "rb") as handle:
                if handle.read().startswith(b"/.composer/busybox\0awk\0"):
                    out.append(child)
    return out


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="utf-8") as handle:
            return [int(p) for p in handle.read().split()]
    except OSError:
        return []


def _exists(host: LxcHost, state: Mapping[str, Any], program: str) -> bool:
    """Whether ``program`` could be found in the container (best effort)."""
    if "/" in program:
        candidates = [program]
    else:
        candidates = [f"{d}/{program}" for d in ("/usr/local/sbin", "/usr/local/bin",
                                                  "/usr/sbin", "/usr/bin", "/sbin", "/bin")]
    upper = os.path.join(host.container_dir(state["Name"]), "upper")
    for candidate in candidates:
        for base in (upper, state["Rootfs"]):
            if os.path.lexists(base + candidate):
                return True
    return False


def wait_stopped(host: LxcHost, ref: str, interval: float = 0.1) -> int:
    """Block until the container is not running (after a run, for one created and
    not started yet); its exit code (see :func:`exit_code_if_stopped`)."""
    while True:
        code = exit_code_if_stopped(host, ref)
        if code is not None:
            return code
        time.sleep(interval)


def exit_code_if_stopped(host: LxcHost, ref: str) -> int | None:
    """One look: the container's exit code once a run has ended (None: it runs, or
    was created and not started yet). A container created with ``AutoRemove``
    (``run --rm``) is removed then, as the engine does; one removed meanwhile by
    another look still gives its code."""
    try:
        state = host.find(ref)
    except NotFoundError:
        code = host.exit_code_of_removed(ref)  # run --rm: removed by another look
        if code is None:
            raise
        return code
    run = state["State"]
    if run["Running"] or run["Status"] == "created":
        return None
    if state["HostConfig"].get("AutoRemove"):
        with contextlib.suppress(NotFoundError):
            host.remove(state["Name"], force=False)
    return int(run["ExitCode"])
