"""Refusals before anything is made (composer/plan/checks.py), on the in-memory engine.

Each bad value below is one Docker Compose v2's loader accepts (``config`` prints
it) and the engine refuses, after v2 has made the project's network (and, for
those refused at start, the container). composer refuses it while planning: one
``ValidationError`` naming the file, the line, the key path and the value, with
nothing pulled, built or made. tests/e2e/test_hostile.py runs the same files
through the command on a real engine, beside v2.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from composer.api import Compose, CreateOptions, RunOptions, UpOptions
from composer.backends.memory import MemoryBackend
from composer.config.loader import LoadedProject, LoadOptions, load_project
from composer.errors import ConfigError, ValidationError
from composer.model import labels
from composer.plan import checks, reconcile


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def load(tmp_path: Path, text: str) -> LoadedProject:
    (tmp_path / "compose.yaml").write_text(textwrap.dedent(text))
    return load_project(LoadOptions(cwd=str(tmp_path), project_name="p", environ={}))


def web(*lines: str) -> str:
    """A one-service project; ``lines`` are more keys of the service, on lines 5 on."""
    return "services:\n  web:\n    image: busybox\n    command: sleep 300\n" + "".join(
        f"    {line}\n" for line in lines)


# (name, compose text, the key path in the message, words of the message, line)
REFUSED: list[tuple[str, str, str, str, int]] = [
    ("restart-sometimes", web("restart: sometimes"), "services.web.restart",
     'invalid restart policy "sometimes"', 5),
    ("restart-always-count", web('restart: "always:3"'), "services.web.restart",
     "maximum retry count cannot be used with restart policy 'always'", 5),
    ("restart-no-count", web('restart: "no:2"'), "services.web.restart",
     "maximum retry count cannot be used with restart policy 'no'", 5),
    ("restart-negative", web('restart: "on-failure:-1"'), "services.web.restart",
     "maximum retry count cannot be negative", 5),
    ("deploy-condition", web("deploy:", "  restart_policy:", "    condition: sometimes"),
     "services.web.deploy.restart_policy.condition", '"sometimes"', 7),
    ("deploy-any-attempts", web("deploy:", "  restart_policy:", "    condition: any",
                                "    max_attempts: 3"),
     "services.web.deploy.restart_policy.max_attempts", "restart policy 'always'", 8),
    ("healthcheck-interval", web('healthcheck: {test: ["CMD", "true"], interval: 1us}'),
     "services.web.healthcheck.interval", "1µs", 5),
    ("healthcheck-negative", web('healthcheck: {test: ["CMD", "true"], timeout: -5s}'),
     "services.web.healthcheck.timeout", "-5s", 5),
    ("healthcheck-start", web('healthcheck: {test: ["CMD", "true"], start_period: 500us}'),
     "services.web.healthcheck.start_period", "500µs", 5),
    ("mem-small", web("mem_limit: 1m"), "services.web.mem_limit", "under 6MB", 5),
    ("mem-negative", web("mem_limit: -5"), "services.web.mem_limit", "-5 bytes", 5),
    ("deploy-memory", web("deploy:", "  resources:", "    limits:", "      memory: 1k"),
     "services.web.deploy.resources.limits.memory", "1024 bytes", 8),
    ("memswap-alone", web("memswap_limit: 100m"), "services.web.memswap_limit",
     "without a memory limit", 5),
    ("shm-negative", web("shm_size: -1"), "services.web.shm_size", "negative", 5),
    ("cpus-negative", web("cpus: -1"), "services.web.cpus", "negative number of CPUs", 5),
    ("port-published-over", web('ports: [{target: 80, published: "70000"}]'),
     "services.web.ports[0].published", '"70000"', 5),
    ("port-published-reversed", web('ports: [{target: 80, published: "8080-8070"}]'),
     "services.web.ports[0].published", '"8080-8070"', 5),
    ("port-published-word", web('ports: [{target: 80, published: "abc"}]'),
     "services.web.ports[0].published", '"abc"', 5),
    ("port-target-over", web("ports: [{target: 70000}]"), "services.web.ports[0].target",
     "70000", 5),
    ("working-dir-relative", web("working_dir: foo"), "services.web.working_dir", '"foo"', 5),
    ("volume-target-relative", web('volumes: ["/tmp:foo"]'), "services.web.volumes[0].target",
     '"foo"', 5),
    ("tmpfs-relative", web('tmpfs: ["foo"]'), "services.web.tmpfs[0]", '"foo"', 5),
    ("ulimit-soft-above-hard", web("ulimits: {nofile: {soft: 200, hard: 100}}"),
     "services.web.ulimits.nofile", "soft limit 200 is above hard limit 100", 5),
    ("ulimit-unknown", web("ulimits: {nofiles: 100}"), "services.web.ulimits.nofiles",
     'unknown ulimit "nofiles"', 5),
    ("cap-space", web('cap_add: ["SYS ADMIN"]'), "services.web.cap_add[0]", '"SYS ADMIN"', 5),
    ("cap-dash", web('cap_add: ["sys-admin"]'), "services.web.cap_add[0]", '"sys-admin"', 5),
    ("cap-digit", web('cap_drop: ["NET_RAW2"]'), "services.web.cap_drop[0]", '"NET_RAW2"', 5),
    ("cap-all-prefixed", web('cap_drop: ["CAP_ALL"]'), "services.web.cap_drop[0]",
     '"CAP_ALL"', 5),
    ("container-name-shape", web('container_name: "bad name!"'),
     "services.web.container_name", '"bad name!" is not a valid container name', 5),
    ("container-name-twice", web("container_name: twice") + (
        "  other:\n    image: busybox\n    container_name: twice\n"),
     # services in the model's (sorted) order, as config's own check reads them
     "services.web.container_name",
     'container name "twice" is already in use by service other', 5),
    ("stop-signal", web("stop_signal: SIGFOO"), "services.web.stop_signal", '"SIGFOO"', 5),
    ("environment-empty-name", web('environment: ["=foo"]'), "services.web.environment",
     "empty name", 5),
    ("ipc", web("ipc: foo"), "services.web.ipc", '"foo"', 5),
    ("isolation", web("isolation: foo"), "services.web.isolation", '"foo"', 5),
    ("mac-address", web('mac_address: "zz:zz"'), "services.web.mac_address", '"zz:zz"', 5),
    ("device-cgroup-rule", web('device_cgroup_rules: ["foo"]'),
     "services.web.device_cgroup_rules[0]", '"foo"', 5),
]

# Values that look odd but that v2 sends and the engine takes: never refused.
ACCEPTED: list[tuple[str, str]] = [
    ("restart-count-word", web('restart: "on-failure:x"')),  # v2 reads no count: 0
    ("restart-empty", web('restart: ""')),
    ("restart-no", web('restart: "no"')),
    ("restart-on-failure-count", web('restart: "on-failure:5"')),
    ("deploy-none", web("deploy:", "  restart_policy:", "    condition: none")),
    ("healthcheck-zero", web('healthcheck: {test: ["CMD", "true"], interval: 0s}')),
    ("healthcheck-1ms", web('healthcheck: {test: ["CMD", "true"], interval: 1ms}')),
    ("mem-6m", web("mem_limit: 6m")),
    ("memswap-unlimited", web("memswap_limit: -1")),
    ("port-host-range", web('ports: ["8080-8082:80"]')),
    ("port-published-range", web('ports: [{target: 80, published: "8080-8081"}]')),
    ("cap-all", web('cap_drop: ["ALL"]', 'cap_add: ["cap_chown", "NET_ADMIN"]')),
    ("cap-unknown-shape-ok", web('cap_add: ["CAP_FOO"]')),  # shape only: the engine says
    ("ulimit-single", web("ulimits: {nproc: 65535}")),
    ("ulimit-unlimited-hard", web("ulimits: {memlock: {soft: 100, hard: -1}}")),
    ("ulimit-upper-case", web("ulimits: {NOFILE: 100}")),
    ("stop-signal-number", web('stop_signal: "9"')),
    ("stop-signal-rt", web("stop_signal: SIGRTMIN+3")),
    ("stop-signal-bare", web("stop_signal: term")),
    ("ipc-service", web("ipc: shareable") + "  other:\n    image: busybox\n"
     "    ipc: service:web\n"),
    ("mac-dashes", web('mac_address: "02-42-ac-11-00-02"')),
    ("device-cgroup-rule-ok", web('device_cgroup_rules: ["c 1:3 rwm", "b *:* r"]')),
    ("windows-working-dir", web('working_dir: "C:\\\\app"')),
]


@pytest.mark.parametrize(("name", "text", "path", "words", "line"), REFUSED,
                         ids=[c[0] for c in REFUSED])
@pytest.mark.anyio
async def test_refused_before_anything_is_made(tmp_path: Path, name: str, text: str,
                                               path: str, words: str, line: int) -> None:
    project = load(tmp_path, text)  # the loader accepts it, as v2's does
    engine = MemoryBackend()
    with pytest.raises(ValidationError) as caught:
        await Compose(engine).up(project, UpOptions())
    message = str(caught.value)
    assert message.startswith(f"{tmp_path / 'compose.yaml'}:{line}:"), message
    assert f": {path}: " in message and words in message, message
    assert "\n" not in message
    assert engine.containers == {} and engine.networks == {} and engine.volumes == {}
    assert not [c for c in engine.calls if c.op.startswith(("create", "pull", "build"))]


@pytest.mark.parametrize(("name", "text"), ACCEPTED, ids=[c[0] for c in ACCEPTED])
def test_not_refused(tmp_path: Path, name: str, text: str) -> None:
    project = load(tmp_path, text)
    reconcile.check_up(project.model)


@pytest.mark.anyio
async def test_create_and_dry_run_refuse_too(tmp_path: Path) -> None:
    project = load(tmp_path, web("restart: sometimes"))
    engine = MemoryBackend()
    with pytest.raises(ValidationError, match="services.web.restart"):
        await Compose(engine).create(project, CreateOptions())
    with pytest.raises(ValidationError, match="services.web.restart"):
        await Compose(engine).up(project, UpOptions(dry_run=True))
    assert engine.networks == {}


@pytest.mark.anyio
async def test_only_the_services_up_creates_are_checked(tmp_path: Path) -> None:
    text = web() + "  bad:\n    image: busybox\n    restart: sometimes\n"
    project = load(tmp_path, text)
    engine = MemoryBackend()
    await Compose(engine).up(project, UpOptions(services=("web",)))
    assert [c.name for c in engine.containers.values()] == ["p-web-1"]
    with pytest.raises(ValidationError, match="services.bad.restart"):
        await Compose(engine).up(project, UpOptions())


@pytest.mark.anyio
async def test_a_dependency_is_checked(tmp_path: Path) -> None:
    text = web("depends_on: [db]") + "  db:\n    image: busybox\n    restart: sometimes\n"
    project = load(tmp_path, text)
    engine = MemoryBackend()
    with pytest.raises(ValidationError, match="services.db.restart"):
        await Compose(engine).up(project, UpOptions(services=("web",)))
    await Compose(engine).up(project, UpOptions(services=("web",), no_deps=True))
    assert [c.name for c in engine.containers.values()] == ["p-web-1"]


async def _foreign(engine: MemoryBackend, name: str, project: str | None) -> None:
    body: dict[str, Any] = {"Image": "busybox", "Labels": {}}
    if project is not None:
        body["Labels"] = {labels.PROJECT: project, labels.SERVICE: "web"}
    await engine.create_container(name, body)


@pytest.mark.anyio
@pytest.mark.parametrize(("owner", "words"), [
    (None, "(not a compose container)"),
    ("other", '(project "other", service "web")'),
])
async def test_container_name_held_by_another_project(tmp_path: Path, owner: str | None,
                                                      words: str) -> None:
    project = load(tmp_path, web("container_name: taken-name"))
    engine = MemoryBackend()
    await _foreign(engine, "taken-name", owner)
    with pytest.raises(ValidationError) as caught:
        await Compose(engine).up(project, UpOptions())
    message = str(caught.value)
    assert message.startswith(f"{tmp_path / 'compose.yaml'}:5:")
    assert 'services.web.container_name: container name "taken-name" is already in use' \
        in message and words in message, message
    assert len(engine.containers) == 1 and engine.networks == {}


@pytest.mark.anyio
async def test_container_name_of_this_project_is_no_clash(tmp_path: Path) -> None:
    project = load(tmp_path, web("container_name: mine"))
    engine = MemoryBackend()
    await Compose(engine).up(project, UpOptions())
    await Compose(engine).up(project, UpOptions(force_recreate=True))
    assert [c.name for c in engine.containers.values()] == ["mine"]


@pytest.mark.anyio
async def test_run_name_in_use_and_bad_flags(tmp_path: Path) -> None:
    project = load(tmp_path, web())
    engine = MemoryBackend()
    await _foreign(engine, "busy", "p")
    with pytest.raises(ValidationError, match='--name "busy" is already in use by container'):
        await Compose(engine).run(project, RunOptions(service="web", name="busy"))
    with pytest.raises(ValidationError, match=r'services\.web\.cap_add\[0\]: "a b"'):
        await Compose(engine).run(project, RunOptions(service="web", cap_add=("a b",)))
    with pytest.raises(ValidationError, match='"8080-8070" is not a port'):
        await Compose(engine).run(project, RunOptions(service="web",
                                                      publish=("8080-8070:80",)))
    assert len(engine.containers) == 1 and engine.networks == {}


@pytest.mark.anyio
async def test_run_checks_the_dependencies(tmp_path: Path) -> None:
    text = web("depends_on: [db]") + "  db:\n    image: busybox\n    mem_limit: 1m\n"
    engine = MemoryBackend()
    with pytest.raises(ValidationError, match="services.db.mem_limit"):
        await Compose(engine).run(load(tmp_path, text), RunOptions(service="web"))
    assert engine.containers == {} and engine.networks == {}


@pytest.mark.anyio
async def test_missing_host_paths_on_a_local_engine(tmp_path: Path) -> None:
    text = web("volumes:", "  - type: bind", f"    source: {tmp_path}/absent",
               "    target: /data", "    bind: {create_host_path: false}",
               f"  - {tmp_path}/created:/created")
    project = load(tmp_path, text)
    remote = MemoryBackend()
    # An engine elsewhere: its host's paths are unknown here, so nothing is refused.
    await Compose(remote).up(project, UpOptions(dry_run=True))
    local = MemoryBackend()
    local.address = "unix:///var/run/docker.sock"
    with pytest.raises(ValidationError) as caught:
        await Compose(local).up(project, UpOptions())
    message = str(caught.value)
    assert f"{tmp_path / 'compose.yaml'}:7:" in message
    assert f"services.web.volumes[0].source: bind source path {tmp_path}/absent does not " \
        "exist, and bind.create_host_path is false" in message
    (tmp_path / "absent").mkdir()
    await Compose(local).up(project, UpOptions(dry_run=True))


def test_devices_known_missing() -> None:
    from composer.model.project import Project

    model = Project.from_dict({"name": "p", "services": {"web": {
        "image": "busybox", "devices": [
            {"source": "/dev/x", "target": "/dev/y", "permissions": "rwm"},
            {"source": "vendor.com/gpu=0", "target": "vendor.com/gpu=0"}]}}})
    checks.check_services(model, model.services.values())
    with pytest.raises(ValidationError, match="/dev/x does not exist on the engine's host"):
        checks.check_services(model, model.services.values(),
                              checks.EngineFacts(missing_paths={"/dev/x"}))


def test_negative_retries_of_a_model_built_by_hand() -> None:
    # The loader refuses them with v2's words (tests/unit/test_validate.py); a model
    # built by a library user is still checked before the engine sees it.
    from composer.model.project import Project

    model = Project.from_dict({"name": "p", "services": {"web": {
        "image": "busybox", "healthcheck": {"test": ["CMD", "true"], "retries": -1}}}})
    with pytest.raises(ValidationError, match="negative retry count"):
        checks.check_services(model, model.services.values())


# -- the empty compose file --------------------------------------------------------------------

@pytest.mark.parametrize("text", ["", "# only a comment\n", "{}\n", "\n\n   \n",
                                  'version: "3"\n'])
def test_empty_compose_file(tmp_path: Path, text: str) -> None:
    (tmp_path / "compose.yaml").write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_project(LoadOptions(cwd=str(tmp_path), project_name="p", environ={}))
    assert str(caught.value) == f"{tmp_path / 'compose.yaml'}: empty compose file"


@pytest.mark.parametrize("text", ["services: {}\n", "name: x\n", "x-a: 1\n",
                                  "volumes:\n  data: {}\n"])
def test_a_project_without_services_is_not_empty(tmp_path: Path, text: str) -> None:
    (tmp_path / "compose.yaml").write_text(text)
    project = load_project(LoadOptions(cwd=str(tmp_path), project_name="p", environ={}))
    assert project.data["services"] == {}


def test_an_empty_file_beside_another_is_no_error(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text("services:\n  a:\n    image: busybox\n")
    (tmp_path / "empty.yaml").write_text("")
    files = [str(tmp_path / "compose.yaml"), str(tmp_path / "empty.yaml")]
    load_project(LoadOptions(files=files, cwd=str(tmp_path), project_name="p", environ={}))
    (tmp_path / "compose.yaml").write_text("{}\n")
    with pytest.raises(ConfigError, match="^.*compose.yaml, .*empty.yaml: empty compose file$"):
        load_project(LoadOptions(files=files, cwd=str(tmp_path), project_name="p",
                                 environ={}))


@pytest.mark.anyio
async def test_up_with_no_service(tmp_path: Path) -> None:
    engine = MemoryBackend()
    with pytest.raises(ValidationError, match="^no service selected$"):
        await Compose(engine).up(load(tmp_path, "services: {}\n"), UpOptions())
    await Compose(engine).create(load(tmp_path, "services: {}\n"), CreateOptions())
    assert engine.networks == {}
