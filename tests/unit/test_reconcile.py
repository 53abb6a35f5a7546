"""Golden plans: desired project + observed state -> the plan's text. No engine."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from composer.backends.base import ContainerState, NetworkState, Observed, VolumeState
from composer.backends.errors import NotFoundError
from composer.config.loader import LoadedProject, LoadOptions, load_project
from composer.errors import ValidationError
from composer.model import labels as L
from composer.model.hash import service_config_hash
from composer.model.project import Project
from composer.plan.plan import Plan
from composer.plan.reconcile import (
    DownPlanOptions,
    LifecyclePlanOptions,
    PullPlanOptions,
    UpPlanOptions,
    plan_down,
    plan_kill,
    plan_pause,
    plan_pull,
    plan_restart,
    plan_rm,
    plan_start,
    plan_stop,
    plan_unpause,
    plan_up,
)

WEB = """
services:
  db:
    image: busybox
    healthcheck: {test: ["CMD", "true"]}
    volumes: [data:/data]
  web:
    image: busybox
    depends_on: {db: {condition: service_healthy}}
    ports: ["8080:80"]
  cache:
    image: busybox
volumes:
  data:
"""

SCALED = """
services:
  worker:
    image: busybox
    scale: 2
"""


def load(tmp_path: Path, text: str, name: str = "p") -> LoadedProject:
    (tmp_path / "compose.yaml").write_text(textwrap.dedent(text))
    return load_project(LoadOptions(cwd=str(tmp_path), project_name=name, environ={}))


def model(project: LoadedProject) -> Project:
    """The typed model every planner reads."""
    return project.model


def container(project: LoadedProject, service: str, number: int = 1, *,
              state: str = "running", changed: bool = False, depends_on: str = "",
              networks: tuple[str, ...] = ()) -> ContainerState:
    """A container as ``observe`` reports it: up to date unless ``changed``."""
    services = project.data["services"]
    config_hash = "stale" if changed or service not in services else service_config_hash(
        services[service])
    return ContainerState(
        id=f"{service}{number}".ljust(64, "0"), name=f"{project.name}-{service}-{number}",
        project=project.name, service=service, number=number, oneoff=False, state=state,
        status=state, health=None, exit_code=None, config_hash=config_hash, image="busybox",
        labels={L.DEPENDS_ON: depends_on}, created=number, networks=networks)


def observed(project: LoadedProject, *containers: ContainerState) -> Observed:
    """The project's networks and volumes exist, with these containers."""
    data: dict[str, Any] = project.data
    networks = tuple(NetworkState(k, v["name"], k, {L.PROJECT: project.name})
                     for k, v in (data.get("networks") or {}).items() if not v.get("external"))
    volumes = tuple(VolumeState(v["name"], k, {L.PROJECT: project.name})
                    for k, v in (data.get("volumes") or {}).items() if not v.get("external"))
    return Observed(tuple(containers), networks, volumes)


def running(project: LoadedProject, **states: str) -> Observed:
    """Every service of WEB up to date, running unless ``states`` says otherwise."""
    return observed(project, *(container(project, s, state=states.get(s, "running"))
                               for s in ("db", "web", "cache")))


def text(plan: Plan) -> str:
    return str(plan)


def golden(expected: str) -> str:
    return textwrap.dedent(expected).strip()


# -- up ----------------------------------------------------------------------------------------


def test_fresh_up_creates_everything_and_waits_only_where_asked(tmp_path: Path) -> None:
    project = load(tmp_path, WEB)
    assert text(plan_up(model(project), Observed())) == golden("""
        #1 network:default CreateNetwork: not found
        #2 volume:data CreateVolume: not found
        #3 <- #1 service:cache:1 CreateContainer: no existing container
        #4 <- #1, #2 service:db:1 CreateContainer: no existing container
        #5 <- #1, #4 service:web:1 CreateContainer: no existing container
        #6 <- #3 service:cache:1 StartContainer: created
        #7 <- #4 service:db:1 StartContainer: created
        #8 <- #7 service:db WaitCondition: service_healthy for web
        #9 <- #5, #8 service:web:1 StartContainer: created
    """)


def test_second_up_with_nothing_changed_recreates_nothing(tmp_path: Path) -> None:
    project = load(tmp_path, WEB)
    # As v2 does, the dependency condition is still checked.
    assert text(plan_up(model(project), running(project))) == golden("""
        #1 service:db WaitCondition: service_healthy for web
    """)


def test_changed_service_is_recreated_and_its_neighbours_are_not(tmp_path: Path) -> None:
    project = load(tmp_path, WEB)
    state = observed(project, container(project, "db"), container(project, "web", changed=True),
                     container(project, "cache"))
    plan = plan_up(model(project), state)
    assert text(plan) == golden("""
        #1 service:web:1 CreateContainer: config changed (temporary name) [recreate:web:1]
        #2 <- #1 service:web:1 StopContainer: replaced by #1 [recreate:web:1]
        #3 <- #2 service:web:1 RemoveContainer: replaced by #1 [recreate:web:1]
        #4 <- #3 service:web:1 RenameContainer: finalize recreate [recreate:web:1]
        #5 service:db WaitCondition: service_healthy for web
        #6 <- #4, #5 service:web:1 StartContainer: recreated
    """)
    create = plan.step(1)
    assert create.args["name"] == "web100000000_p-web-1"
    assert create.args["body"]["Labels"][L.CONTAINER_REPLACE] == "web-1"
    assert create.args["inherit"] == "web1".ljust(64, "0")
    assert plan.step(4).args == {**plan.step(4).args, "container": "web100000000_p-web-1",
                                 "name": "p-web-1"}


def test_image_change_recreates(tmp_path: Path) -> None:
    project = load(tmp_path, SCALED)
    state = observed(project, container(project, "worker", 1), container(project, "worker", 2))
    plan = plan_up(model(project), state, UpPlanOptions(image_ids={"busybox": "sha256:new"}))
    assert [s.reason for s in plan if s.op == "CreateContainer"] == [
        "image changed (temporary name)"] * 2


def test_force_recreate_recreates_every_service(tmp_path: Path) -> None:
    project = load(tmp_path, WEB)
    plan = plan_up(model(project), running(project), UpPlanOptions(recreate="force"))
    assert text(plan) == golden("""
        #1 service:cache:1 CreateContainer: forced (temporary name) [recreate:cache:1]
        #2 <- #1 service:cache:1 StopContainer: replaced by #1 [recreate:cache:1]
        #3 <- #2 service:cache:1 RemoveContainer: replaced by #1 [recreate:cache:1]
        #4 <- #3 service:cache:1 RenameContainer: finalize recreate [recreate:cache:1]
        #5 service:db:1 CreateContainer: forced (temporary name) [recreate:db:1]
        #6 <- #5 service:db:1 StopContainer: replaced by #5 [recreate:db:1]
        #7 <- #6 service:db:1 RemoveContainer: replaced by #5 [recreate:db:1]
        #8 <- #7 service:db:1 RenameContainer: finalize recreate [recreate:db:1]
        #9 <- #8 service:web:1 CreateContainer: forced (temporary name) [recreate:web:1]
        #10 <- #9 service:web:1 StopContainer: replaced by #9 [recreate:web:1]
        #11 <- #10 service:web:1 RemoveContainer: replaced by #9 [recreate:web:1]
        #12 <- #11 service:web:1 RenameContainer: finalize recreate [recreate:web:1]
        #13 <- #4 service:cache:1 StartContainer: recreated
        #14 <- #8 service:db:1 StartContainer: recreated
        #15 <- #14 service:db WaitCondition: service_healthy for web
        #16 <- #12, #15 service:web:1 StartContainer: recreated
    """)


def test_no_recreate_keeps_a_changed_container(tmp_path: Path) -> None:
    project = load(tmp_path, WEB)
    state = observed(project, container(project, "db"), container(project, "web", changed=True),
                     container(project, "cache"))
    plan = plan_up(model(project), state, UpPlanOptions(recreate="never"))
    assert text(plan) == golden("""
        #1 service:db WaitCondition: service_healthy for web
    """)


def test_stopped_containers_start_and_paused_ones_unpause(tmp_path: Path) -> None:
    project = load(tmp_path, WEB)
    plan = plan_up(model(project), running(project, web="exited", cache="paused"))
    assert text(plan) == golden("""
        #1 service:cache:1 UnpauseContainer: paused
        #2 service:db WaitCondition: service_healthy for web
        #3 <- #2 service:web:1 StartContainer: exited
    """)


def test_selected_service_brings_its_dependencies(tmp_path: Path) -> None:
    project = load(tmp_path, WEB)
    plan = plan_up(model(project), Observed(), UpPlanOptions(services=["web"]))
    assert text(plan) == golden("""
        #1 network:default CreateNetwork: not found
        #2 volume:data CreateVolume: not found
        #3 <- #1, #2 service:db:1 CreateContainer: no existing container
        #4 <- #1, #3 service:web:1 CreateContainer: no existing container
        #5 <- #3 service:db:1 StartContainer: created
        #6 <- #5 service:db WaitCondition: service_healthy for web
        #7 <- #4, #6 service:web:1 StartContainer: created
    """)


def test_no_deps_touches_only_the_named_service(tmp_path: Path) -> None:
    project = load(tmp_path, WEB)
    plan = plan_up(model(project), Observed(), UpPlanOptions(services=["web"], no_deps=True))
    assert text(plan) == golden("""
        #1 network:default CreateNetwork: not found
        #2 <- #1 service:web:1 CreateContainer: no existing container
        #3 <- #2 service:web:1 StartContainer: created
    """)


def test_no_start_only_creates(tmp_path: Path) -> None:
    project = load(tmp_path, WEB)
    plan = plan_up(model(project), Observed(), UpPlanOptions(start=False))
    assert {s.op for s in plan} == {"CreateNetwork", "CreateVolume", "CreateContainer"}


def test_wait_adds_a_final_wait_per_service(tmp_path: Path) -> None:
    project = load(tmp_path, WEB)
    plan = plan_up(model(project), running(project), UpPlanOptions(wait=True, wait_timeout=30))
    assert text(plan) == golden("""
        #1 service:db WaitCondition: service_healthy for web
        #2 service:cache WaitCondition: running_or_healthy
        #3 service:db WaitCondition: running_or_healthy
        #4 <- #1 service:web WaitCondition: running_or_healthy
    """)
    assert plan.step(2).args["timeout"] == 30


def test_scale_up_adds_the_next_numbers(tmp_path: Path) -> None:
    project = load(tmp_path, SCALED)
    state = observed(project, container(project, "worker", 1), container(project, "worker", 2))
    plan = plan_up(model(project), state, UpPlanOptions(scale={"worker": 4}))
    assert text(plan) == golden("""
        #1 service:worker:3 CreateContainer: no existing container
        #2 service:worker:4 CreateContainer: no existing container
        #3 <- #1 service:worker:3 StartContainer: created
        #4 <- #2 service:worker:4 StartContainer: created
    """)


def test_scale_down_removes_the_highest_numbers(tmp_path: Path) -> None:
    project = load(tmp_path, SCALED)
    state = observed(project, *(container(project, "worker", n) for n in (3, 1, 4, 2)))
    plan = plan_up(model(project), state)
    assert text(plan) == golden("""
        #1 service:worker:3 StopContainer: scale down
        #2 <- #1 service:worker:3 RemoveContainer: scale down
        #3 service:worker:4 StopContainer: scale down
        #4 <- #3 service:worker:4 RemoveContainer: scale down
    """)


def test_scale_down_removes_obsolete_containers_first(tmp_path: Path) -> None:
    project = load(tmp_path, SCALED)
    state = observed(project, container(project, "worker", 1, changed=True),
                     container(project, "worker", 2), container(project, "worker", 3))
    plan = plan_up(model(project), state)
    assert text(plan) == golden("""
        #1 service:worker:1 StopContainer: scale down
        #2 <- #1 service:worker:1 RemoveContainer: scale down
    """)


def test_orphans_are_reported_not_removed(tmp_path: Path) -> None:
    project = load(tmp_path, WEB)
    state = observed(project, *running(project).containers, container(project, "old"))
    plan = plan_up(model(project), state)
    assert text(plan) == golden("#1 service:db WaitCondition: service_healthy for web")
    assert plan.warnings == [
        "Found orphan containers ([p-old-1]) for this project. If you removed or renamed this "
        "service in your compose file, you can run this command with the --remove-orphans flag "
        "to clean it up."]


def test_remove_orphans_removes_them(tmp_path: Path) -> None:
    project = load(tmp_path, WEB)
    state = observed(project, *running(project).containers, container(project, "old"))
    plan = plan_up(model(project), state, UpPlanOptions(remove_orphans=True))
    assert text(plan) == golden("""
        #1 orphan:p-old-1 StopContainer: orphaned container
        #2 <- #1 orphan:p-old-1 RemoveContainer: orphaned container
        #3 service:db WaitCondition: service_healthy for web
    """)
    assert plan.warnings == []


def test_services_disabled_by_a_profile_are_not_orphans(tmp_path: Path) -> None:
    project = load(tmp_path, WEB)
    state = observed(project, *running(project).containers, container(project, "debug"))
    plan = plan_up(model(project), state, UpPlanOptions(known_services={"debug"}))
    assert plan.warnings == []


def test_external_network_and_volume_are_only_checked(tmp_path: Path) -> None:
    project = load(tmp_path, """
        services:
          app:
            image: busybox
            networks: [shared]
            volumes: [keep:/keep]
        networks:
          shared: {external: true, name: corp_net}
        volumes:
          keep: {external: true}
    """)
    plan = plan_up(model(project), Observed(),
                   UpPlanOptions(existing_external={"corp_net", "keep"}))
    assert text(plan) == golden("""
        #1 service:app:1 CreateContainer: no existing container
        #2 <- #1 service:app:1 StartContainer: created
    """)
    with pytest.raises(NotFoundError, match="network corp_net declared as external, but could "
                                            "not be found"):
        plan_up(model(project), Observed(), UpPlanOptions(existing_external={"keep"}))
    with pytest.raises(NotFoundError, match='external volume "keep" not found'):
        plan_up(model(project), Observed(), UpPlanOptions(existing_external={"corp_net"}))
    down = plan_down(model(project), Observed(
        (container(project, "app"),), (NetworkState("n", "corp_net", "shared", {}),),
        (VolumeState("keep", "keep", {}),)), DownPlanOptions(volumes=True))
    assert text(down) == golden("""
        #1 service:app:1 StopContainer: down
        #2 <- #1 service:app:1 RemoveContainer: down
    """)


def test_service_healthy_chain_waits_hop_by_hop(tmp_path: Path) -> None:
    project = load(tmp_path, """
        services:
          a:
            image: busybox
            depends_on: {b: {condition: service_healthy}}
          b:
            image: busybox
            healthcheck: {test: ["CMD", "true"]}
            depends_on: {c: {condition: service_healthy}}
          c:
            image: busybox
            healthcheck: {test: ["CMD", "true"]}
    """)
    assert text(plan_up(model(project), Observed())) == golden("""
        #1 network:default CreateNetwork: not found
        #2 <- #1 service:c:1 CreateContainer: no existing container
        #3 <- #1, #2 service:b:1 CreateContainer: no existing container
        #4 <- #1, #3 service:a:1 CreateContainer: no existing container
        #5 <- #2 service:c:1 StartContainer: created
        #6 <- #5 service:c WaitCondition: service_healthy for b
        #7 <- #3, #6 service:b:1 StartContainer: created
        #8 <- #7 service:b WaitCondition: service_healthy for a
        #9 <- #4, #8 service:a:1 StartContainer: created
    """)


def test_completed_successfully_and_a_shared_wait(tmp_path: Path) -> None:
    project = load(tmp_path, """
        services:
          db:
            image: busybox
            healthcheck: {test: ["CMD", "true"]}
          migrate:
            image: busybox
            depends_on: {db: {condition: service_healthy}}
          web:
            image: busybox
            depends_on:
              db: {condition: service_healthy, required: false}
              migrate: {condition: service_completed_successfully}
    """)
    plan = plan_up(model(project), Observed(), UpPlanOptions(start=True))
    waits = [s for s in plan if s.op == "WaitCondition"]
    assert [str(s).split(" ", 1)[1] for s in waits] == [
        "<- #5 service:db WaitCondition: service_healthy for migrate, web",
        "<- #7 service:migrate WaitCondition: service_completed_successfully for web",
    ]
    # One required dependent makes the shared wait required.
    assert waits[0].args["required"] is True
    assert waits[0].args["containers"] == ("p-db-1",)


def test_restart_true_dependents_are_stopped_and_started_around_a_recreate(
        tmp_path: Path) -> None:
    project = load(tmp_path, """
        services:
          db:
            image: busybox
          web:
            image: busybox
            depends_on: {db: {condition: service_started, restart: true}}
    """)
    state = observed(project, container(project, "db", changed=True), container(project, "web"))
    assert text(plan_up(model(project), state)) == golden("""
        #1 service:web:1 StopContainer: dependency db being recreated
        #2 <- #1 service:db:1 CreateContainer: config changed (temporary name) [recreate:db:1]
        #3 <- #2 service:db:1 StopContainer: replaced by #2 [recreate:db:1]
        #4 <- #3 service:db:1 RemoveContainer: replaced by #2 [recreate:db:1]
        #5 <- #4 service:db:1 RenameContainer: finalize recreate [recreate:db:1]
        #6 <- #5 service:db:1 StartContainer: recreated
        #7 <- #1, #6 service:web:1 StartContainer: dependency recreated
    """)
    # A dependent this run does not start again is not stopped either.
    alone = plan_up(model(project), state, UpPlanOptions(services=["db"]))
    assert "service:web" not in text(alone)


def test_shared_network_namespace_follows_its_parent(tmp_path: Path) -> None:
    project = load(tmp_path, """
        services:
          vpn:
            image: busybox
          app:
            image: busybox
            network_mode: "service:vpn"
    """)
    state = observed(project, container(project, "vpn", changed=True), container(project, "app"))
    plan = plan_up(model(project), state)
    creates = [s for s in plan if s.op == "CreateContainer"]
    assert [(s.resource, s.reason) for s in creates] == [
        ("service:vpn:1", "config changed (temporary name)"),
        ("service:app:1", "vpn recreated (temporary name)"),
    ]
    assert creates[1].args["body"]["HostConfig"]["NetworkMode"] == "container:p-vpn-1"


def test_extra_networks_are_connected_before_start(tmp_path: Path) -> None:
    project = load(tmp_path, """
        services:
          web:
            image: busybox
            networks: [front, back]
        networks:
          front:
          back:
    """)
    assert text(plan_up(model(project), Observed())) == golden("""
        #1 network:back CreateNetwork: not found
        #2 network:front CreateNetwork: not found
        #3 <- #1, #2 service:web:1 CreateContainer: no existing container
        #4 <- #3 service:web:1 ConnectNetwork: network p_front
        #5 <- #4 service:web:1 StartContainer: created
    """)


def test_container_name_cannot_scale(tmp_path: Path) -> None:
    project = load(tmp_path, """
        services:
          web:
            image: busybox
            container_name: the-web
    """)
    with pytest.raises(ValidationError, match='"web" service is using the custom container '
                                              'name "the-web"'):
        plan_up(model(project), Observed(), UpPlanOptions(scale={"web": 2}))
    plan = plan_up(model(project), Observed())
    assert plan.step(2).args["name"] == "the-web"


# -- pull --------------------------------------------------------------------------------------


def test_pull_follows_each_pull_policy(tmp_path: Path) -> None:
    project = load(tmp_path, """
        services:
          a: {image: busybox}
          b: {image: "alpine:3", pull_policy: always}
          c: {image: nginx}
          d: {image: nginx}
          e: {image: "local/thing", pull_policy: never}
    """)
    present = {"busybox": "sha256:1", "alpine:3": "sha256:2", "local/thing": "sha256:3"}
    assert text(plan_pull(model(project), present)) == golden("""
        #1 image:alpine:3 PullImage: pull_policy always
        #2 image:nginx PullImage: not found locally
    """)
    everything = {**present, "nginx": "sha256:4"}
    assert len(plan_pull(model(project), everything, PullPlanOptions(policy="never"))) == 0
    # never with an absent image: refused at planning, before anything is created
    with pytest.raises(NotFoundError, match='service "c": image "nginx" is not present.*--pull'):
        plan_pull(model(project), present, PullPlanOptions(policy="never"))
    with pytest.raises(NotFoundError, match='service "e": .*"local/thing".*pull_policy: never'):
        plan_pull(model(project), {"busybox": "sha256:1"}, PullPlanOptions(services=["e"]))


def test_an_absent_image_to_build_is_pulled_first_only_when_named(tmp_path: Path) -> None:
    # v2 tries the pull of an image: that can be built (the build follows if it
    # fails); {project}-{service} is only ever built.
    (tmp_path / "Dockerfile").write_text("FROM busybox\n")
    project = load(tmp_path, "services:\n  app:\n    build: .\n  named:\n    image: x/y\n"
                             "    build: .\n")
    assert text(plan_pull(model(project), {})) == golden("""
        #1 image:x/y PullImage: not found locally, built if the pull fails
    """)
    assert len(plan_pull(model(project), {"p-app": "sha256:1", "x/y": "sha256:2"})) == 0


# -- down --------------------------------------------------------------------------------------


def test_down_stops_dependents_first_and_keeps_volumes(tmp_path: Path) -> None:
    project = load(tmp_path, WEB)
    assert text(plan_down(model(project), running(project, cache="exited"))) == golden("""
        #1 service:web:1 StopContainer: down
        #2 <- #1 service:web:1 RemoveContainer: down
        #3 <- #2 service:db:1 StopContainer: down
        #4 <- #3 service:db:1 RemoveContainer: down
        #5 service:cache:1 RemoveContainer: down
        #6 <- #2, #4, #5 network:default RemoveNetwork: down
    """)


def test_down_volumes_removes_named_and_anonymous_volumes(tmp_path: Path) -> None:
    project = load(tmp_path, WEB)
    plan = plan_down(model(project), running(project, cache="exited"),
                     DownPlanOptions(volumes=True))
    assert text(plan).splitlines()[-1] == (
        "#7 <- #2, #4, #5 volume:data RemoveVolume: down --volumes")
    assert all(s.args["volumes"] for s in plan if s.op == "RemoveContainer")


def test_down_with_a_service_takes_its_dependents_and_leaves_the_network(
        tmp_path: Path) -> None:
    project = load(tmp_path, WEB)
    plan = plan_down(model(project), running(project), DownPlanOptions(services=["db"]))
    assert text(plan) == golden("""
        #1 service:web:1 StopContainer: down
        #2 <- #1 service:web:1 RemoveContainer: down
        #3 <- #2 service:db:1 StopContainer: down
        #4 <- #3 service:db:1 RemoveContainer: down
    """)


def test_down_by_project_name_uses_labels(tmp_path: Path) -> None:
    project = load(tmp_path, """
        services:
          a: {image: busybox}
          b: {image: busybox}
          c: {image: busybox}
    """)
    state = observed(project, container(project, "c"),
                     container(project, "a", depends_on="b:service_healthy:false"),
                     container(project, "b", depends_on="c:service_started:true"))
    assert text(plan_down("p", state)) == golden("""
        #1 service:a:1 StopContainer: down
        #2 <- #1 service:a:1 RemoveContainer: down
        #3 <- #2 service:b:1 StopContainer: down
        #4 <- #3 service:b:1 RemoveContainer: down
        #5 <- #4 service:c:1 StopContainer: down
        #6 <- #5 service:c:1 RemoveContainer: down
        #7 <- #2, #4, #6 network:default RemoveNetwork: down
    """)


def test_down_with_nothing_to_remove_warns(tmp_path: Path) -> None:
    project = load(tmp_path, WEB)
    plan = plan_down(model(project), Observed())
    assert len(plan) == 0
    assert plan.warnings == ['No resource found to remove for project "p".']


def test_down_removes_orphans_only_when_asked(tmp_path: Path) -> None:
    project = load(tmp_path, SCALED)
    state = observed(project, container(project, "worker"), container(project, "old"))
    kept = plan_down(model(project), state)
    assert "orphan" not in text(kept)
    gone = plan_down(model(project), state, DownPlanOptions(remove_orphans=True))
    assert "#3 orphan:p-old-1 StopContainer: orphaned container" in text(gone)


# -- the other lifecycle commands --------------------------------------------------------------


def test_stop_start_restart_plans(tmp_path: Path) -> None:
    project = load(tmp_path, WEB)
    mixed = running(project, web="exited", cache="paused")
    assert text(plan_stop(model(project), mixed)) == golden("""
        #1 service:db:1 StopContainer: running
        #2 service:cache:1 StopContainer: paused
    """)
    stopped = running(project, db="exited", web="exited")
    assert text(plan_start(model(project), stopped, LifecyclePlanOptions(services=["web"]))) == \
        golden("""
        #1 service:db:1 StartContainer: exited
        #2 <- #1 service:db WaitCondition: service_healthy for web
        #3 <- #2 service:web:1 StartContainer: exited
    """)
    assert text(plan_restart(model(project), running(project))) == golden("""
        #1 service:web:1 StopContainer: restart
        #2 <- #1 service:db:1 StopContainer: restart
        #3 service:cache:1 StopContainer: restart
        #4 <- #3 service:cache:1 StartContainer: restart
        #5 <- #2 service:db:1 StartContainer: restart
        #6 <- #5 service:db WaitCondition: service_healthy for web
        #7 <- #1, #6 service:web:1 StartContainer: restart
    """)


def test_start_without_containers_says_so(tmp_path: Path) -> None:
    project = load(tmp_path, WEB)
    with pytest.raises(NotFoundError, match='no container found for project "p"'):
        plan_start(model(project), Observed())
    state = observed(project, container(project, "db"), container(project, "cache"))
    with pytest.raises(NotFoundError, match='service "web" has no container to start'):
        plan_start(model(project), state)


def test_kill_rm_pause_unpause_plans(tmp_path: Path) -> None:
    project = load(tmp_path, WEB)
    mixed = running(project, web="exited", cache="paused")
    kill = plan_kill(model(project), mixed, LifecyclePlanOptions(signal="SIGTERM"))
    assert text(kill) == golden("""
        #1 service:cache:1 KillContainer: paused
        #2 service:db:1 KillContainer: running
    """)
    assert {s.args["signal"] for s in kill} == {"SIGTERM"}
    # Podman's state while a stop waits out the grace period: a kill ends the wait.
    stopping = running(project, web="stopping", cache="exited")
    assert text(plan_kill(model(project), stopping)) == golden("""
        #1 service:db:1 KillContainer: running
        #2 service:web:1 KillContainer: stopping
    """)
    assert text(plan_rm(model(project), mixed)) == "#1 service:web:1 RemoveContainer: exited"
    assert text(plan_rm(model(project), mixed, LifecyclePlanOptions(stop=True))) == golden("""
        #1 service:cache:1 StopContainer: rm --stop
        #2 <- #1 service:cache:1 RemoveContainer: paused
        #3 service:db:1 StopContainer: rm --stop
        #4 <- #3 service:db:1 RemoveContainer: running
        #5 service:web:1 RemoveContainer: exited
    """)
    assert plan_rm(model(project), running(project)).warnings == ["No stopped containers"]
    assert text(plan_pause(model(project), mixed)) == "#1 service:db:1 PauseContainer: running"
    assert text(plan_unpause(model(project), mixed)) == \
        "#1 service:cache:1 UnpauseContainer: paused"


def test_unknown_service_is_refused(tmp_path: Path) -> None:
    project = load(tmp_path, WEB)
    with pytest.raises(ValidationError, match="no such service: nope"):
        plan_up(model(project), Observed(), UpPlanOptions(services=["nope"]))
