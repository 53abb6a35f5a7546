"""Builds without an engine: which services build, the request each gets, the context
tar, and how the classic builder's progress stream is read."""

from __future__ import annotations

import tarfile
import textwrap
from pathlib import Path

import pytest

from composer.backends.base import BuildRequest
from composer.backends.docker.build import INLINE_DOCKERFILE, BuildProgress, make_context
from composer.config.loader import LoadOptions, load_project
from composer.errors import BuildError, NotFoundError, UnsupportedError
from composer.model.project import Project
from composer.plan.build import BuildPlanOptions, build_request, plan_build


def project(folder: Path, text: str, env: dict[str, str] | None = None) -> Project:
    (folder / "compose.yaml").write_text(textwrap.dedent(text))
    loaded = load_project(LoadOptions(cwd=str(folder), project_name="l1u",
                                      environ=env or {}))
    return loaded.model


APP = """
services:
  app:
    build: .
  named:
    image: l1u-custom:2
    build: {context: ., pull_policy: build}
  always:
    build: .
    pull_policy: build
  plain:
    image: busybox
"""


def test_only_missing_images_or_pull_policy_build_are_built(tmp_path: Path) -> None:
    model = project(tmp_path, APP.replace(", pull_policy: build", ""))
    plan = plan_build(model, {"l1u-app": "sha256:1", "l1u-always": "sha256:2"})
    assert str(plan) == ("#1 image:l1u-always BuildImage: pull_policy build\n"
                         "#2 image:l1u-custom:2 BuildImage: image not found")
    forced = plan_build(model, {"l1u-app": "sha256:1"}, BuildPlanOptions(force=True,
                                                                        services=["app"]))
    assert str(forced) == "#1 image:l1u-app BuildImage: build requested"


def test_no_build_fails_before_anything_for_a_missing_image(tmp_path: Path) -> None:
    model = project(tmp_path, APP.replace(", pull_policy: build", ""))
    ids = {"l1u-app": "sha256:1", "l1u-custom:2": "sha256:3", "l1u-always": "sha256:2"}
    assert not plan_build(model, ids, BuildPlanOptions(no_build=True))
    with pytest.raises(NotFoundError, match='service "app": image l1u-app is not present'):
        plan_build(model, {}, BuildPlanOptions(no_build=True, services=["app"]))


def test_request_carries_every_build_attribute(tmp_path: Path) -> None:
    (tmp_path / "ctx").mkdir()
    model = project(tmp_path, """
        services:
          web:
            image: l1u-web:1
            build:
              context: ./ctx
              dockerfile: Dockerfile.dev
              args: [A=1, B, "C=${CVAL:-x}"]
              target: prod
              labels: {team: l1}
              cache_from: [busybox]
              network: none
              shm_size: 64m
              extra_hosts: ["db:10.0.0.2", "v6=::1"]
              tags: [l1u-web:extra]
              no_cache: true
              pull: true
        """, env={"B": "from-env"})
    request = build_request(model, "web", BuildPlanOptions(build_args={"A": "2", "D": None},
                                                           environment={"D": "dee"}))
    assert request.tag == "l1u-web:1"
    assert request.context == str(tmp_path / "ctx")
    assert request.dockerfile == "Dockerfile.dev"
    assert dict(request.args) == {"A": "2", "B": "from-env", "C": "x", "D": "dee"}
    assert request.target == "prod"
    assert request.labels["team"] == "l1"
    assert request.labels["com.docker.compose.project"] == "l1u"
    assert request.labels["com.docker.compose.service"] == "web"
    assert list(request.cache_from) == ["busybox"]
    assert request.network == "none"
    assert request.shm_size == 64 * 1024 * 1024
    assert dict(request.extra_hosts) == {"db": "10.0.0.2", "v6": "::1"}
    assert list(request.extra_tags) == ["l1u-web:extra"]
    assert request.no_cache and request.pull


def test_buildkit_only_keys_are_refused_by_name(tmp_path: Path) -> None:
    model = project(tmp_path, """
        services:
          app:
            build: {context: ., ssh: [default]}
        """)
    with pytest.raises(UnsupportedError, match=r'service "app": build\.ssh needs BuildKit'):
        plan_build(model, {})


def _names(request: BuildRequest) -> tuple[list[str], str]:
    archive, dockerfile = make_context(request)
    with tarfile.open(fileobj=archive) as tar:
        return sorted(tar.getnames()), dockerfile


def test_context_honours_dockerignore_and_keeps_the_dockerfile(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("k")
    (tmp_path / "secret.txt").write_text("s")
    (tmp_path / "Dockerfile").write_text("FROM busybox\n")
    (tmp_path / ".dockerignore").write_text("# comment\nsecret.txt\nDockerfile\n")
    names, dockerfile = _names(BuildRequest(service="a", tag="t", context=str(tmp_path)))
    assert dockerfile == "Dockerfile"
    assert "secret.txt" not in names
    assert {"keep.txt", "Dockerfile"} <= set(names)


def test_inline_and_outside_dockerfiles_travel_under_private_names(tmp_path: Path) -> None:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "a.txt").write_text("a")
    names, dockerfile = _names(BuildRequest(service="a", tag="t", context=str(ctx),
                                            dockerfile_inline="FROM busybox\n"))
    assert dockerfile == INLINE_DOCKERFILE and INLINE_DOCKERFILE in names
    (tmp_path / "Outside.Dockerfile").write_text("FROM busybox\n")
    names, dockerfile = _names(BuildRequest(service="a", tag="t", context=str(ctx),
                                            dockerfile="../Outside.Dockerfile"))
    assert dockerfile.startswith(".dockerfile.") and dockerfile in names


def test_missing_context_or_dockerfile_names_the_service(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match='service "a": build context .* is not a folder'):
        make_context(BuildRequest(service="a", tag="t", context=str(tmp_path / "nope")))
    with pytest.raises(BuildError, match='service "a": cannot locate Dockerfile Dockerfile'):
        make_context(BuildRequest(service="a", tag="t", context=str(tmp_path)))


def test_progress_lines_step_and_image_id() -> None:
    lines: list[str] = []
    progress = BuildProgress("app", lines.append)
    for message in ({"stream": "Step 1/2 : FROM busybox\n ---> 30ab"},
                    {"stream": "78701ea1\n"},
                    {"stream": "Step 2/2 : RUN make\n"},
                    {"aux": {"ID": "sha256:abc"}},
                    {"stream": "Successfully built abc\n"}):
        progress.feed(message)
    assert lines == ["Step 1/2 : FROM busybox", " ---> 30ab78701ea1", "Step 2/2 : RUN make",
                     "Successfully built abc"]
    assert progress.image_id == "sha256:abc"
    assert progress.step == "step 2/2 (RUN make)"


def test_progress_error_is_one_line_with_service_and_step() -> None:
    progress = BuildProgress("app")
    progress.feed({"stream": "Step 3/4 : RUN exit 3\n"})
    with pytest.raises(BuildError) as caught:
        progress.feed({"errorDetail": {"code": 3, "message": "returned a non-zero code: 3"},
                       "error": "The command '/bin/sh -c exit 3' returned a non-zero code: 3"})
    assert str(caught.value) == (
        "service \"app\" failed to build at step 3/4 (RUN exit 3): The command "
        "'/bin/sh -c exit 3' returned a non-zero code: 3")
