"""Secrets and configs, without an engine: what v2 copies into a container (from
``environment:`` or ``content:``) and when, the warnings about bind-mounted ones,
and that their values never show in a plan, a step, an event or an error.

v2.40.3's behaviour these follow (checked on the engine in
tests/e2e/test_secrets_engine.py): a ``file:`` secret or config is a read-only
bind mount whose ``uid``/``gid``/``mode`` are ignored with a warning; the others
are files copied in before each start, with the reference's mode (default
0444), uid and gid.
"""

from __future__ import annotations

import io
import tarfile
import textwrap
from pathlib import Path
from typing import Any

import pytest

from composer.api import Compose, RestartOptions, RunOptions, StartOptions, StopOptions, UpOptions
from composer.backends.memory import MemoryBackend
from composer.backends.spec import ContainerFile, bind_warnings, container_files
from composer.config.loader import LoadedProject, LoadOptions, load_project
from composer.errors import EngineError, ValidationError
from composer.plan.steps import CopyToContainer
from composer.runtime import ExecutionError, ProgressEvent

pytestmark = pytest.mark.anyio

TOKEN = "s3cr3t-t0ken-value"
INLINE = "inline-config-value"

PROJECT = """
services:
  app:
    image: busybox
    secrets:
      - source: token
        uid: "1000"
        gid: "1001"
        mode: 0400
      - source: token
        target: nested/token
      - source: from_file
        target: /run/secrets/f
        mode: 0400
    configs:
      - source: inline
        target: /etc/app.conf
        mode: 0440
      - source: inline
        target: relative.conf
      - from_env
secrets:
  token:
    environment: TOKEN
  from_file:
    file: ./secret.txt
configs:
  inline:
    content: "{inline}"
  from_env:
    environment: TOKEN
"""


def load(tmp_path: Path, text: str = PROJECT, environ: dict[str, str] | None = None
         ) -> LoadedProject:
    (tmp_path / "compose.yaml").write_text(textwrap.dedent(text).replace("{inline}", INLINE))
    (tmp_path / "secret.txt").write_text("file-secret-value\n")
    env = {"TOKEN": TOKEN} if environ is None else environ
    return load_project(LoadOptions(cwd=str(tmp_path), project_name="p", environ=env))


def no_value_in(*texts: str) -> None:
    for text in texts:
        assert TOKEN not in text and INLINE not in text, text


# -- what is copied, and where -----------------------------------------------------------------


def test_files_follow_v2s_targets_modes_and_owners(tmp_path: Path) -> None:
    project = load(tmp_path).model
    files = container_files(project, project.services["app"], {"TOKEN": TOKEN})
    assert [(f.kind, f.source, f.target, oct(f.mode), f.uid, f.gid, f.copy_uid_gid)
            for f in files] == [
        ("secret", "token", "/run/secrets/token", "0o400", 1000, 1001, True),
        ("secret", "token", "/run/secrets/nested/token", "0o444", 0, 0, False),
        ("config", "inline", "/etc/app.conf", "0o440", 0, 0, False),
        ("config", "inline", "/relative.conf", "0o444", 0, 0, False),
        ("config", "from_env", "/from_env", "0o444", 0, 0, False),
    ]
    assert [f.content for f in files] == [TOKEN.encode()] * 2 + [INLINE.encode()] * 2 + [
        TOKEN.encode()]


def test_the_archive_is_v2s_one_member_at_its_target(tmp_path: Path) -> None:
    file = ContainerFile(kind="secret", source="s", target="/run/secrets/s",
                         content=b"value", mode=0o400, uid=7, gid=8, copy_uid_gid=True)
    with tarfile.open(fileobj=io.BytesIO(file.archive(now=1_700_000_000))) as tar:
        [member] = tar.getmembers()
        handle = tar.extractfile(member)
        assert handle is not None
        assert (member.name, member.mode, member.uid, member.gid, member.mtime,
                handle.read()) == ("/run/secrets/s", 0o400, 7, 8, 1_700_000_000, b"value")


def test_an_empty_value_copies_nothing_and_file_secrets_are_mounts(tmp_path: Path) -> None:
    project = load(tmp_path, environ={"TOKEN": ""}).model
    assert [f.source for f in container_files(project, project.services["app"],
                                               {"TOKEN": ""})] == ["inline", "inline"]


@pytest.mark.parametrize(("text", "environ", "message"), [
    (PROJECT, {}, 'secrets.token.environment: environment variable "TOKEN" required by '
                  'secret "p_token" is not set'),
    (PROJECT.replace("    image: busybox\n", "    image: busybox\n    read_only: true\n", 1),
     {"TOKEN": TOKEN}, "services.app.secrets[0]: cannot create secret \"p_token\" in "
                       "read-only service app: `file` is the sole supported option"),
    (PROJECT.replace('uid: "1000"', 'uid: "root"'), {"TOKEN": TOKEN},
     'services.app.secrets[0].uid: uid must be a number, got "root"'),
])
def test_what_v2_fails_at_start_is_refused_while_planning(
        tmp_path: Path, text: str, environ: dict[str, str], message: str) -> None:
    project = load(tmp_path, text, environ=environ).model
    with pytest.raises(ValidationError) as caught:
        container_files(project, project.services["app"], environ)
    assert str(caught.value) == message
    no_value_in(str(caught.value), repr(caught.value))


def test_bind_mounted_ones_warn_in_v2s_words(tmp_path: Path) -> None:
    project = load(tmp_path).model
    assert bind_warnings(project, project.services["app"]) == [
        "secrets `uid`, `gid` and `mode` are not supported, they will be ignored"]
    assert bind_warnings(project, project.services["app"], exists=lambda p: False) == [
        "secrets `uid`, `gid` and `mode` are not supported, they will be ignored",
        "secret file p_from_file does not exist"]
    text = PROJECT + "  from_file_config:\n    file: ./secret.txt\n"
    text = text.replace("      - from_env\n", "      - from_env\n      - source: "
                        "from_file_config\n        uid: \"1\"\n")
    project = load(tmp_path, text).model
    assert bind_warnings(project, project.services["app"])[-1] == (
        "config `uid`, `gid` and `mode` are not supported, they will be ignored")


# -- plans: when files are copied -----------------------------------------------------------


async def test_up_copies_before_the_start_and_the_plan_names_no_value(tmp_path: Path) -> None:
    engine = MemoryBackend()
    outcome = await Compose(engine).up(load(tmp_path), UpOptions(dry_run=True))
    text = "\n".join(str(p) for p in outcome.plans)
    assert text.splitlines()[-7:] == [
        "#2 <- #1 service:app:1 CreateContainer: no existing container",
        "#3 <- #2 service:app:1 CopyToContainer: secret token -> /run/secrets/token",
        "#4 <- #3 service:app:1 CopyToContainer: secret token -> /run/secrets/nested/token",
        "#5 <- #4 service:app:1 CopyToContainer: config inline -> /etc/app.conf",
        "#6 <- #5 service:app:1 CopyToContainer: config inline -> /relative.conf",
        "#7 <- #6 service:app:1 CopyToContainer: config from_env -> /from_env",
        "#8 <- #7 service:app:1 StartContainer: created",
    ]
    assert outcome.warnings == [
        "secrets `uid`, `gid` and `mode` are not supported, they will be ignored"]
    steps = [s for p in outcome.plans for s in p]
    no_value_in(text, repr(outcome), repr(steps), str(steps), repr([s.args for s in steps]))
    copy = next(s.operation for s in steps if isinstance(s.operation, CopyToContainer))
    assert repr(copy.file) == (
        "ContainerFile(kind='secret', source='token', target='/run/secrets/token', "
        "content=<18 bytes>, mode=0o400, uid=1000, gid=1001, copy_uid_gid=True)")


async def test_the_files_reach_the_container_with_their_mode_and_owner(tmp_path: Path) -> None:
    engine = MemoryBackend()
    events: list[ProgressEvent] = []
    project = load(tmp_path)
    await Compose(engine, events=events.append).up(project, UpOptions())
    [container] = engine.containers.values()
    assert container.state == "running"
    files = container.files
    assert files.read("/run/secrets/token") == TOKEN.encode()
    assert files.read("/etc/app.conf") == INLINE.encode()
    token = files.entries["/run/secrets/token"]
    assert (token.mode, token.uid, token.gid) == (0o400, 1000, 1001)
    conf = files.entries["/relative.conf"]
    assert (conf.mode, conf.uid, conf.gid) == (0o444, 0, 0)
    # v2 says nothing while it copies: the progress lines are the usual ones.
    assert [(e.resource, e.status) for e in events if e.resource.startswith("Container")] == [
        ("Container p-app-1", "Creating"), ("Container p-app-1", "Created"),
        ("Container p-app-1", "Starting"), ("Container p-app-1", "Started")]
    no_value_in(repr(events))


async def test_start_copies_again_restart_does_not(tmp_path: Path) -> None:
    engine = MemoryBackend()
    compose = Compose(engine)
    project = load(tmp_path)
    await compose.up(project, UpOptions())
    await compose.stop(project, StopOptions())
    started = await compose.start(project, StartOptions(dry_run=True))
    assert [s.op for p in started.plans for s in p] == ["CopyToContainer"] * 5 + [
        "StartContainer"]
    await compose.start(project, StartOptions())
    restarted = await compose.restart(project, RestartOptions(dry_run=True))
    assert [s.op for p in restarted.plans for s in p] == ["StopContainer", "StartContainer"]
    # From the project's name alone there are no values to copy: nothing is.
    by_name = await compose.start("p", StartOptions(dry_run=True))
    assert not any(s.op == "CopyToContainer" for p in by_name.plans for s in p)


async def test_run_copies_into_the_one_off_after_creating_it(tmp_path: Path) -> None:
    engine = MemoryBackend()
    outcome = await Compose(engine).run(load(tmp_path), RunOptions(
        service="app", slug="0" * 64, dry_run=True))
    lines = str(outcome.plans[-1]).splitlines()
    assert lines[-6].endswith("service:app CreateContainer: one-off container")
    assert [line.split(" service:app ", 1)[1] for line in lines[-5:]] == [
        "CopyToContainer: secret token -> /run/secrets/token",
        "CopyToContainer: secret token -> /run/secrets/nested/token",
        "CopyToContainer: config inline -> /etc/app.conf",
        "CopyToContainer: config inline -> /relative.conf",
        "CopyToContainer: config from_env -> /from_env"]


async def test_a_failed_copy_names_the_secret_never_its_value(tmp_path: Path) -> None:
    class Refusing(MemoryBackend):
        async def put_archive(self, container: str, path: str, data: bytes, *,
                              copy_uid_gid: bool = False) -> None:
            raise EngineError('Error response from daemon: getent unable to find entry '
                              '"1234" in passwd database')

    events: list[ProgressEvent] = []
    with pytest.raises(ExecutionError) as caught:
        await Compose(Refusing(), events=events.append).up(load(tmp_path), UpOptions())
    assert str(caught.value) == (
        'service "app": copying secret token to /run/secrets/token: Error response from '
        'daemon: getent unable to find entry "1234" in passwd database')
    details: list[Any] = [e.detail for e in events]
    no_value_in(str(caught.value), repr(caught.value), repr(caught.value.failures),
                repr(caught.value.skipped), repr(events), *map(str, details))


async def test_an_unset_variable_creates_nothing(tmp_path: Path) -> None:
    engine = MemoryBackend()
    with pytest.raises(ValidationError, match='environment variable "TOKEN" required by '
                                              'secret "p_token" is not set'):
        await Compose(engine).up(load(tmp_path, environ={}), UpOptions())
    assert engine.containers == {} and engine.networks == {}
