"""Pulls: per-image progress from the engine's stream, drawn live on a terminal and as
plain lines elsewhere; an image that can be built is pulled first, built if that fails."""

from __future__ import annotations

import io
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest
from fakes import FakeBackend
from waiting import wait_until

from composer.api import Compose, UpOptions
from composer.cli.progress import ProgressPrinter, human_size
from composer.config.loader import LoadedProject, LoadOptions, load_project
from composer.errors import EngineError
from composer.model.project import Project
from composer.plan.build import BuildPlanOptions, plan_build
from composer.plan.plan import Plan
from composer.plan.reconcile import PullPlanOptions, plan_pull
from composer.runtime import ExecutionError, ProgressEvent
from composer.runtime.images import PullEvent, PullOptions, PullProgress, pull_services


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


A, B, C = "aaa111aaa111", "bbb222bbb222", "ccc333ccc333"


def _layer(ident: str, status: str, current: int | None = None,
           total: int | None = None) -> dict[str, Any]:
    detail = {} if current is None else {"current": current, "total": total}
    return {"status": status, "progressDetail": detail, "id": ident}


# What the Engine API streams for `POST /images/create?fromImage=app&tag=1.0` (docker-py,
# decode=True): a layer already here, two to download and extract.
STREAM: list[dict[str, Any]] = [
    {"status": "Pulling from library/app", "id": "1.0"},
    _layer(A, "Already exists"),
    _layer(B, "Pulling fs layer"),
    _layer(C, "Pulling fs layer"),
    _layer(B, "Waiting"),
    _layer(B, "Downloading", 500_000, 2_000_000),
    _layer(C, "Downloading", 100_000, 1_000_000),
    _layer(B, "Downloading", 1_500_000, 2_000_000),
    # -- MIDDLE: the view is checked here
    _layer(B, "Downloading", 2_000_000, 2_000_000),
    _layer(B, "Verifying Checksum"),
    _layer(B, "Download complete"),
    _layer(B, "Extracting", 32_768, 2_000_000),
    _layer(B, "Extracting", 2_000_000, 2_000_000),
    _layer(B, "Pull complete"),
    _layer(C, "Downloading", 1_000_000, 1_000_000),
    _layer(C, "Download complete"),
    _layer(C, "Extracting", 1_000_000, 1_000_000),
    _layer(C, "Pull complete"),
    {"status": "Digest: sha256:" + "0" * 64},
    {"status": "Status: Downloaded newer image for app:1.0"},
]
MIDDLE = 8


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def screen(raw: str) -> list[str]:
    """The last block drawn, escapes removed, runs of spaces made one, timers dropped."""
    block = raw.split("\033[J")[-1]
    lines = [re.sub(r"\033\[[0-9;]*[a-zA-Z]", "", line) for line in block.splitlines()]
    lines = [re.sub(r" \d+\.\ds$", "", " ".join(line.split())) for line in lines]
    return [re.sub("^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]", "⠋", line) for line in lines]  # any spinner frame


def load(tmp_path: Path, text: str) -> LoadedProject:
    (tmp_path / "compose.yaml").write_text(textwrap.dedent(text))
    (tmp_path / "Dockerfile").write_text("FROM busybox\n")
    return load_project(LoadOptions(cwd=str(tmp_path), project_name="p", environ={}))


def model(project: LoadedProject) -> Project:
    return Project.from_dict(project.data)


# -- folding the stream ------------------------------------------------------------------------


def test_progress_counts_layers_and_bytes_as_the_stream_goes() -> None:
    seen: list[ProgressEvent] = []
    progress = PullProgress("Image app:1.0", seen.append)
    for message in STREAM[:MIDDLE]:
        progress.feed(message)
    assert (progress.layers_done, len(progress.layers)) == (1, 3)
    assert (progress.current, progress.total) == (1_600_000, 3_000_000)
    last = seen[-1]
    assert isinstance(last, PullEvent)
    assert (last.resource, last.status, last.parent) == ("Image app:1.0", "Pulling", "")
    assert (last.current, last.total, last.layers_done, last.layers_total) == (
        1_600_000, 3_000_000, 1, 3)
    layer = seen[-2]
    assert isinstance(layer, PullEvent)
    assert (layer.resource, layer.status, layer.parent, layer.current, layer.total) == (
        B, "Downloading", "Image app:1.0", 1_500_000, 2_000_000)
    for message in STREAM[MIDDLE:]:
        progress.feed(message)
    assert (progress.layers_done, progress.current, progress.total) == (3, 3_000_000, 3_000_000)
    # Messages of no layer ("Pulling from", "Digest", "Status") report nothing.
    assert {e.resource for e in seen} == {"Image app:1.0", A, B, C}


def test_human_size_writes_bytes_as_docker_does() -> None:
    assert [human_size(n) for n in (0, 512, 1_600_000, 3_000_000, 1_234_567)] == [
        "0B", "512B", "1.6MB", "3MB", "1.235MB"]


# -- the views ---------------------------------------------------------------------------------


MIDDLE_SCREEN = [
    "[+] Running 1/4",
    "⠋ Image app:1.0 [⣿⣶⠀] 1.6MB / 3MB Pulling",
    "✔ aaa111aaa111 Already exists",
    "⠋ bbb222bbb222 Downloading 1.5MB / 2MB",
    "⠋ ccc333ccc333 Downloading 100kB / 1MB",
]


def test_terminal_shows_the_image_with_its_layers_then_pulled() -> None:
    out = Tty()
    printer = ProgressPrinter(out, mode="auto", tick=None)  # frames drawn by tick() below
    printer(ProgressEvent("Image app:1.0", "Pulling"))
    progress = PullProgress("Image app:1.0", printer)
    for message in STREAM[:MIDDLE]:
        progress.feed(message)
    # A new byte count alone is not drawn at once: the ticker's next frame shows it.
    assert "⠋ bbb222bbb222 Downloading 500kB / 2MB" in screen(out.getvalue())
    printer.tick()
    assert screen(out.getvalue()) == MIDDLE_SCREEN
    for message in STREAM[MIDDLE:]:
        progress.feed(message)
    printer(ProgressEvent("Image app:1.0", "Pulled", "done", elapsed=1.5))
    assert screen(out.getvalue()) == [
        "[+] Running 4/4",
        "✔ Image app:1.0 Pulled",
        "✔ aaa111aaa111 Already exists",
        "✔ bbb222bbb222 Pull complete",
        "✔ ccc333ccc333 Pull complete",
    ]
    # Layers are drawn under their image, two columns in, as v2 draws them.
    raw_last = out.getvalue().split("\033[J")[-1]
    assert re.search(r"\n   \S+ bbb222bbb222 ", re.sub(r"\033\[[0-9;]*m", "", raw_last))


def test_the_ticker_thread_draws_the_new_byte_counts() -> None:
    out = Tty()
    printer = ProgressPrinter(out, mode="auto")  # the real ticker, every 100 ms
    printer(ProgressEvent("Image app:1.0", "Pulling"))
    progress = PullProgress("Image app:1.0", printer)
    for message in STREAM[:MIDDLE]:
        progress.feed(message)
    wait_until(lambda: screen(out.getvalue()) == MIDDLE_SCREEN, what="the ticker's frame")
    printer(ProgressEvent("Image app:1.0", "Pulled", "done", elapsed=1.5))
    printer.finish()


def test_no_byte_count_while_a_layer_size_is_unknown() -> None:
    out = Tty()
    printer = ProgressPrinter(out, mode="tty", tick=None)
    printer(ProgressEvent("Image app:1.0", "Pulling"))
    progress = PullProgress("Image app:1.0", printer)
    for message in STREAM[:6]:  # C still "Pulling fs layer"
        progress.feed(message)
    printer.tick()
    assert screen(out.getvalue())[1] == "⠋ Image app:1.0 [⣿⣀⠀] Pulling"
    progress.feed(STREAM[6])  # C's size is known now
    printer.tick()
    assert screen(out.getvalue())[1] == "⠋ Image app:1.0 [⣿⣀⠀] 600kB / 3MB Pulling"


def test_plain_output_prints_each_phase_of_a_layer_once() -> None:
    out = io.StringIO()
    printer = ProgressPrinter(out, mode="plain")
    printer(ProgressEvent("Image app:1.0", "Pulling"))
    progress = PullProgress("Image app:1.0", printer)
    for message in STREAM:
        progress.feed(message)
    printer(ProgressEvent("Image app:1.0", "Pulled", "done", elapsed=1.5))
    lines = out.getvalue().splitlines()
    assert lines[0] == " Image app:1.0  Pulling"
    assert lines[-1] == " Image app:1.0  Pulled"
    assert [line.rstrip() for line in lines if B in line] == [
        f" {B} Pulling fs layer", f" {B} Waiting", f" {B} Downloading",
        f" {B} Verifying Checksum", f" {B} Download complete", f" {B} Extracting",
        f" {B} Pull complete"]
    assert len(lines) == 2 + 1 + 7 + 5  # image, A, B's phases, C's phases


def test_json_output_names_the_layer_parent() -> None:
    out = io.StringIO()
    printer = ProgressPrinter(out, mode="json")
    PullProgress("Image app:1.0", printer).feed(STREAM[1])
    assert out.getvalue().splitlines()[0] == (
        f'{{"id":"{A}","parent_id":"Image app:1.0","text":"Already exists"}}')


# -- through the runtime -----------------------------------------------------------------------


@pytest.mark.anyio
async def test_up_pulls_with_progress_on_a_terminal(tmp_path: Path) -> None:
    fake = FakeBackend()
    fake.pullable["app:1.0"] = "sha256:app"
    fake.pull_messages["app:1.0"] = STREAM
    out = Tty()
    printer = ProgressPrinter(out, mode="tty")
    project = load(tmp_path, "services:\n  web:\n    image: app:1.0\n")
    await Compose(fake, events=printer).up(project, UpOptions())
    printer.finish()
    shown = screen(out.getvalue())
    start = shown.index("✔ Image app:1.0 Pulled")
    assert shown[start + 1:start + 4] == [
        "✔ aaa111aaa111 Already exists", "✔ bbb222bbb222 Pull complete",
        "✔ ccc333ccc333 Pull complete"]
    assert "✔ Container p-web-1 Started" in shown


@pytest.mark.anyio
async def test_up_quiet_pull_shows_the_image_but_no_layers(tmp_path: Path) -> None:
    fake = FakeBackend()
    fake.pullable["app:1.0"] = "sha256:app"
    fake.pull_messages["app:1.0"] = STREAM
    out = Tty()
    printer = ProgressPrinter(out, mode="tty")
    project = load(tmp_path, "services:\n  web:\n    image: app:1.0\n")
    await Compose(fake, events=printer).up(project, UpOptions(quiet_pull=True))
    printer.finish()
    shown = screen(out.getvalue())
    assert "✔ Image app:1.0 Pulled" in shown
    assert not any("aaa111aaa111" in line or "bbb222bbb222" in line for line in shown), shown
    assert "✔ Container p-web-1 Started" in shown


@pytest.mark.anyio
async def test_pull_command_reports_progress_under_the_service(tmp_path: Path) -> None:
    fake = FakeBackend()
    fake.pullable["app:1.0"] = "sha256:app"
    fake.pull_messages["app:1.0"] = STREAM
    seen: list[ProgressEvent] = []
    project = load(tmp_path, "services:\n  web:\n    image: app:1.0\n")
    assert await pull_services(fake, model(project), events=seen.append) == []
    pulling = [e for e in seen if isinstance(e, PullEvent) and not e.parent]
    assert {e.resource for e in pulling} == {"web"}
    assert (pulling[-1].layers_done, pulling[-1].layers_total) == (3, 3)
    assert f"{seen[-1].resource} {seen[-1].status}" == "web Pulled"


# -- an image that can be built: pull first, build if that fails -------------------------------

BUILDABLE = """
services:
  web:
    image: h5pp-web:1
    build: .
"""


def text(plan: Plan) -> str:
    return "\n".join(str(step) for step in plan)


def test_plan_pulls_a_missing_image_to_build_unless_policy_says_not() -> None:
    cases = {
        "": "#1 image:h5pp-web:1 PullImage: not found locally, built if the pull fails",
        "pull_policy: always": "#1 image:h5pp-web:1 PullImage: pull_policy always, built if "
                               "the pull fails",
        "pull_policy: missing": "#1 image:h5pp-web:1 PullImage: not found locally, built if "
                                "the pull fails",
        "pull_policy: never": "",
        "pull_policy: build": "",
    }
    for policy, expected in cases.items():
        web: dict[str, Any] = {"image": "h5pp-web:1", "build": {"context": "."}}
        if policy:
            web["pull_policy"] = policy.split(": ")[1]
        data = {"name": "p", "services": {"web": web}}
        plan = plan_pull(Project.from_dict(data), {})
        assert text(plan) == expected, policy
        assert all(step.operation.buildable for step in plan)  # type: ignore[attr-defined]


def test_plan_pull_of_a_buildable_image() -> None:
    data = {"name": "p", "services": {
        "web": {"image": "h5pp-web:1", "build": {"context": "."}},
        "also": {"image": "h5pp-web:1"},
        "anon": {"build": {"context": "."}},
    }}
    plan = plan_pull(Project.from_dict(data), {})
    # One pull for the shared image; the {project}-{service} image is only built.
    assert text(plan) == ("#1 image:h5pp-web:1 PullImage: not found locally, built if the "
                          "pull fails")
    # Present: nothing to pull; `--pull always`: pulled.
    assert len(plan_pull(Project.from_dict(data), {"h5pp-web:1": "sha256:1"})) == 0
    (step,) = plan_pull(Project.from_dict(data), {}, PullPlanOptions(build=True))
    assert step.args["service"] == "also"  # v2's --build stops pulls of services with build:
    present = {"h5pp-web:1": "sha256:1"}
    assert len(plan_pull(Project.from_dict(data), present, PullPlanOptions(policy="always"))) == 1
    # A service using an image another service builds: its failed pull is tolerated too.
    shared = {"name": "p", "services": {"use": {"image": "x:1"},
                                        "make": {"image": "x:1", "build": {"context": "."}}}}
    (step,) = plan_pull(Project.from_dict(shared), {}, PullPlanOptions(services=["use"]))
    assert (step.args["service"], step.args["buildable"]) == ("use", True)
    # --pull never with nothing to pull is no error when the image can be built.
    assert len(plan_pull(Project.from_dict(shared), {}, PullPlanOptions(policy="never"))) == 0


@pytest.mark.anyio
async def test_up_tries_the_pull_then_builds_when_it_fails(tmp_path: Path) -> None:
    fake = FakeBackend()
    seen: list[ProgressEvent] = []
    project = load(tmp_path, BUILDABLE)
    outcome = await Compose(fake, events=seen.append).up(project, UpOptions())
    assert fake.index("pull_image", "h5pp-web:1") < fake.index("build_image", "h5pp-web:1")
    assert fake.index("build_image", "h5pp-web:1") < fake.index("create_container", "p-web-1")
    lines = [f"{e.resource} {e.status}" for e in seen]
    assert lines[:2] == ["Image h5pp-web:1 Pulling", "Image h5pp-web:1 Warning pull access "
                         "denied for h5pp-web:1, repository does not exist"]
    assert [e.state for e in seen[:2]] == ["working", "warning"]
    assert "Service web Built" in lines
    assert [str(p).split(": ")[0] for p in outcome.plans[:2]] == [
        "#1 image:h5pp-web:1 PullImage", "#1 image:h5pp-web:1 BuildImage"]
    assert fake.by_name("p-web-1").state == "running"


@pytest.mark.anyio
async def test_up_builds_nothing_when_the_pull_brings_the_image(tmp_path: Path) -> None:
    fake = FakeBackend()
    fake.pullable["h5pp-web:1"] = "sha256:pulled"
    await Compose(fake).up(load(tmp_path, BUILDABLE), UpOptions())
    assert "build_image h5pp-web:1" not in fake.ops()
    assert fake.by_name("p-web-1").labels["com.docker.compose.image"] == "sha256:pulled"


@pytest.mark.anyio
async def test_up_build_and_pull_policy_build_never_pull(tmp_path: Path) -> None:
    fake = FakeBackend()
    fake.pullable["h5pp-web:1"] = "sha256:pulled"
    await Compose(fake).up(load(tmp_path, BUILDABLE), UpOptions(build=True))
    assert "pull_image h5pp-web:1" not in fake.ops()
    assert "build_image h5pp-web:1" in fake.ops()
    other = FakeBackend()
    other.pullable["h5pp-web:1"] = "sha256:pulled"
    await Compose(other).up(load(tmp_path, BUILDABLE + "    pull_policy: build\n"), UpOptions())
    assert "pull_image h5pp-web:1" not in other.ops()
    assert "build_image h5pp-web:1" in other.ops()


@pytest.mark.anyio
async def test_up_still_fails_in_one_line_for_an_image_it_cannot_build(tmp_path: Path) -> None:
    fake = FakeBackend()
    project = load(tmp_path, "services:\n  ghost:\n    image: nope:1\n")
    with pytest.raises(ExecutionError) as info:
        await Compose(fake).up(project, UpOptions())
    assert str(info.value) == ('service "ghost": pulling image "nope:1": pull access denied '
                               "for nope:1, repository does not exist")
    assert not fake.containers


@pytest.mark.anyio
async def test_pull_command_fails_for_a_buildable_image_as_v2_does(tmp_path: Path) -> None:
    # v2 2.40.3: ` web Warning <why>`, the build hint, then exit 1 with the error.
    fake = FakeBackend()
    project = model(load(tmp_path, BUILDABLE))
    seen: list[ProgressEvent] = []
    with pytest.raises(EngineError) as info:
        await pull_services(fake, project, events=seen.append)
    assert str(info.value).splitlines() == [
        "Some service image(s) must be built from source by running: composer build web",
        'service "web": cannot pull image h5pp-web:1: pull access denied for h5pp-web:1, '
        "repository does not exist"]
    assert (seen[-1].resource, seen[-1].state) == ("web", "warning")
    assert seen[-1].status.startswith("Warning pull access denied")
    # --ignore-pull-failures: the hint only; --ignore-buildable: not even tried.
    assert await pull_services(fake, project, PullOptions(ignore_failures=True)) == [
        "Some service image(s) must be built from source by running: composer build web"]
    fake.calls.clear()
    assert await pull_services(fake, project, PullOptions(ignore_buildable=True)) == []
    assert "pull_image h5pp-web:1" not in fake.ops()


def test_build_plan_after_a_failed_pull_builds_the_missing_image(tmp_path: Path) -> None:
    project = model(load(tmp_path, BUILDABLE))
    assert text(plan_build(project, {"h5pp-web:1": None}, BuildPlanOptions())) == (
        "#1 image:h5pp-web:1 BuildImage: image not found")
    assert len(plan_build(project, {"h5pp-web:1": "sha256:pulled"}, BuildPlanOptions())) == 0
