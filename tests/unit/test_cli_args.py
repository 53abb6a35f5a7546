"""The engine commands' command line: flags as Docker Compose v2 spells them, the
values they turn into, and the usage errors v2 gives; plus the text the commands
print (tables, ports, durations), which scripts read. No engine needed."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import pytest

from composer.cli import render
from composer.cli.engine_cmds import (
    parse_filter,
    parse_scale,
    validate_format,
    validate_pull,
    validate_rmi,
)
from composer.cli.main import _global_parser
from composer.cli.progress import ProgressPrinter
from composer.errors import UsageError
from composer.runtime.progress import ProgressEvent


def parse(*argv: str) -> argparse.Namespace:
    return _global_parser().parse_args(list(argv))


# -- parsing -----------------------------------------------------------------------------------


def test_up_flags_take_v2_names_and_short_forms() -> None:
    ns = parse("-p", "demo", "up", "-d", "--no-start", "--scale", "web=3", "--scale", "db=0",
               "--no-deps", "--force-recreate", "--remove-orphans", "--wait",
               "--wait-timeout", "30", "-t", "5", "--pull", "never", "web", "db")
    assert ns.command == "up"
    assert ns.project_name == "demo"
    assert ns.detach and ns.no_start and ns.no_deps and ns.force_recreate
    assert ns.remove_orphans and ns.wait
    assert ns.wait_timeout == 30 and ns.timeout == 5
    assert ns.pull == "never"
    assert ns.scale == ["web=3", "db=0"]
    assert ns.services == ["web", "db"]


def test_services_may_come_between_flags() -> None:
    ns = parse("up", "web", "-d", "db", "--no-deps", "cache")
    assert ns.services == ["web", "db", "cache"]
    assert ns.detach and ns.no_deps


def test_defaults_are_v2s() -> None:
    up = parse("up")
    assert (up.detach, up.no_start, up.wait, up.timeout, up.pull) == (
        False, False, False, None, None)
    assert parse("kill").signal == "SIGKILL"
    port = parse("port", "web", "80")
    assert (port.protocol, port.index) == ("tcp", 0)
    ps = parse("ps")
    assert (ps.all, ps.quiet, ps.list_services, ps.status, ps.format) == (
        False, False, False, [], "table")


@pytest.mark.parametrize("argv", [["--dry-run", "down"], ["down", "--dry-run"]])
def test_dry_run_is_global_and_per_command(argv: list[str]) -> None:
    assert parse(*argv).dry_run is True
    assert parse("down").dry_run is False


def test_down_rm_stop_restart_kill_flags() -> None:
    down = parse("down", "-v", "--remove-orphans", "--rmi", "local", "-t", "0")
    assert (down.volumes, down.remove_orphans, down.rmi, down.timeout) == (
        True, True, "local", 0)
    rm = parse("rm", "-f", "-s", "-v", "web")
    assert (rm.force, rm.stop, rm.volumes, rm.services) == (True, True, True, ["web"])
    assert parse("stop", "-t", "3").timeout == 3
    restart = parse("restart", "--timeout", "2", "--no-deps", "web")
    assert (restart.timeout, restart.no_deps, restart.services) == (2, True, ["web"])
    assert parse("kill", "-s", "SIGTERM", "web").signal == "SIGTERM"


def test_ps_status_repeats() -> None:
    ns = parse("ps", "--status", "running", "--status", "exited", "-a", "-q", "--format",
               "json")
    assert ns.status == ["running", "exited"]
    assert ns.all and ns.quiet and ns.format == "json"


def test_ls_images_top_port() -> None:
    ls = parse("ls", "-a", "-q", "--format", "json")
    assert (ls.all, ls.quiet, ls.format) == (True, True, "json")
    images = parse("images", "-q", "web")
    assert images.quiet and images.services == ["web"]
    assert parse("top", "a", "b").services == ["a", "b"]
    port = parse("port", "--protocol", "udp", "--index", "2", "web", "53")
    assert (port.service, port.private_port, port.protocol, port.index) == (
        "web", "53", "udp", 2)


@pytest.mark.parametrize("argv", [["up", "-t", "x"], ["up", "--wait-timeout", "soon"],
                                  ["port", "web"], ["up", "--no-such-flag"]])
def test_malformed_flags_are_usage_errors(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        parse(*argv)
    assert exc.value.code == 2


# -- flag values -------------------------------------------------------------------------------


def test_scale_values() -> None:
    assert parse_scale(["web=3", "db=0", "web=2"]) == {"web": 2, "db": 0}
    assert parse_scale([]) == {}


@pytest.mark.parametrize("value", ["web", "=3", "web=x", "web=-1"])
def test_bad_scale_is_named(value: str) -> None:
    with pytest.raises(UsageError) as exc:
        parse_scale([value])
    assert f'"{value}"' in str(exc.value)
    assert exc.value.exit_code == 2


def test_bad_scale_message_is_v2s() -> None:
    with pytest.raises(UsageError, match=r'^invalid --scale option "web"\. Should be '
                                         r"SERVICE=NUM$"):
        parse_scale(["web"])


def test_pull_rmi_format_filter() -> None:
    assert validate_pull(None) == "policy"
    assert validate_pull("always") == "always"
    with pytest.raises(UsageError, match='^invalid --pull option "sometimes"$'):
        validate_pull("sometimes")
    assert validate_rmi(None) is None
    assert validate_rmi("all") == "all"
    with pytest.raises(UsageError, match='^invalid value for --rmi: "foo"$'):
        validate_rmi("foo")
    assert validate_format("table", "ps") == "table"
    assert validate_format("json", "ps") == "json"
    with pytest.raises(UsageError, match="yaml"):
        validate_format("yaml", "ps")
    assert parse_filter("status=running", ("status",)) == ("status", "running")
    assert parse_filter(None, ("status",)) is None
    with pytest.raises(UsageError, match="KEY=VAL"):
        parse_filter("status", ("status",))
    with pytest.raises(UsageError, match="unknown filter label"):
        parse_filter("label=x", ("status",))


# -- what is printed ---------------------------------------------------------------------------


def test_tabulate_pads_like_go_tabwriter() -> None:
    text = render.tabulate([("NAME", "STATUS", "PORTS"), ("a-long-name", "Up", "")],
                           minwidth=10, padding=3)
    assert text == ("NAME          STATUS    PORTS\n"
                    "a-long-name   Up        \n")


def test_human_duration_matches_go_units() -> None:
    cases = {0.5: "Less than a second", 1: "1 second", 59: "59 seconds",
             60: "About a minute", 150: "2 minutes", 3600: "About an hour",
             5 * 3600: "5 hours", 3 * 86400: "3 days", 15 * 86400: "2 weeks",
             90 * 86400: "3 months", 800 * 86400: "2 years"}
    for seconds, text in cases.items():
        assert render.human_duration(seconds) == text, seconds


def test_human_size_is_decimal_with_three_digits() -> None:
    assert render.human_size(1985573) == "1.99MB"
    assert render.human_size(100) == "100B"
    assert render.human_size(4_300_000_000) == "4.3GB"


def test_command_column_is_quoted_and_cut_at_20() -> None:
    cut = render.ellipsis("sh -c 'echo hello; sleep 300'", 20)
    assert cut == "sh -c 'echo hello; …"
    assert render.go_quote(cut) == "\"sh -c 'echo hello; …\""
    assert render.go_quote('say "hi"\n') == '"say \\"hi\\"\\n"'


def test_ports_column_as_docker_ps() -> None:
    ports = [
        {"IP": "0.0.0.0", "PrivatePort": 9999, "PublicPort": 32768, "Type": "udp"},
        {"IP": "::", "PrivatePort": 9999, "PublicPort": 32768, "Type": "udp"},
        {"IP": "127.0.0.1", "PrivatePort": 80, "PublicPort": 18080, "Type": "tcp"},
    ]
    assert render.displayable_ports(ports) == (
        "127.0.0.1:18080->80/tcp, 0.0.0.0:32768->9999/udp, [::]:32768->9999/udp")
    exposed = [{"PrivatePort": p, "Type": "tcp"} for p in (8000, 8001, 8002, 9000)]
    assert render.displayable_ports(exposed) == "8000-8002/tcp, 9000/tcp"
    same = [{"IP": "0.0.0.0", "PrivatePort": p, "PublicPort": p, "Type": "tcp"}
            for p in (5000, 5001)]
    assert render.displayable_ports(same) == "0.0.0.0:5000-5001->5000-5001/tcp"


def _row(**kw: object) -> render.PsRow:
    base: dict[str, object] = dict(
        id="9f1f2005472c0a984eef8d5cb09225263956c0d35ad171acc7db980edc2c1714",
        name="demo-web-1", image="busybox:latest",
        command="sh -c 'echo hello; sleep 300'", project="demo", service="web",
        created=1000, state="running", status="Up 5 seconds",
        ports=({"IP": "127.0.0.1", "PrivatePort": 80, "PublicPort": 18080, "Type": "tcp"},),
        labels={"com.docker.compose.project": "demo"}, networks=("demo_default",))
    base.update(kw)
    return render.PsRow(**base)  # type: ignore[arg-type]


def test_ps_table_has_v2s_columns() -> None:
    text = render.ps_table([_row(), _row(name="demo-worker-1", service="worker",
                                         command="sleep 300", ports=())], now=1002)
    lines = text.splitlines()
    assert lines[0].split() == ["NAME", "IMAGE", "COMMAND", "SERVICE", "CREATED", "STATUS",
                                "PORTS"]
    assert lines[1] == ("demo-web-1      busybox:latest   \"sh -c 'echo hello; …\"   web"
                        "       2 seconds ago   Up 5 seconds   127.0.0.1:18080->80/tcp")
    assert lines[2].startswith("demo-worker-1   busybox:latest   \"sleep 300\"")
    assert render.ps_table([], now=0) == (
        "NAME      IMAGE     COMMAND   SERVICE   CREATED   STATUS    PORTS\n")


def test_ps_json_has_v2s_fields() -> None:
    line = render.ps_json_lines([_row()], now=1002)
    assert line.endswith("\n") and line.count("\n") == 1
    obj = json.loads(line)
    assert obj["Name"] == "demo-web-1" and obj["Service"] == "web"
    assert obj["ID"] == "9f1f2005472c"
    assert obj["Publishers"] == [
        {"URL": "127.0.0.1", "TargetPort": 80, "PublishedPort": 18080, "Protocol": "tcp"}]
    assert obj["Ports"] == "127.0.0.1:18080->80/tcp"
    assert "-\\u003e" in line  # Go's encoder escapes '>'
    assert list(obj) == sorted(obj)
    assert render.ps_json_lines([], now=0) == "\n"


def test_top_table_puts_cmd_last() -> None:
    rows = [render.TopRow("demo-web-1", "web", 1, ("UID", "PID", "CMD", "C"),
                          (("root", "42", "sleep 300", "0"),))]
    assert render.top_table(rows) == ("SERVICE  #   UID   PID  C   CMD\n"
                                      "web      1   root  42   0   sleep 300\n")
    assert render.top_table([]) == ""


def test_ls_and_images_tables() -> None:
    stacks = [render.StackRow("demo", "running(2)", "/tmp/demo/compose.yaml")]
    assert render.ls_table(stacks) == (
        "NAME                STATUS              CONFIG FILES\n"
        "demo                running(2)          /tmp/demo/compose.yaml\n")
    assert json.loads(render.ls_json(stacks)) == [
        {"Name": "demo", "Status": "running(2)", "ConfigFiles": "/tmp/demo/compose.yaml"}]
    assert render.ls_json([]) == "[]\n"
    img = render.ImageRow("demo-web-1", "sha256:" + "ab" * 32, "busybox", "latest",
                          "linux/amd64", 1985573, created=0)
    table = render.images_table([img], now=120)
    assert table.splitlines()[1].split() == [
        "demo-web-1", "busybox", "latest", "linux/amd64", "abababababab", "1.99MB", "2",
        "minutes", "ago"]
    assert render.images_quiet([img, img]) == "ab" * 32 + "\n"
    assert render.images_json([]) == "null\n"


def test_progress_lines_as_v2_plain(capsys: pytest.CaptureFixture[str]) -> None:
    out = ProgressPrinter(sys.stderr)
    out.event("Container demo-web-1", "Created")
    ProgressPrinter(sys.stderr, dry_run=True).event("Network demo_default", "Removed")
    ProgressPrinter(sys.stderr, mode="json").event("Volume demo_data", "Created")
    ProgressPrinter(sys.stderr, mode="quiet").event("Volume demo_data", "Created")
    out(ProgressEvent("Container demo-db-1", "Error", state="error", detail="port is taken"))
    out(ProgressEvent("Network demo_default", "Removing", state="warning",
                      detail="Resource is still in use"))
    assert capsys.readouterr().err.splitlines() == [
        " Container demo-web-1  Created",
        " DRY-RUN MODE -  Network demo_default  Removed",
        '{"id":"Volume demo_data","status":"Created"}',
        " Container demo-db-1  Error",
        " Network demo_default  Resource is still in use",
    ]


# -- start-up cost -----------------------------------------------------------------------------


@pytest.mark.parametrize("argv", [["--version"], ["-p", "x", "--version"], ["ps", "--help"]])
def test_light_commands_import_no_engine_code(argv: list[str]) -> None:
    code = (
        "import sys\n"
        "from composer.cli.main import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = sorted(m for m in ('docker', 'anyio', 'yaml', 'networkx', 'requests')"
        " if m in sys.modules)\n"
        "print('HEAVY:' + ','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.splitlines()[-1] == "HEAVY:", out.stdout
