"""Readiness probes: whether a container is ready by its ``x-composer-ready`` rules.

The probes are declared as frozen data in the plan (:class:`TcpProbe`,
:class:`HttpProbe`, :class:`LogProbe`, re-exported here); each kind has one
check here (:func:`check_tcp`, :func:`check_http`, :func:`check_log`, through
:meth:`Prober.check`), which answers a :class:`ProbeResult`: passed, or not
yet with the last error, or cannot run where the container is.
:func:`wait_ready` repeats them until all have passed. Everything goes through
the :class:`~composer.backends.base.Backend` protocol (``inspect_container``
for addresses, ``logs`` for lines, ``exec_run`` and a helper container for
checks from inside a container's network namespace), so the probes work on any
engine and on the in-memory one.

What each probe means
---------------------
* **tcp** ``port``: the port accepts a TCP connection on the container's own
  address (its IP on one of its networks; ``127.0.0.1`` with ``network_mode:
  host``). From inside the container's namespace: a socket listens on the port,
  bound to a wildcard address or to one of the container's addresses (any
  address when the container has none, as with ``network_mode: none``).
* **http** ``port``, ``path``, ``status``: a ``GET path`` (HTTP/1.0) to the
  container's address answers with ``status``; redirects are not followed.
* **log** ``pattern``, ``count``: ``count`` lines of the container's output
  (stdout and stderr), written since its last start, match ``pattern``, a
  Python regular expression searched in each line (so plain words match as a
  substring).

Never through a published port
------------------------------
A port published on the host is answered by the engine's userland proxy
whether or not the container listens, so a probe of it says nothing. Probes
connect to the container's own address, or run inside its network namespace.
Composer connects directly only when it knows the address is on this machine's
own networks (:meth:`Prober.direct_addresses`):

1. the engine is on this machine (:func:`engine_is_local`: its address is a
   unix socket, a named pipe, ``fd://``, ``memory://``, or a ``tcp://``/``ssh://``
   host that is one of this machine's addresses);
2. the engine is not rootless (:meth:`Backend.is_rootless`): a rootless Podman's
   or Docker's networks live in a namespace of its own, which this machine's
   routes do not lead to (a rootful network may have the same subnet);
3. the container's address is on a network attached to this machine
   (:func:`on_link`: the kernel's route to it has no gateway, as a Docker bridge
   has; read from ``/proc/net/route``, so never on an OS without it, such as
   macOS with Docker Desktop's VM). A transparent proxy or a VPN on the way can
   accept any connection; a route through a gateway is therefore not trusted.
4. a direct connection that is refused (``ECONNREFUSED``, a reset) is the
   container's own answer: not ready. One that gets no answer in time, or no
   route (``EHOSTUNREACH``, ``ENETUNREACH``...), means composer cannot route to
   it: that container is probed from inside its namespace from then on.

Inside the namespace, **tcp** reads the listening sockets from
``/proc/net/tcp`` and ``/proc/net/tcp6`` with ``cat`` run in the container
itself (an exec), and **http** sends its request with ``nc``; both run in a
helper container when the container has no ``cat`` (and always for http): a
short-lived container of ``probe_image`` (default ``busybox:latest``; it needs
``sleep``, ``cat``, ``nc`` and ``timeout``) with ``network_mode:
container:<id>``. The image is never pulled: when it is not on the engine the
probe cannot run, and the wait fails at once with one line naming the service,
the probe and why. A helper sleeps no longer than its wait (plus a minute), the
engine removes it when it exits, and composer removes it when the wait ends.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import re
import secrets
import socket
import sys
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlsplit

import anyio
import anyio.abc

from composer.backends.base import Backend, ContainerInfo, ExecConfig
from composer.errors import ComposerError, NotReadyError
from composer.frozen import frozen
from composer.plan.shared import DEFAULT_PROBE_IMAGE, DEFAULT_READY_TIMEOUT
from composer.plan.steps import (
    AnyProbe,
    ExecProbe,
    HttpProbe,
    LogProbe,
    ReadinessProbe,
    TcpProbe,
)
from composer.runtime.errors import WaitError

__all__ = [
    "CHECKS",
    "DEFAULT_PROBE_IMAGE",
    "HELPER_GRACE",
    "HELPER_LABEL",
    "HttpProbe",
    "LogProbe",
    "NotReadyError",
    "ProbeResult",
    "Prober",
    "ReadinessProbe",
    "Route",
    "TcpProbe",
    "check_http",
    "check_log",
    "check_tcp",
    "engine_is_local",
    "listening_sockets",
    "on_link",
    "wait_ready",
]

#: Seconds a direct connection may take before composer decides it cannot route.
CONNECT_TIMEOUT = 1.0
#: Seconds an HTTP answer's status line may take once connected.
ANSWER_TIMEOUT = 3.0
#: A helper outlives the wait it serves by at most this many seconds (if composer dies).
HELPER_GRACE = 60
#: Label on helper containers: the container they probe.
HELPER_LABEL = "dev.composer.readiness-probe-for"

#: How probes reach a container: ``auto`` (directly where composer can route,
#: else from inside its namespace), ``address`` (always directly), ``namespace``
#: (always from inside).
Route = Literal["auto", "address", "namespace"]

#: Opens a TCP connection (``anyio.connect_tcp`` by default): tests give their own.
Connector = Callable[[str, int], Awaitable[anyio.abc.ByteStream]]


@frozen(slots=True)
class ProbeResult:
    """One check of one probe: ``ok``; else ``detail`` says what failed last
    (``connection refused at 172.18.0.2:5432``), and ``cannot_run`` that the
    probe cannot run where the container is (waiting longer will not help)."""

    ok: bool
    detail: str = ""
    cannot_run: bool = False


PASSED = ProbeResult(True)


class _CannotRun(Exception):
    """Raised inside a check: the probe cannot run here (the message says why)."""


# -- where the engine and the container are ----------------------------------------------------


def engine_is_local(address: str) -> bool:
    """Whether the engine at ``address`` runs on this machine: a unix socket, a
    named pipe, ``fd://``, ``memory://`` or ``lxc://`` (LXC is this machine's), or a ``tcp://``/``ssh://``/``http(s)://``
    address whose host is one of this machine's own addresses (loopback, or an
    address a socket can bind to here). May resolve a host name (blocking)."""
    if not address or address.startswith("/"):
        return True
    scheme = address.partition("://")[0].lower()
    if scheme in ("unix", "npipe", "fd", "memory", "http+unix", "lxc"):
        return True
    try:
        host = urlsplit(address).hostname
    except ValueError:
        return False
    if not host:
        return False
    try:
        found = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError:
        return False
    for family, _, _, _, sockaddr in found:
        ip = str(sockaddr[0])
        if ipaddress.ip_address(ip.split("%")[0]).is_loopback:
            return True
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            try:
                probe.bind((ip, 0))  # only this machine's own addresses can be bound
            except OSError:
                continue
            return True
    return False


_RTF_UP, _RTF_GATEWAY, _RTF_REJECT = 0x1, 0x2, 0x200


def on_link(ip: str, table: str | None = None) -> bool:
    """Whether this machine reaches ``ip`` on a network attached to it: the most
    specific route to it (Linux's main table, ``/proc/net/route``, or ``table``:
    that file's text) has no gateway. Loopback addresses always are; IPv6
    addresses and machines without that file never are."""
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return False
    if addr.is_loopback:
        return True
    if addr.version != 4:
        return False
    if table is None:
        try:
            with open("/proc/net/route", encoding="ascii") as f:
                table = f.read()
        except OSError:
            return False

    def network_order(field: str) -> int:  # the kernel prints a __be32 as a native int
        return int.from_bytes(int(field, 16).to_bytes(4, sys.byteorder), "big")

    best: tuple[int, int, int] | None = None  # prefix length, gateway, flags
    for line in table.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 8:
            continue
        try:
            dest, gateway = network_order(fields[1]), network_order(fields[2])
            flags, mask = int(fields[3], 16), network_order(fields[7])
        except ValueError:
            continue
        if not flags & _RTF_UP or int(addr) & mask != dest:
            continue
        length = bin(mask).count("1")
        if best is None or length > best[0]:
            best = (length, gateway, flags)
    return best is not None and best[1] == 0 and not best[2] & (_RTF_GATEWAY | _RTF_REJECT)


def _proc_address(field: str) -> set[str]:
    """An address of /proc/net/tcp{,6} (hex words in the kernel's byte order),
    read in both byte orders: the engine's machine may differ from this one."""
    raw = bytes.fromhex(field)
    words = [raw[i:i + 4] for i in range(0, len(raw), 4)]
    out: set[str] = set()
    for data in (b"".join(w[::-1] for w in words), raw):
        ip = ipaddress.ip_address(data)
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            out.add(str(ip.ipv4_mapped))
        out.add(str(ip))
    return out


def listening_sockets(text: str) -> list[tuple[set[str], int]] | None:
    """The listening TCP sockets in the text of ``/proc/net/tcp`` and
    ``/proc/net/tcp6``: (its address, in the readings :func:`_proc_address`
    gives, port). None when ``text`` holds no such table (no ``cat`` ran)."""
    if "local_address" not in text:
        return None
    out: list[tuple[set[str], int]] = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 4 or fields[3] != "0A" or ":" not in fields[1]:
            continue  # 0A: TCP_LISTEN
        address, _, port = fields[1].partition(":")
        try:
            out.append((_proc_address(address), int(port, 16)))
        except ValueError:
            continue
    return out


_WILDCARDS = frozenset({"0.0.0.0", "::"})


def _http_request(host: str, port: int, path: str) -> bytes:
    return (f"GET {path} HTTP/1.0\r\nHost: {host}:{port}\r\n"
            "User-Agent: composer-readiness\r\nAccept: */*\r\nConnection: close\r\n\r\n"
            ).encode()


_STATUS_LINE = re.compile(rb"^HTTP/\d(?:\.\d)?\s+(\d{3})")


def _status_of(answer: bytes) -> int | None:
    match = _STATUS_LINE.match(answer.lstrip())
    return int(match.group(1)) if match else None


def _unroutable(exc: BaseException) -> bool:
    """A failed connection that says nothing about the container: no route, or no
    answer (refusals and resets are the container's own answer)."""
    if isinstance(exc, TimeoutError):
        return True
    cause = exc.__cause__ if isinstance(exc, OSError) and exc.errno is None else exc
    if isinstance(cause, OSError) and cause.errno is not None:
        return cause.errno not in (errno.ECONNREFUSED, errno.ECONNRESET, errno.ECONNABORTED)
    return False


def _connected_to_itself(stream: anyio.abc.ByteStream) -> bool:
    """Whether a connection is TCP's self-connect: to a local port nothing listens on
    in the ephemeral range, the kernel may pick that very port as the source, and the
    connect succeeds with nobody at the other end (``network_mode: host``)."""
    try:
        local = stream.extra(anyio.abc.SocketAttribute.local_address)
        remote = stream.extra(anyio.abc.SocketAttribute.remote_address)
    except anyio.TypedAttributeLookupError:
        return False
    return bool(local == remote)


def _why(exc: BaseException, host: str, port: int) -> str:
    if isinstance(exc, TimeoutError):
        return f"no answer from {host}:{port}"
    cause = exc.__cause__ if isinstance(exc, OSError) and exc.errno is None else exc
    if isinstance(cause, OSError) and cause.errno is not None:
        return f"{os.strerror(cause.errno).lower()} at {host}:{port}"
    return f"{exc} at {host}:{port}"


_RFC3339 = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$")


def _unix_nanos(moment: str) -> int | None:
    """An RFC 3339 time (the engine's, with up to nanoseconds) in unix nanoseconds;
    None for none (empty, or Go's zero time ``0001-01-01T00:00:00Z``)."""
    match = _RFC3339.match(moment or "")
    if match is None or moment.startswith("0001-"):
        return None
    zone = "+00:00" if match.group(3) == "Z" else match.group(3)
    seconds = int(datetime.fromisoformat(match.group(1) + zone).timestamp())
    return seconds * 1_000_000_000 + int((match.group(2) or "").ljust(9, "0")[:9])


def _since(info: ContainerInfo) -> str | None:
    """The end of the container's previous run, in unix seconds (``logs``' ``since``),
    when it had one: its output from then on is its current run's."""
    finished, started = _unix_nanos(info.finished_at), _unix_nanos(info.started_at)
    if finished is None or (started is not None and finished >= started):
        return None
    seconds, nanos = divmod(finished, 1_000_000_000)
    return f"{seconds}.{nanos:09d}"


# -- the prober ----------------------------------------------------------------------------------


class Prober:
    """Runs probes against containers of one engine, and owns the helper
    containers it starts for in-namespace checks (removed by :meth:`aclose`;
    use it as an async context manager).

    ``probe_image`` is the helper's image (never pulled); ``route`` forces a way
    to reach containers (see :data:`Route`); ``connect`` replaces
    ``anyio.connect_tcp`` (tests); ``lifetime`` bounds a helper's life in
    seconds, should composer die before it removes it.
    """

    def __init__(self, backend: Backend, *, probe_image: str = DEFAULT_PROBE_IMAGE,
                 route: Route = "auto", connect: Connector | None = None,
                 connect_timeout: float = CONNECT_TIMEOUT,
                 answer_timeout: float = ANSWER_TIMEOUT,
                 lifetime: float = DEFAULT_READY_TIMEOUT + HELPER_GRACE) -> None:
        self.backend = backend
        self.probe_image = probe_image or DEFAULT_PROBE_IMAGE
        self.route = route
        self.connect_timeout = connect_timeout
        self.answer_timeout = answer_timeout
        self.lifetime = lifetime
        self._connect: Connector = connect or anyio.connect_tcp
        self._local: bool | None = None
        self._rootless: bool | None = None
        #: Containers composer found it cannot route to, with why.
        self.unroutable: dict[str, str] = {}
        self._helpers: dict[str, tuple[str, str]] = {}  # container id -> (its run, helper id)
        #: Containers without ``cat``: their sockets are read from a helper.
        self.no_cat: set[str] = set()

    async def __aenter__(self) -> Prober:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Remove the helper containers (even when cancelled)."""
        helpers = [helper for _, helper in self._helpers.values()]
        self._helpers.clear()
        with anyio.CancelScope(shield=True):
            for helper in helpers:
                try:
                    await self.backend.remove_container(helper, force=True)
                except ComposerError:
                    pass  # gone already (it removes itself when it exits)

    async def check(self, probe: ReadinessProbe, info: ContainerInfo) -> ProbeResult:
        """Check ``probe`` once against the running container ``info`` describes."""
        checker = CHECKS[type(probe)]
        try:
            return await checker(self, probe, info)
        except _CannotRun as exc:
            return ProbeResult(False, str(exc), cannot_run=True)
        except ComposerError as exc:  # an exec or a helper refused: try again later
            return ProbeResult(False, str(exc))

    # -- routes

    async def namespace_root(self, info: ContainerInfo) -> ContainerInfo:
        """The container whose network namespace ``info``'s container shares
        (``network_mode: container:<id>``, or ``service:``), else ``info``."""
        for _ in range(8):
            mode = info.network_mode
            if not mode.startswith("container:"):
                return info
            info = await self.backend.inspect_container(mode.partition(":")[2])
        return info

    async def engine_local(self) -> bool:
        """Whether the engine runs on this machine (:func:`engine_is_local`), once."""
        if self._local is None:
            self._local = await anyio.to_thread.run_sync(engine_is_local, self.backend.address)
        return self._local

    async def engine_rootless(self) -> bool:
        """Whether the engine runs rootless (:meth:`Backend.is_rootless`), once; an
        engine that cannot say is taken as rootful."""
        if self._rootless is None:
            try:
                self._rootless = await self.backend.is_rootless()
            except ComposerError:
                self._rootless = False
        return self._rootless

    async def direct_addresses(self, info: ContainerInfo) -> list[str]:
        """The addresses to connect to directly (``info`` is a namespace root), or
        none when the probe must run inside the container's namespace."""
        if self.route == "namespace" or info.id in self.unroutable:
            return []
        if info.network_mode == "host":
            addresses = ["127.0.0.1"]
        else:
            addresses = list(dict.fromkeys(info.ip_addresses.values()))
        if self.route == "address":
            return addresses
        if not addresses:
            self.unroutable.setdefault(info.id, "it has no network address")
            return []
        if not await self.engine_local():
            self.unroutable.setdefault(
                info.id, f"the engine at {self.backend.address} is on another machine")
            return []
        if await self.engine_rootless():
            # Its networks are in its own namespace: a route here to the same subnet
            # (a rootful network's) leads to other containers.
            self.unroutable.setdefault(
                info.id, "the engine is rootless: its networks are not this machine's")
            return []
        routed = [ip for ip in addresses if on_link(ip)]
        if not routed:
            self.unroutable.setdefault(
                info.id, f"its address {addresses[0]} is not on a network of this machine")
        return routed

    async def open(self, addresses: Sequence[str], port: int, info: ContainerInfo
                   ) -> tuple[anyio.abc.ByteStream | None, str]:
        """A connection to ``port`` on the first of ``addresses`` that accepts one;
        else None and why. When none of them answers at all, the container is
        marked unroutable (and the why is empty: probe from inside instead)."""
        refusals: list[str] = []
        unroutable: list[str] = []
        for host in addresses:
            try:
                with anyio.fail_after(self.connect_timeout):
                    stream = await self._connect(host, port)
            except (OSError, TimeoutError) as exc:
                (unroutable if _unroutable(exc) else refusals).append(_why(exc, host, port))
                continue
            if _connected_to_itself(stream):
                await stream.aclose()
                refusals.append(f"connection refused at {host}:{port}")
                continue
            return stream, ""
        if refusals:
            return None, refusals[0]
        self.unroutable[info.id] = unroutable[0] if unroutable else "no address"
        return None, ""

    # -- inside the namespace

    async def run_inside(self, info: ContainerInfo, command: Sequence[str], *,
                         input: bytes | None = None, own: bool = False
                         ) -> tuple[int, bytes, bytes]:
        """Run ``command`` in ``info``'s network namespace: in the container itself
        with ``own``, else in a helper container. Returns (exit code, stdout, stderr)."""
        target = info.id if own else await self.helper(info)
        result = await self.backend.exec_run(target, ExecConfig(tuple(command)), input=input)
        return result.exit_code, result.stdout, result.stderr

    async def helper(self, info: ContainerInfo) -> str:
        """The ID of a running helper container in ``info``'s network namespace
        (``info`` is a namespace root), started on first use and again after the
        container restarted."""
        run = info.started_at
        known = self._helpers.get(info.id)
        if known is not None and known[0] == run:
            return known[1]
        if known is not None:
            del self._helpers[info.id]
            try:
                await self.backend.remove_container(known[1], force=True)
            except ComposerError:
                pass
        if not await self.backend.image_exists(self.probe_image):
            why = self.unroutable.get(info.id) or "probes were asked to run inside it"
            raise _CannotRun(
                f"composer cannot reach container {info.name or info.id[:12]} from here "
                f"({why}), and the probe helper image {self.probe_image} is not on the engine "
                "(composer never pulls it: pull it, or set x-composer-ready.probe_image to an "
                "image there with sleep, cat, nc and timeout)")
        name = f"{info.name or info.id[:12]}-probe-{secrets.token_hex(3)}"
        body: Mapping[str, Any] = {
            "Image": self.probe_image,
            "Entrypoint": ["sleep"],
            "Cmd": [str(int(self.lifetime))],
            "Labels": {HELPER_LABEL: info.name or info.id},
            "HostConfig": {"NetworkMode": f"container:{info.id}", "AutoRemove": True},
        }
        helper = await self.backend.create_container(name, body)
        self._helpers[info.id] = (run, helper)
        await self.backend.start_container(helper)
        return helper


# -- one check per kind --------------------------------------------------------------------------


async def check_tcp(prober: Prober, probe: TcpProbe, info: ContainerInfo) -> ProbeResult:
    """Whether ``probe.port`` accepts connections on the container's address
    (directly), or has a listener there (from inside its namespace)."""
    root = await prober.namespace_root(info)
    addresses = await prober.direct_addresses(root)
    if addresses:
        stream, why = await prober.open(addresses, probe.port, root)
        if stream is not None:
            await stream.aclose()
            return PASSED
        if why:
            return ProbeResult(False, why)
    own_addresses = set(root.ip_addresses.values())
    text = b""
    if info.id not in prober.no_cat:
        _, text, _ = await prober.run_inside(info, ["cat", "/proc/net/tcp", "/proc/net/tcp6"],
                                             own=True)
    sockets = listening_sockets(text.decode("ascii", "replace"))
    if sockets is None:
        prober.no_cat.add(info.id)  # no cat in the container: ask a helper
        code, text, err = await prober.run_inside(root, ["cat", "/proc/net/tcp",
                                                         "/proc/net/tcp6"])
        sockets = listening_sockets(text.decode("ascii", "replace"))
        if sockets is None:
            raise _CannotRun(f"the probe helper {prober.probe_image} could not read "
                             f"/proc/net/tcp (exit {code}: "
                             f"{(text + err).decode(errors='replace').strip()[:200]})")
    for readings, port in sockets:
        if port == probe.port and (readings & _WILDCARDS or readings & own_addresses
                                   or not own_addresses):
            return PASSED
    where = ", ".join(sorted(own_addresses)) or "any address"
    return ProbeResult(False, f"nothing listens on port {probe.port} at {where} "
                              f"(read inside container {root.name or root.id[:12]})")


async def check_http(prober: Prober, probe: HttpProbe, info: ContainerInfo) -> ProbeResult:
    """Whether ``GET probe.path`` on ``probe.port`` of the container's address
    answers with ``probe.status`` (directly, or with ``nc`` from a helper in its
    namespace)."""
    root = await prober.namespace_root(info)
    addresses = await prober.direct_addresses(root)
    target = f"port {probe.port}"
    if addresses:
        stream, why = await prober.open(addresses, probe.port, root)
        if stream is None and why:
            return ProbeResult(False, why)
        if stream is not None:
            host = addresses[0]
            target = f"{host}:{probe.port}"
            answer = b""
            try:
                async with stream:
                    with anyio.move_on_after(prober.answer_timeout):
                        await stream.send(_http_request(host, probe.port, probe.path))
                        while b"\n" not in answer and len(answer) < 65536:
                            answer += await stream.receive()
            except (anyio.EndOfStream, anyio.BrokenResourceError, OSError):
                pass
            return _judge(probe, answer, target)
    host = next(iter(root.ip_addresses.values()), "127.0.0.1")
    code, out, err = await prober.run_inside(
        root, ["timeout", str(int(prober.answer_timeout) + 2), "nc", "-w",
               str(max(1, int(prober.connect_timeout))), host, str(probe.port)],
        input=_http_request(host, probe.port, probe.path))
    if code in (126, 127):
        raise _CannotRun(f"the probe helper {prober.probe_image} cannot run nc and timeout "
                         f"(exit {code}: {(out + err).decode(errors='replace').strip()[:200]})")
    if not out.strip():
        said = err.decode(errors="replace").strip().splitlines()
        return ProbeResult(False, (said[-1] if said else f"no answer (exit {code})")
                           + f" at {host}:{probe.port} (inside the container's namespace)")
    return _judge(probe, out, f"{host}:{probe.port}")


def _judge(probe: HttpProbe, answer: bytes, target: str) -> ProbeResult:
    status = _status_of(answer)
    if status == probe.status:
        return PASSED
    if status is None:
        return ProbeResult(False, f"no HTTP answer from {target}{probe.path}")
    return ProbeResult(False, f"HTTP {status} from {target}{probe.path}")


async def check_log(prober: Prober, probe: LogProbe, info: ContainerInfo) -> ProbeResult:
    """Whether ``probe.count`` lines of the container's output since its last start
    match ``probe.pattern`` (``re.search``, stdout and stderr)."""
    pattern = re.compile(probe.pattern)
    pending: dict[str, bytes] = {}
    found = 0
    async for stream, data in prober.backend.logs(info.id, follow=False, since=_since(info)):
        lines = (pending.get(stream, b"") + data).split(b"\n")
        pending[stream] = lines.pop()
        found += sum(1 for line in lines if pattern.search(_text(line)))
    found += sum(1 for rest in pending.values() if rest and pattern.search(_text(rest)))
    if found >= probe.count:
        return PASSED
    if not found:
        return ProbeResult(False, "no line matches yet")
    return ProbeResult(False, f"{found} of {probe.count} lines match so far")


async def check_exec(prober: Prober, probe: ExecProbe, info: ContainerInfo) -> ProbeResult:
    """Whether ``probe.command`` run in the container (no TTY) exits 0; else its
    exit code and the last line it wrote."""
    try:
        out = await prober.backend.exec_run(info.id, ExecConfig(command=probe.command))
    except ComposerError as exc:
        return ProbeResult(False, str(exc))
    if out.exit_code == 0:
        return PASSED
    last = (_text(out.stderr).strip() or _text(out.stdout).strip()).splitlines()[-1:]
    return ProbeResult(False, f"exited {out.exit_code}" + (f": {last[0]}" if last else ""))


async def check_any(prober: Prober, probe: AnyProbe, info: ContainerInfo) -> ProbeResult:
    """Whether any one of ``probe.probes`` passes now; else what each said."""
    results = [await prober.check(p, info) for p in probe.probes]
    if any(r.ok for r in results):
        return PASSED
    detail = "; ".join(f"{p}: {r.detail}" for p, r in zip(probe.probes, results, strict=True))
    return ProbeResult(False, detail, cannot_run=all(r.cannot_run for r in results))


def _text(line: bytes) -> str:
    return line.rstrip(b"\r").decode("utf-8", "replace")


Checker = Callable[[Prober, Any, ContainerInfo], Awaitable[ProbeResult]]

#: Probe type -> its check.
CHECKS: Mapping[type, Checker] = {
    TcpProbe: check_tcp,
    HttpProbe: check_http,
    LogProbe: check_log,
    ExecProbe: check_exec,
    AnyProbe: check_any,
}


# -- waiting -------------------------------------------------------------------------------------


async def wait_ready(backend: Backend, container: str, probes: Iterable[ReadinessProbe], *,
                     service: str = "", timeout: float = DEFAULT_READY_TIMEOUT,
                     began: float | None = None, interval: float = 0.5,
                     prober: Prober | None = None,
                     pause: Callable[[float], Awaitable[None]] | None = None) -> None:
    """Return once every probe of ``probes`` has passed on ``container`` since it
    last started.

    A probe that passed is not checked again during the same run of the container;
    a restart starts over. Checks repeat every ``interval`` seconds (``pause``,
    given the seconds, waits instead of ``anyio.sleep``: it may return early).
    Raises :class:`WaitError` when the container exits, and
    :class:`NotReadyError` when ``timeout`` seconds (counted from ``began``, an
    ``anyio.current_time()``, default now) pass first, or at once when a probe
    cannot run where the container is. ``prober`` (default: one of its own,
    closed on return) holds the helper containers.
    """
    wanted = list(dict.fromkeys(probes))
    deadline = (anyio.current_time() if began is None else began) + timeout
    own = prober is None
    runner = prober if prober is not None else Prober(backend, lifetime=timeout + HELPER_GRACE)
    passed: set[ReadinessProbe] = set()
    run: str | None = None
    last: tuple[ReadinessProbe | None, str] = (None, "the container has not started")
    name = container
    try:
        while True:
            info = await backend.inspect_container(container)
            name = info.name or info.id
            if info.state in ("exited", "dead"):
                raise WaitError(f"container {name} exited ({info.exit_code})")
            if info.state == "running":
                if info.started_at != run:
                    passed.clear()
                    run = info.started_at
                failed: tuple[ReadinessProbe | None, str] | None = None
                for probe in wanted:
                    if probe in passed:
                        continue
                    result = await runner.check(probe, info)
                    if result.ok:
                        passed.add(probe)
                        continue
                    if result.cannot_run:
                        raise NotReadyError(service=service or name, container=name,
                                            probe=probe, detail=result.detail,
                                            timeout=timeout, cannot_run=True)
                    failed = failed or (probe, result.detail)
                if failed is None:
                    return
                last = failed
            else:
                last = (None, f"the container is {info.state}")
            left = deadline - anyio.current_time()
            if left <= 0:
                raise NotReadyError(service=service or name, container=name, probe=last[0],
                                    detail=last[1], timeout=timeout)
            await (pause or anyio.sleep)(min(interval, left))
    finally:
        if own:
            await runner.aclose()
