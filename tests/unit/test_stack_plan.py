"""Swarm stacks without an engine: the specs (composer.backends.spec.swarm), the
deploy and remove plans (composer.plan.stack) and a service's convergence
(composer.runtime.stack). The specs themselves are compared with docker stack
deploy's on a real swarm in tests/swarm/test_stack_diff.py."""

from __future__ import annotations

import base64
import copy
from pathlib import Path
from typing import Any

import pytest

from composer.backends.spec import swarm as spec
from composer.backends.types import NetworkInfo, SwarmObject, SwarmTask
from composer.config.loader import LoadOptions, load_project
from composer.errors import ConfigError
from composer.model.project import Project
from composer.plan import stack as stack_plan
from composer.runtime.stack import convergence


def load(tmp_path: Path, text: str, name: str = "st") -> Project:
    (tmp_path / "compose.yaml").write_text(text)
    return load_project(LoadOptions(files=(str(tmp_path / "compose.yaml"),),
                                    project_name=name)).model


def read(path: str) -> bytes:
    return Path(path).read_bytes()


APP = """\
services:
  web:
    image: busybox:latest
    command: [httpd, -f]
    environment: {B: "2", A: "1", UNSET: null}
    cap_add: [net_admin, CAP_SYS_TIME, ALL]
    cap_drop: [mknod]
    extra_hosts: ["zeta:10.0.0.2", "alpha:10.0.0.1"]
    restart: on-failure:3
    ports: ["8080:80", "53:53/udp"]
    networks: [front]
    secrets: [token]
    depends_on: {db: {condition: service_healthy}}
  db:
    image: busybox:latest
    healthcheck: {test: [CMD, "true"], interval: 1s}
networks:
  front: {attachable: true}
secrets:
  token: {file: ./token.txt}
"""


@pytest.fixture
def app(tmp_path: Path) -> Project:
    (tmp_path / "token.txt").write_text("t0k3n")
    return load(tmp_path, APP)


# -- specs ---------------------------------------------------------------------------------------


def test_a_service_spec_as_docker_stack_deploy_builds_it(app: Project) -> None:
    web = spec.service_spec(app, "st", app.services["web"], secret_ids={"st_token": "S1"})
    assert web["Name"] == "st_web"
    assert web["Labels"] == {"com.docker.stack.namespace": "st",
                             "com.docker.stack.image": "busybox:latest"}
    container = web["TaskTemplate"]["ContainerSpec"]
    assert container["Args"] == ["httpd", "-f"]
    assert container["Env"] == ["A=1", "B=2", "UNSET"]
    assert container["Labels"] == {"com.docker.stack.namespace": "st"}
    # ALL alone; a dropped capability also added is not dropped.
    assert container["CapabilityAdd"] == ["ALL"]
    assert container["CapabilityDrop"] == ["CAP_MKNOD"]
    assert container["Secrets"] == [{"File": {"Name": "token", "UID": "0", "GID": "0",
                                              "Mode": 0o444},
                                     "SecretID": "S1", "SecretName": "st_token"}]
    # restart: is ignored with a warning by docker, yet converted.
    assert web["TaskTemplate"]["RestartPolicy"] == {"Condition": "on-failure", "MaxAttempts": 3}
    assert web["TaskTemplate"]["Networks"] == [{"Target": "st_front", "Aliases": ["web"]}]
    assert web["EndpointSpec"]["Ports"] == [
        {"Protocol": "udp", "TargetPort": 53, "PublishedPort": 53, "PublishMode": "ingress"},
        {"Protocol": "tcp", "TargetPort": 80, "PublishedPort": 8080, "PublishMode": "ingress"}]
    assert web["Mode"] == {"Replicated": {}}


def test_extra_hosts_keep_the_files_order_when_it_is_given(app: Project) -> None:
    service = app.services["web"]
    sorted_hosts = spec.service_spec(app, "st", service)["TaskTemplate"]["ContainerSpec"]
    assert sorted_hosts["Hosts"] == ["10.0.0.1 alpha", "10.0.0.2 zeta"]
    declared = spec.service_spec(app, "st", service,
                                 declared_hosts=["zeta=10.0.0.2", "alpha=10.0.0.1"])
    assert declared["TaskTemplate"]["ContainerSpec"]["Hosts"] == [
        "10.0.0.2 zeta", "10.0.0.1 alpha"]


def test_networks_secrets_and_configs_are_named_and_labelled_by_the_stack(
        app: Project) -> None:
    bodies, external = spec.network_bodies(app, "st")
    assert external == []
    assert bodies["st_front"]["Driver"] == "overlay"
    assert bodies["st_front"]["Attachable"] is True
    assert bodies["st_front"]["Labels"] == {"com.docker.stack.namespace": "st"}
    assert sorted(bodies) == ["st_default", "st_front"]  # db has no networks: default
    [secret] = spec.file_objects(app, "st", "secrets", read)
    assert secret.name == "st_token"
    assert base64.b64decode(secret.spec["Data"]) == b"t0k3n"


@pytest.mark.parametrize(("deploy", "message"), [
    ("{mode: global, replicas: 2}", "replicas can only be used with replicated"),
    ("{mode: sideways}", "unknown mode: sideways"),
])
def test_a_mode_docker_refuses_is_refused_naming_the_key(
        tmp_path: Path, deploy: str, message: str) -> None:
    project = load(tmp_path, f"services:\n  a:\n    image: busybox\n    deploy: {deploy}\n")
    with pytest.raises(ConfigError, match=message) as caught:
        stack_plan.check_project(project, "st")
    assert caught.value.path == ("services", "a", "deploy", "mode")


def test_keys_docker_refuses_and_keys_it_ignores(tmp_path: Path) -> None:
    refused = load(tmp_path, "services:\n  a:\n    image: busybox\n    cpu_shares: 2\n")
    with pytest.raises(ConfigError, match="Set resource limits using deploy.resources"):
        stack_plan.check_project(refused, "st")
    ignored = load(tmp_path, "services:\n  a:\n    image: busybox\n    privileged: true\n"
                             "    build: .\n    container_name: xy\n")
    plan = stack_plan.plan_deploy(ignored, "st", stack_plan.StackObserved(), read=read,
                                  resolve_image="never")
    assert plan.warnings == [
        "Ignoring unsupported options: build, privileged",
        "Ignoring deprecated options: container_name: Setting the container name is not "
        "supported."]


# -- deploy plans --------------------------------------------------------------------------------


def stored(app: Project, name: str, network_ids: dict[str, str]) -> SwarmObject:
    """The service as the engine would keep it: its spec with the engine's defaults
    and network IDs for names."""
    body = copy.deepcopy(spec.service_spec(app, "st", app.services[name],
                                           secret_ids={"st_token": "S1"}))
    body["TaskTemplate"]["ContainerSpec"]["StopGracePeriod"] = 10_000_000_000
    body["TaskTemplate"].setdefault("RestartPolicy", {"Condition": "any", "Delay": 5_000_000_000})
    body["TaskTemplate"]["RestartPolicy"].setdefault("Delay", 5_000_000_000)
    body["UpdateConfig"] = {"Parallelism": 1, "FailureAction": "pause",
                            "Monitor": 5_000_000_000, "Order": "stop-first"}
    body["Mode"] = {"Replicated": {"Replicas": 1}}
    for net in body["TaskTemplate"]["Networks"]:
        net["Target"] = network_ids[net["Target"]]
    labels = body["Labels"]
    return SwarmObject(id=f"id-{name}", name=f"st_{name}", version=7, spec=body, labels=labels)


def deployed(app: Project) -> stack_plan.StackObserved:
    ids = {"st_front": "N1", "st_default": "N2"}
    networks = [NetworkInfo(id=i, name=n, scope="swarm") for n, i in ids.items()]
    token = SwarmObject(id="S1", name="st_token", version=3, spec={})
    return stack_plan.StackObserved(
        services=[stored(app, "web", ids), stored(app, "db", ids)], networks=networks,
        secrets=[token], secrets_by_name={"st_token": token})


def test_a_new_stack_creates_networks_and_secrets_before_its_services(app: Project) -> None:
    plan = stack_plan.plan_deploy(app, "st", stack_plan.StackObserved(), read=read,
                                  resolve_image="never")
    assert str(plan).splitlines() == [
        "#1 network:st_default CreateNetwork: not found",
        "#2 network:st_front CreateNetwork: not found",
        "#3 secret:token CreateSwarmObject: not found",
        "#4 <- #1, #2, #3 service:db CreateService: not found",
        "#5 <- #1, #2, #3 service:web CreateService: not found",
    ]


def test_an_unchanged_stack_plans_no_service_update(app: Project) -> None:
    plan = stack_plan.plan_deploy(app, "st", deployed(app), read=read, resolve_image="never")
    # docker updates the secret (labels only) on every deploy; no service changes.
    assert [step.op for step in plan] == ["UpdateSwarmObject"]
    assert plan.unchanged == ["Service st_db", "Service st_web"]


def test_a_changed_service_is_updated_alone_at_its_version(tmp_path: Path, app: Project) -> None:
    observed = deployed(app)
    (tmp_path / "token.txt").write_text("t0k3n")
    changed = load(tmp_path, APP.replace("[httpd, -f]", "[httpd, -f, -v]"))
    plan = stack_plan.plan_deploy(changed, "st", observed, read=read, resolve_image="never")
    [update] = [step for step in plan if step.op == "UpdateService"]
    assert str(update) == ("#2 <- #1 service:web UpdateService: changed: "
                           "TaskTemplate.ContainerSpec.Args[2]")
    assert update.operation.version == 7  # type: ignore[attr-defined]


def test_prune_removes_the_services_the_file_no_longer_has(app: Project) -> None:
    observed = deployed(app)
    extra = SwarmObject(id="id-old", name="st_old", version=1, spec={})
    observed = stack_plan.StackObserved(
        services=[*observed.services, extra], networks=observed.networks,
        secrets=observed.secrets, secrets_by_name=observed.secrets_by_name)
    kept = stack_plan.plan_deploy(app, "st", observed, read=read, resolve_image="never")
    assert "RemoveService" not in [s.op for s in kept]
    pruned = stack_plan.plan_deploy(app, "st", observed, read=read, resolve_image="never",
                                    prune=True)
    assert str(pruned.steps[0]) == "#1 service:st_old RemoveService: not in the file (--prune)"


def test_ordered_waits_on_each_dependency_before_creating_its_dependents(
        app: Project) -> None:
    plan = stack_plan.plan_deploy(app, "st", stack_plan.StackObserved(), read=read,
                                  resolve_image="never", ordered=True)
    text = str(plan).splitlines()
    assert text[3:] == [
        "#4 <- #1, #2, #3 service:db CreateService: not found",
        "#5 <- #4 service:db WaitService: a dependency",
        "#6 <- #1, #2, #3, #5 service:web CreateService: not found",
    ]
    assert plan.step(5).operation.healthy  # type: ignore[attr-defined]


def test_resolve_image_pins_to_the_digest_or_warns_as_docker(app: Project) -> None:
    queries = stack_plan.digest_queries(app, "st", stack_plan.StackObserved(), "always")
    assert queries == ["busybox:latest"]
    pinned = stack_plan.plan_deploy(app, "st", stack_plan.StackObserved(), read=read,
                                    digests={"busybox:latest": "busybox:latest@sha256:ab"})
    create = [s for s in pinned if s.op == "CreateService"][0]
    assert create.operation.spec["TaskTemplate"]["ContainerSpec"]["Image"] == (  # type: ignore[attr-defined]
        "busybox:latest@sha256:ab")
    offline = stack_plan.plan_deploy(app, "st", stack_plan.StackObserved(), read=read,
                                     digests={"busybox:latest": None})
    assert offline.warnings == ["Ignoring unsupported options: restart",
                                stack_plan.resolve_warning("busybox:latest")]
    # "changed" asks only for an image that changed; "never" asks for none.
    assert stack_plan.digest_queries(app, "st", deployed(app), "changed") == []
    assert stack_plan.digest_queries(app, "st", stack_plan.StackObserved(), "never") == []


def test_an_external_network_must_exist_in_the_swarm_scope(tmp_path: Path) -> None:
    project = load(tmp_path, "services:\n  a:\n    image: busybox\n    networks: [ext]\n"
                             "networks:\n  ext: {external: true, name: shared}\n")
    with pytest.raises(ConfigError, match='network \'shared\' is declared as external, but '
                                          'could not be found'):
        stack_plan.plan_deploy(project, "st", stack_plan.StackObserved(), read=read)
    local = stack_plan.StackObserved(
        external_networks={"shared": NetworkInfo(id="x", name="shared", scope="local")})
    with pytest.raises(ConfigError, match='not in the right scope: "local" instead of "swarm"'):
        stack_plan.plan_deploy(project, "st", local, read=read)


def test_remove_plans_services_before_what_they_use(app: Project) -> None:
    observed = deployed(app)
    plan = stack_plan.plan_remove("st", observed)
    assert [s.op for s in plan] == ["RemoveService", "RemoveService", "RemoveSwarmObject",
                                    "RemoveNetwork", "RemoveNetwork"]
    assert plan.step(3).depends == (1, 2)
    assert stack_plan.plan_remove("st", stack_plan.StackObserved()).warnings == [
        "Nothing found in stack: st"]


def test_spec_changes_ignores_the_engines_defaults_only() -> None:
    wanted = {"TaskTemplate": {"ContainerSpec": {"Image": "a"}}}
    engine = {"TaskTemplate": {"ContainerSpec": {"Image": "a", "StopGracePeriod": 10**10,
                                                 "Isolation": "default"}},
              "UpdateConfig": {"Parallelism": 1, "Monitor": 5 * 10**9}}
    assert stack_plan.spec_changes(wanted, engine) == []
    engine["UpdateConfig"]["Monitor"] = 2 * 10**9  # a monitor the file no longer sets
    assert stack_plan.spec_changes(wanted, engine) == ["UpdateConfig.Monitor"]


# -- convergence ---------------------------------------------------------------------------------


def task(slot: int | None, state: str, desired: str = "running", *, node: str = "n1",
         error: str = "", at: str = "2026-01-01T00:00:01Z") -> SwarmTask:
    return SwarmTask(id=f"t{slot}{state}{at}", service_id="s", slot=slot, node_id=node,
                     desired_state=desired, state=state, error=error, timestamp=at)


def service(mode: dict[str, Any], update: dict[str, str] | None = None) -> SwarmObject:
    return SwarmObject(id="s", name="st_web", version=1, spec={"Mode": mode},
                       update_status=update or {})


def test_a_replicated_service_converges_when_every_slot_runs() -> None:
    web = service({"Replicated": {"Replicas": 2}})
    assert convergence(web, [task(1, "running"), task(2, "starting")]).detail == "1/2"
    failed = convergence(web, [task(1, "running"),
                               task(2, "rejected", error="No such image: x"),
                               task(2, "pending", at="2026-01-01T00:00:02Z")])
    assert (failed.done, failed.detail) == (False, "1/2 (No such image: x)")
    assert convergence(web, [task(1, "running"), task(2, "running")]).done


def test_a_global_service_a_job_and_an_update_that_rolled_back() -> None:
    agent = service({"Global": {}})
    assert convergence(agent, [task(None, "running", node="a"),
                               task(None, "running", node="b")]).detail == "2/2"
    job = service({"ReplicatedJob": {"TotalCompletions": 2}})
    assert not convergence(job, [task(1, "complete"), task(2, "running")]).done
    assert convergence(job, [task(1, "complete"), task(2, "complete")]).done
    rolled = service({"Replicated": {"Replicas": 1}},
                     {"State": "rollback_completed", "Message": "rollback completed"})
    assert convergence(rolled, [task(1, "running")]).failed == "rollback completed"
