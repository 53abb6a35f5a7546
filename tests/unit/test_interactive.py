"""exec/run/attach/events/wait/cp/stats without an engine: the byte pump over a socket
pair, the one-off service the run flags make, event and stats rendering, the argument
parsing (COMMAND keeps its own flags) and the cp archive rules."""

from __future__ import annotations

import io
import os
import socket
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from composer.backends.base import RawStream
from composer.backends.docker.convert import stats_sample
from composer.backends.frames import FrameDecoder
from composer.cli import stats_table
from composer.cli.container_cmds import _split_cp, event_json, event_text, go_time
from composer.cli.main import _global_parser
from composer.errors import UsageError
from composer.model.project import Project, ServiceConfig
from composer.plan.run import OneOffOptions as RunOptions
from composer.plan.run import oneoff_service, parse_port, parse_volume
from composer.runtime.copying import _archive, _extract
from composer.runtime.stream import pump


def frame(stream: int, data: bytes) -> bytes:
    return bytes([stream, 0, 0, 0]) + len(data).to_bytes(4, "big") + data


# -- the pump ----------------------------------------------------------------------------------


def test_frame_decoder_splits_frames_fed_in_arbitrary_pieces() -> None:
    out: list[bytes] = []
    err: list[bytes] = []
    decoder = FrameDecoder()
    data = frame(1, b"hello\n") + frame(2, b"oops\n") + frame(1, b"")
    for i in range(0, len(data), 3):
        for stream, payload in decoder.feed(data[i:i + 3]):
            (err if stream == "stderr" else out).append(payload)
    assert b"".join(out) == b"hello\n"
    assert b"".join(err) == b"oops\n"
    assert decoder.pending == 0


def _engine_side(sock: socket.socket, reply: bytes, received: list[bytes]) -> None:
    """A fake engine: read stdin until the client half-closes, then answer and close."""
    data = b""
    while chunk := sock.recv(1024):
        data += chunk
    received.append(data)
    sock.sendall(reply)
    sock.close()


@pytest.mark.parametrize("multiplexed", [True, False])
def test_pump_forwards_stdin_half_closes_at_eof_and_writes_output(multiplexed: bool) -> None:
    ours, theirs = socket.socketpair()
    reply = frame(1, b"OUT") + frame(2, b"ERR") if multiplexed else b"raw tty bytes"
    received: list[bytes] = []
    engine = threading.Thread(target=_engine_side, args=(theirs, reply, received))
    engine.start()
    read_fd, write_fd = os.pipe()
    os.write(write_fd, b"typed input\n")
    os.close(write_fd)  # end of input
    out: list[bytes] = []
    err: list[bytes] = []
    pump(RawStream(ours, multiplexed=multiplexed), stdin_fd=read_fd, out=out.append,
         err=err.append)
    engine.join(5)
    os.close(read_fd)
    assert received == [b"typed input\n"]
    if multiplexed:
        assert (b"".join(out), b"".join(err)) == (b"OUT", b"ERR")
    else:
        assert (b"".join(out), err) == (b"raw tty bytes", [])


# -- the one-off service -----------------------------------------------------------------------


PROJECT: dict[str, Any] = {
    "name": "proj",
    "services": {
        "web": {
            "image": "busybox", "command": ["sleep", "1"], "restart": "always",
            "container_name": "fixed", "environment": {"A": "1"},
            "ports": [{"mode": "ingress", "target": 80, "protocol": "tcp"}],
            "deploy": {"restart_policy": {"condition": "any"}},
        },
    },
}


MODEL = Project.from_dict(PROJECT)


def test_oneoff_service_name_drops_restart_and_ports_and_applies_flags() -> None:
    service = oneoff_service(
        MODEL, RunOptions(service="web", command=("echo", "hi"), environment=(
            "B=2", "FROM_HOST", "UNSET"), labels={"l": "v"}, user="nobody", workdir="/w",
            tty=True), environment={"FROM_HOST": "h"}, working_dir="/p", slug="ab" * 32)
    # the declared container_name is not used
    assert service.container_name == "proj-web-run-" + "ab" * 6
    assert service.command == ("echo", "hi")
    assert service.environment == {"A": "1", "B": "2", "FROM_HOST": "h"}
    assert service.labels == {"l": "v"}
    assert (service.user, service.working_dir, service.tty) == ("nobody", "/w", True)
    assert service.restart is None
    assert service.deploy is not None and service.deploy.restart_policy is None
    assert service.ports == ()
    assert MODEL.services["web"].restart == "always"  # the project is left alone


def test_oneoff_service_ports_entrypoint_and_volumes() -> None:
    service = oneoff_service(
        MODEL, RunOptions(service="web", entrypoint=["sh"], service_ports=True,
                          volumes=("./data:/data:ro", "named:/n"), name="custom"),
        environment={}, working_dir="/p", slug="0" * 64)
    assert service.container_name == "custom"
    assert service.entrypoint == ("sh",) and service.command == ()
    assert service.ports == MODEL.services["web"].ports
    assert service.volumes == ServiceConfig.from_dict({"volumes": [
        {"type": "bind", "source": "/p/data", "target": "/data",
         "bind": {"create_host_path": True}, "read_only": True},
        {"type": "volume", "source": "named", "target": "/n", "volume": {}},
    ]}).volumes


def test_oneoff_service_unknown_service() -> None:
    with pytest.raises(UsageError, match="no such service: nope"):
        oneoff_service(MODEL, RunOptions(service="nope"), environment={}, working_dir="/",
                       slug="0" * 64)


@pytest.mark.parametrize(("value", "expected"), [
    ("80", [{"mode": "ingress", "target": 80, "protocol": "tcp"}]),
    ("8080:80/udp", [{"mode": "ingress", "target": 80, "protocol": "udp",
                      "published": "8080"}]),
    ("127.0.0.1::80", [{"mode": "ingress", "target": 80, "protocol": "tcp",
                        "host_ip": "127.0.0.1"}]),
    ("9000-9001:80-81", [
        {"mode": "ingress", "target": 80, "protocol": "tcp", "published": "9000"},
        {"mode": "ingress", "target": 81, "protocol": "tcp", "published": "9001"}]),
])
def test_parse_port(value: str, expected: list[dict[str, Any]]) -> None:
    assert parse_port(value) == expected


@pytest.mark.parametrize("value", ["abc", "80/xyz", "a:b:c:d"])
def test_parse_port_rejects(value: str) -> None:
    with pytest.raises(UsageError, match="invalid port"):
        parse_port(value)


def test_parse_volume_anonymous_and_bad() -> None:
    assert parse_volume("/data", "/p") == {"type": "volume", "target": "/data", "volume": {}}
    with pytest.raises(UsageError):
        parse_volume("a::b:c", "/p")


# -- events ------------------------------------------------------------------------------------


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    import time

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("utc")
def test_event_text_and_json_as_v2_prints_them() -> None:
    nanos = 1_795_000_000_123_456_700
    attrs = {"name": "p-a-1", "image": "busybox:latest", "exitCode": "3"}
    assert event_text(nanos, "die", "abc", attrs) == (
        "2026-11-18 11:06:40.123456 container die abc "
        "(exitCode=3, image=busybox:latest, name=p-a-1)\n\n")
    assert event_json(nanos, "die", "abc", "a", attrs) == (
        '{"action":"die","attributes":{"exitCode":"3","image":"busybox:latest",'
        '"name":"p-a-1"},"id":"abc","service":"a","time":"2026-11-18T11:06:40.1234567Z",'
        '"type":"container"}\n')
    assert go_time(1_795_000_000_000_000_000) == "2026-11-18T11:06:40Z"


# -- stats -------------------------------------------------------------------------------------


def test_stats_units_as_go_units() -> None:
    assert stats_table.bytes_size(331776) == "324KiB"
    assert stats_table.bytes_size(25_275_000_000) == "23.54GiB"
    assert stats_table.bytes_size(0) == "0B"
    assert stats_table.human_size(1630) == "1.63kB"
    assert stats_table.human_size(0) == "0B"


def test_stats_row_and_table_from_an_engine_sample() -> None:
    sample = {
        "cpu_stats": {"cpu_usage": {"total_usage": 3_000}, "system_cpu_usage": 100_000,
                      "online_cpus": 2},
        "precpu_stats": {"cpu_usage": {"total_usage": 1_000}, "system_cpu_usage": 50_000},
        "memory_stats": {"usage": 2048 * 1024, "limit": 8 * 1024 ** 3,
                         "stats": {"inactive_file": 1024 * 1024}},
        "networks": {"eth0": {"rx_bytes": 1630, "tx_bytes": 0}},
        "blkio_stats": {"io_service_bytes_recursive": [{"op": "read", "value": 4096},
                                                       {"op": "write", "value": 0}]},
        "pids_stats": {"current": 3},
    }
    row = stats_table.row("a" * 64, "p-web-1", stats_sample(sample))
    assert row.cpu == pytest.approx(8.0)
    text = stats_table.table([row])
    assert text.splitlines() == [
        "CONTAINER ID   NAME      CPU %     MEM USAGE / LIMIT   MEM %     NET I/O       "
        "BLOCK I/O    PIDS",
        "aaaaaaaaaaaa   p-web-1   8.00%     1MiB / 8GiB         0.01%     1.63kB / 0B   "
        "4.1kB / 0B   3",
    ]


# -- arguments ---------------------------------------------------------------------------------


def test_exec_and_run_keep_the_commands_own_flags() -> None:
    args = _global_parser().parse_args(
        ["exec", "-T", "-e", "A=1", "web", "sh", "-c", "echo -T -e"])
    assert (args.service, args.argv, args.no_tty, args.env) == (
        "web", ["sh", "-c", "echo -T -e"], True, ["A=1"])
    args = _global_parser().parse_args(["run", "--rm", "-p", "80", "web", "ls", "-la"])
    assert (args.service, args.argv, args.rm, args.publish) == ("web", ["ls", "-la"], True,
                                                                 ["80"])


def test_flags_before_the_service_take_no_service_name() -> None:
    args = _global_parser().parse_args(["run", "-i", "web", "sh"])
    assert (args.service, args.argv) == ("web", ["sh"])
    args = _global_parser().parse_args(["attach", "--sig-proxy=false", "--no-stdin", "web"])
    assert (args.service, args.sig_proxy, args.no_stdin) == ("web", "false", True)


def test_cp_arguments() -> None:
    assert _split_cp("web:/etc/hosts") == ("web", "/etc/hosts")
    assert _split_cp("./web:x") == (None, "./web:x")
    assert _split_cp("local") == (None, "local")
    assert _split_cp("-") == (None, "-")


# -- cp archives -------------------------------------------------------------------------------


def test_archive_then_extract_renames_the_root(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "sub" / "f").write_text("x")
    data = _archive(str(src), "renamed", archive=False, follow_link=False)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        assert sorted(m.name for m in tar) == ["renamed", "renamed/sub", "renamed/sub/f"]
        assert {m.uid for m in tar} == {0}
    dest = tmp_path / "dest"
    dest.mkdir()
    _extract(data, str(dest), "renamed", "again")
    assert (dest / "again" / "sub" / "f").read_text() == "x"
