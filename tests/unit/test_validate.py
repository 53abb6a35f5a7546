"""Semantic validation of a normalised project (v2's long form, built as dicts here).

Every verdict below was checked against Docker Compose v2.40.3 (`docker-compose
config` on the equivalent YAML); messages are v2's without ``: invalid compose
project``, located by key path.
"""

from __future__ import annotations

from typing import Any

import pytest

from composer.config.validate import validate_project
from composer.errors import ConfigError, Mark, ValidationError

Path = tuple[str | int, ...]


def svc(**attrs: Any) -> dict[str, Any]:
    return {"image": "busybox", **attrs}


def project(services: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"name": "p", "services": services, **top}


def locator(marks: dict[Path, tuple[int, int]], file: str = "compose.yaml") -> Any:
    """A locator like the loader's: the mark of a path or of its nearest ancestor."""

    def locate(path: Path) -> Mark | None:
        p = tuple(path)
        while p:
            if p in marks:
                return Mark(file, *marks[p])
            p = p[:-1]
        return None

    return locate


def error(data: dict[str, Any], locate: Any = None, **kwargs: Any) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        validate_project(data, locate, **kwargs)
    return info.value


def failure(data: dict[str, Any], **kwargs: Any) -> str:
    return str(error(data, **kwargs))


VOLUME = {"type": "volume", "source": "data", "target": "/data"}


# -- undefined references --------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "expected"),
    [
        (svc(depends_on={"db": {"condition": "service_started", "required": True}}),
         'services.web.depends_on.db: service "web" depends on undefined service "db"'),
        (svc(networks={"front": None}),
         'services.web.networks.front: service "web" refers to undefined network front'),
        (svc(volumes=[VOLUME]),
         'services.web.volumes[0]: service "web" refers to undefined volume data'),
        (svc(secrets=[{"source": "token"}]),
         'services.web.secrets[0]: service "web" refers to undefined secret token'),
        (svc(configs=[{"source": "conf"}]),
         'services.web.configs[0]: service "web" refers to undefined config conf'),
        (svc(build={"context": ".", "secrets": [{"source": "npmrc"}]}),
         'services.web.build.secrets[0]: service "web" refers to undefined build secret npmrc'),
        # v2 turns these into depends_on entries and reports them as such.
        (svc(network_mode="service:db"),
         'services.web.network_mode: service "web" depends on undefined service "db"'),
        (svc(links=["db:database"]),
         'services.web.links[0]: service "web" depends on undefined service "db"'),
        (svc(volumes_from=["db:ro"]),
         'services.web.volumes_from[0]: service "web" depends on undefined service "db"'),
        (svc(volumes_from=["service:db"]),
         'services.web.volumes_from[0]: service "web" depends on undefined service "service"'),
        (svc(ipc="service:db"),
         'services.web.ipc: service "web" depends on undefined service "db"'),
    ],
)
def test_undefined_reference(service: dict[str, Any], expected: str) -> None:
    assert failure(project({"web": service})) == expected


def test_defined_references_pass() -> None:
    web = svc(
        depends_on={"db": {"condition": "service_healthy", "required": True}},
        networks={"front": None, "default": None},
        volumes=[VOLUME, {"type": "volume", "target": "/anon"},
                 {"type": "bind", "source": "/x", "target": "/y"}],
        secrets=[{"source": "token", "target": "/run/secrets/token"}],
        configs=[{"source": "conf"}],
        build={"context": ".", "secrets": [{"source": "token"}]},
        links=["db:database"],
        volumes_from=["db", "container:other"],
        models={"llm": None},
    )
    data = project(
        {"web": web, "db": svc()},
        networks={"front": {"name": "p_front"}, "default": {"name": "p_default"}},
        volumes={"data": {"name": "p_data"}},
        secrets={"token": {"name": "p_token", "file": "/t"}},
        configs={"conf": {"name": "p_conf", "content": "x"}},
    )
    validate_project(data)
    # v2 does not print top-level models: only what was declared can tell.
    validate_project(data, declared={**data, "models": {"llm": {"model": "ai/x"}}})
    with pytest.raises(ValidationError, match='refers to undefined model llm'):
        validate_project(data, declared=data)


def test_optional_dependency_on_a_service_disabled_by_a_profile_is_allowed() -> None:
    web = svc(depends_on={"db": {"condition": "service_started", "required": False}})
    validate_project(project({"web": web}), all_services=["web", "db"])


def test_optional_dependency_on_a_service_that_does_not_exist_is_refused() -> None:
    web = svc(depends_on={"db": {"condition": "service_started", "required": False}})
    assert failure(project({"web": web}), all_services=["web"]) == (
        'services.web.depends_on.db: service "web" depends on undefined service "db"')
    # Not knowing which services profiles disabled, it gets the benefit of the doubt.
    validate_project(project({"web": web}))


def test_required_dependency_on_a_disabled_service_is_undefined() -> None:
    web = svc(depends_on={"db": {"condition": "service_started", "required": True}})
    assert failure(project({"web": web}), all_services=["web", "db"]) == (
        'services.web.depends_on.db: service "web" depends on undefined service "db"')
    assert failure(project({"web": svc(links=["db"])}), all_services=["web", "db"]) == (
        'services.web.links[0]: service "web" depends on undefined service "db"')


# -- service definitions ---------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "expected"),
    [
        ({"command": ["true"]},
         'services.web: service "web" has neither an image nor a build context specified'),
        ({"image": ""},
         'services.web: service "web" has neither an image nor a build context specified'),
        (svc(platform="linux/riscv64", build={"context": ".", "platforms": ["linux/amd64"]}),
         'services.web.build.platforms: service.build.platforms MUST include '
         'service.platform "linux/riscv64"'),
        ({"build": {"context": ".", "dockerfile": "Dockerfile", "dockerfile_inline": "FROM x"}},
         'services.web.build.dockerfile_inline: service "web" declares mutually exclusive '
         'dockerfile and dockerfile_inline'),
        (svc(network_mode="host", networks={"default": None}),
         "services.web.networks: service web declares mutually exclusive `network_mode` and "
         "`networks`"),
        (svc(healthcheck={"test": ["FOO", "x"]}),
         'services.web.healthcheck.test: healthcheck.test must start either by "CMD", '
         '"CMD-SHELL" or "NONE"'),
        (svc(container_name="w", deploy={"replicas": 2}),
         "services.web.container_name: can't set container_name and deploy.replicas as "
         "container name must be unique"),
        (svc(container_name="w", scale=3),
         "services.web.container_name: can't set container_name and scale as container name "
         "must be unique"),
        (svc(scale=2, deploy={"replicas": 3}),
         "services.web.deploy.replicas: can't set distinct values on 'scale' and "
         "'deploy.replicas'"),
        (svc(cpus=0.5, deploy={"resources": {"limits": {"cpus": 1.0}}}),
         "services.web.cpus: can't set distinct values on 'cpus' and "
         "'deploy.resources.limits.cpus'"),
        (svc(mem_limit="1073741824", deploy={"resources": {"limits": {"memory": "2147483648"}}}),
         "services.web.mem_limit: can't set distinct values on 'mem_limit' and "
         "'deploy.resources.limits.memory'"),
        # An unset deploy limit beside other limits counts as 0: v2 refuses that too.
        (svc(mem_limit="1073741824", deploy={"resources": {"limits": {"cpus": 1.0}}}),
         "services.web.mem_limit: can't set distinct values on 'mem_limit' and "
         "'deploy.resources.limits.memory'"),
        (svc(mem_reservation="5242880",
             deploy={"resources": {"reservations": {"memory": "10485760"}}}),
         "services.web.mem_reservation: can't set distinct values on 'mem_reservation' and "
         "'deploy.resources.reservations.memory'"),
        (svc(pids_limit=5, deploy={"resources": {"limits": {"pids": 10}}}),
         "services.web.pids_limit: can't set distinct values on 'pids_limit' and "
         "'deploy.resources.limits.pids'"),
        (svc(develop={"watch": [{"path": "/src", "action": "sync"}]}),
         "services.web.develop.watch[0]: target is required for non-rebuild actions"),
    ],
)
def test_service_definition(service: dict[str, Any], expected: str) -> None:
    assert failure(project({"web": service})) == expected


@pytest.mark.parametrize(
    "service",
    [
        svc(restart="sometimes"),  # v2 leaves unknown restart policies to the engine
        svc(restart="on-failure:abc"),
        svc(ports=[{"target": 80, "published": "abc", "protocol": "xyz", "mode": "ingress"}]),
        svc(ports=[{"target": 70000, "mode": "ingress", "protocol": "tcp"}]),
        svc(container_name="w", deploy={"replicas": 1}, scale=1),
        svc(container_name="w", deploy={"replicas": 0}),
        svc(mem_limit="1073741824", deploy={"resources": {}}),
        svc(mem_limit="1073741824", deploy={"resources": {"reservations": {"memory": "1"}}}),
        svc(cpus=0.5, deploy={"resources": {"limits": {"cpus": "0.50"}}}),
        svc(mem_limit="1g", deploy={"resources": {"limits": {"memory": "1073741824"}}}),
        svc(memswap_limit="-1", shm_size="1073741824", stop_grace_period="1m30s"),
        svc(healthcheck={"test": ["CMD-SHELL", "true"], "interval": "1m0s", "timeout": "1µs"}),
        svc(healthcheck={"disable": True}),
        svc(ports=[{"target": 80, "host_ip": "::1", "mode": "ingress", "protocol": "tcp"}]),
        svc(tmpfs=["/data", "/data"]),
        svc(volumes=[{"type": "tmpfs", "target": "/data"},
                     {"type": "bind", "source": "/tmp", "target": "/data"}]),
        svc(platform="linux/amd64", build={"context": ".", "platforms": ["linux/amd64"]}),
        svc(develop={"watch": [{"path": "/src", "action": "rebuild"}]}),
        {"provider": {"type": "model", "options": {"model": "ai/x"}}},
        {"build": {"context": "."}},
    ],
)
def test_v2_accepts(service: dict[str, Any]) -> None:
    validate_project(project({"web": service}))


# -- values that should not have survived normalisation -------------------------


@pytest.mark.parametrize(
    ("service", "expected"),
    [
        (svc(stop_grace_period="10 parsecs"),
         'services.web.stop_grace_period: unknown unit " parsecs" in duration "10 parsecs"'),
        (svc(healthcheck={"interval": "abc"}),
         'services.web.healthcheck.interval: invalid duration "abc"'),
        (svc(deploy={"restart_policy": {"delay": "10"}}),
         'services.web.deploy.restart_policy.delay: missing unit in duration "10"'),
        (svc(shm_size="lots"), "services.web.shm_size: invalid size: 'lots'"),
        # compose-go's unsigned fields (v2: "'services[web].healthcheck.retries' cannot
        # parse value as 'uint64': -1 overflows uint", after "decoding failed ...").
        (svc(healthcheck={"test": ["CMD", "true"], "retries": -1}),
         "services.web.healthcheck.retries: cannot parse value as 'uint64': -1 overflows uint"),
        (svc(deploy={"restart_policy": {"max_attempts": -1}}),
         "services.web.deploy.restart_policy.max_attempts: cannot parse value as 'uint64': "
         "-1 overflows uint"),
        (svc(blkio_config={"weight": -1}),
         "services.web.blkio_config.weight: cannot parse value as 'uint16': -1 overflows uint"),
        # v2: "services.web.ports.[]: invalid ip address: 1.2.3"
        (svc(ports=[{"target": 80, "host_ip": "1.2.3", "mode": "ingress", "protocol": "tcp"}]),
         "services.web.ports[0].host_ip: invalid ip address: 1.2.3"),
        # v2's words exactly
        (svc(tmpfs=["/data:size=1m"], volumes=[{"type": "bind", "source": "/tmp",
                                                 "target": "/data"}]),
         "services.web.volumes[0]: target /data already mounted as services.web.tmpfs[0]"),
    ],
)
def test_malformed_values(service: dict[str, Any], expected: str) -> None:
    assert failure(project({"web": service})) == expected


def test_malformed_byte_size_is_refused() -> None:
    err = error(project({"web": svc(mem_limit="12XB")}))
    assert err.path == ("services", "web", "mem_limit")


# -- top-level declarations ---------------------------------------------------------


@pytest.mark.parametrize(
    ("top", "expected"),
    [
        ({"volumes": {"data": {"external": True, "driver": "local"}}},
         'volumes.data.driver: conflicting parameters "external" and "driver" specified'),
        ({"volumes": {"data": {"external": True, "name": "d", "labels": {"a": "b"}}}},
         'volumes.data.labels: conflicting parameters "external" and "labels" specified'),
        ({"secrets": {"s": {"file": "/x", "environment": "X"}}},
         "secrets.s: file|environment attributes are mutually exclusive"),
        ({"secrets": {"s": {"name": "s"}}}, "secrets.s: one of file|environment must be set"),
        ({"secrets": {"s": {"driver": "vault"}}},
         'secrets.s: secret "s" must declare either `file` or `environment`'),
        ({"configs": {"c": {"content": "a", "file": "/x"}}},
         "configs.c: file|environment|content attributes are mutually exclusive"),
        ({"configs": {"c": {}}}, "configs.c: one of file|environment|content must be set"),
    ],
)
def test_declaration(top: dict[str, Any], expected: str) -> None:
    assert failure(project({"web": svc()}, **top)) == expected


@pytest.mark.parametrize(
    "top",
    [
        # v2.40.3 checks extra attributes on external volumes only.
        {"networks": {"n": {"external": True, "driver": "bridge", "name": "n"}}},
        {"secrets": {"s": {"external": True, "file": "/x"}}},
        {"volumes": {"v": {"external": True, "name": "v", "x-note": 1}}},
        {"configs": {"c": {"external": True}}},
    ],
)
def test_declarations_v2_accepts(top: dict[str, Any]) -> None:
    validate_project(project({"web": svc()}, **top))


def test_unused_declarations_are_checked_when_the_loader_passes_them() -> None:
    # Normalisation drops unused resources; v2 still refuses a bad one.
    data = project({"web": svc()})
    declared = {**data, "volumes": {"data": {"external": True, "driver": "local"}}}
    validate_project(data)
    assert failure(data, declared=declared) == (
        'volumes.data.driver: conflicting parameters "external" and "driver" specified')


def test_blank_watch_path_is_refused_before_paths_are_resolved() -> None:
    web = svc(develop={"watch": [{"path": "", "action": "rebuild"}]})
    data = project({"web": {**web, "develop": {"watch": [{"path": "/p", "action": "rebuild"}]}}})
    assert failure(data, declared=project({"web": web})) == (
        "services.web.develop.watch[0].path: value can't be blank")


# -- cycles --------------------------------------------------------------------------


def test_cycle_is_named_hop_by_hop() -> None:
    data = project({
        "a": svc(depends_on={"b": {"condition": "service_started", "required": True}}),
        "b": svc(depends_on={"c": {"condition": "service_started", "required": True}}),
        "c": svc(depends_on={"a": {"condition": "service_started", "required": True}}),
    })
    assert failure(data) == "services.a.depends_on.b: dependency cycle detected: a -> b -> c -> a"


def test_cycle_through_links_points_at_the_link() -> None:
    data = project({"a": svc(links=["b"]), "b": svc(volumes_from=["a"])})
    assert failure(data) == "services.a.links[0]: dependency cycle detected: a -> b -> a"


# -- which error first -----------------------------------------------------------------


def test_first_error_in_file_order_wins() -> None:
    data = project({
        "a": svc(networks={"nope": None}),
        "b": svc(volumes=[VOLUME]),
    })
    marks = {
        ("services", "a"): (2, 5), ("services", "a", "networks", "nope"): (9, 9),
        ("services", "b"): (3, 5), ("services", "b", "volumes", 0): (4, 9),
    }
    err = error(data, locator(marks))
    assert str(err) == (
        'compose.yaml:4:9: services.b.volumes[0]: service "b" refers to undefined volume data')
    assert err.mark == Mark("compose.yaml", 4, 9)
    assert err.path == ("services", "b", "volumes", 0)
    assert isinstance(err, ConfigError) and err.exit_code == 15


def test_without_marks_project_order_decides() -> None:
    data = project({"b": svc(networks={"nope": None}), "a": svc(volumes=[VOLUME])})
    assert failure(data).startswith("services.b.networks.nope:")


def test_several_files_rank_in_the_order_they_come_up() -> None:
    data = project({"a": svc(networks={"nope": None}), "b": svc(volumes=[VOLUME])})

    def locate(path: Path) -> Mark | None:
        if path[:2] == ("services", "a"):
            return Mark("base.yaml", 30, 1)
        return Mark("override.yaml", 2, 1)

    assert str(error(data, locate)).startswith("base.yaml:30:1: services.a.networks.nope:")


def test_declarations_come_before_consistency_and_consistency_before_cycles() -> None:
    # v2's stages: declarations, then consistency, then cycles.
    data = project(
        {
            "a": svc(depends_on={"b": {"condition": "service_started", "required": True}}),
            "b": svc(depends_on={"a": {"condition": "service_started", "required": True}},
                     networks={"nope": None}),
        },
        secrets={"s": {}},
    )
    assert failure(data) == "secrets.s: one of file|environment must be set"
    del data["secrets"]
    assert failure(data).startswith("services.b.networks.nope:")
    del data["services"]["b"]["networks"]
    assert failure(data).endswith("dependency cycle detected: a -> b -> a")


def test_implicit_dependency_is_located_where_it_was_written() -> None:
    # Normalisation adds links to depends_on; the locator finds only the link.
    web = svc(links=["db"], depends_on={"db": {"condition": "service_started",
                                                "required": True, "restart": True}})
    marks = {("services", "web"): (3, 5), ("services", "web", "links", 0): (5, 9)}
    assert str(error(project({"web": web}), locator(marks))) == (
        'compose.yaml:5:9: services.web.links[0]: service "web" depends on undefined service "db"')


def test_explicit_dependency_written_before_a_link_is_reported_there() -> None:
    web = svc(links=["db"], depends_on={"db": {"condition": "service_started",
                                                "required": True}})
    marks = {
        ("services", "web"): (3, 5),
        ("services", "web", "depends_on"): (4, 7),
        ("services", "web", "depends_on", "db"): (5, 9),
        ("services", "web", "links", 0): (7, 9),
    }
    assert str(error(project({"web": web}), locator(marks))).startswith(
        "compose.yaml:5:9: services.web.depends_on.db:")


def test_thousand_services_validate() -> None:
    services = {
        f"s{i}": svc(
            depends_on={f"s{j}": {"condition": "service_started", "required": True}
                        for j in range(max(0, i - 3), i)},
            networks={"default": None},
            volumes=[VOLUME],
        )
        for i in range(1000)
    }
    data = project(services, networks={"default": {"name": "p_default"}},
                   volumes={"data": {"name": "p_data"}})
    validate_project(data, locator({}))
    services["s999"]["depends_on"]["s999"] = {"condition": "service_started", "required": True}
    assert failure(data) == (
        "services.s999.depends_on.s999: dependency cycle detected: s999 -> s999")
