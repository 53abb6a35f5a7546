"""``x-composer-rootfs`` ("boot from a directory") without an engine: the loader
writes it as the build it means (the folder copied as the whole filesystem), the
folder's path is resolved like a build context, every mistake is one located
line, and the build plan and request carry it like any build."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from composer.config.loader import LoadOptions, load_project
from composer.errors import ConfigError
from composer.model.naming import ROOTFS_DOCKERFILE
from composer.plan.build import build_request, plan_build


def load(folder: Path, text: str):  # type: ignore[no-untyped-def]
    (folder / "compose.yaml").write_text(textwrap.dedent(text))
    return load_project(LoadOptions(cwd=str(folder), project_name="rfs", environ={}))


def test_rootfs_is_a_build_of_the_folder_as_the_whole_filesystem(tmp_path: Path) -> None:
    (tmp_path / "root").mkdir()
    loaded = load(tmp_path, """
        services:
          app:
            x-composer-rootfs: ./root
            command: ["/bin/sh"]
          named:
            image: mine:1
            x-composer-rootfs: root
    """)
    build = loaded.data["services"]["app"]["build"]
    assert build == {"context": str(tmp_path / "root"), "dockerfile_inline": ROOTFS_DOCKERFILE}
    model = loaded.model
    plan = plan_build(model, {})
    assert str(plan) == ("#1 image:rfs-app BuildImage: image not found\n"
                         "#2 image:mine:1 BuildImage: image not found")
    request = build_request(model, "app")
    assert request.context == str(tmp_path / "root")
    assert request.dockerfile_inline == "FROM scratch\nCOPY . /\n"
    assert request.tag == "rfs-app"
    assert request.labels["com.docker.compose.project"] == "rfs"
    # Made once: an image already there is not made again.
    assert not plan_build(model, {"rfs-app": "sha256:1", "mine:1": "sha256:2"})


@pytest.mark.parametrize(("service", "line", "message"), [
    ("    x-composer-rootfs: ./missing\n", 4,
     "is not a folder (the service's root filesystem)"),
    ("    x-composer-rootfs: [a]\n", 4,
     "must be the path of a folder holding a root filesystem"),
    ("    build: .\n    x-composer-rootfs: ./root\n", 5,
     'service "app" boots from a folder or is built, not both'),
])
def test_mistakes_are_one_located_line(tmp_path: Path, service: str, line: int,
                                       message: str) -> None:
    (tmp_path / "root").mkdir()
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, "services:\n  app:\n    image: x\n" + service)
    text = str(caught.value)
    assert text.startswith(f"{tmp_path / 'compose.yaml'}:{line}:"), text
    assert "services.app.x-composer-rootfs: " in text
    assert message in text
    assert "\n" not in text
