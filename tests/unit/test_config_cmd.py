"""``composer config``: which project it prints, and how it fails.

Run in-process through :func:`composer.cli.main.main` (the e2e tests run the same
through a subprocess); behaviour checked against Docker Compose v2.40.3.
"""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pytest

from composer.cli.main import main


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.startswith("COMPOSE_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PWD", raising=False)
    return tmp_path


def write(folder: Path, text: str) -> None:
    (folder / "compose.yaml").write_text(textwrap.dedent(text), encoding="utf-8")


def test_infinity_in_json_is_one_clean_error(project: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    write(project, "x-a: .inf\nservices:\n  web:\n    image: busybox\n")
    assert main(["config", "--format", "json"]) == 15
    out, err = capsys.readouterr()
    assert (out, err) == ("", "composer: json: unsupported value: +Inf\n")
    # YAML can hold it, as v2 prints it.
    assert main(["config"]) == 0
    assert "x-a: .inf\n" in capsys.readouterr().out


def test_no_interpolate_prints_the_untyped_model(project: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    write(project, """
        services:
          web:
            image: busybox
            command: echo "$${HOME}"
            environment: ["LEVEL=${LEVEL:-info}"]
            ports: ["${PORT:-80}:80"]
          debug:
            image: busybox
            profiles: [debug]
        """)
    assert main(["config", "--format", "json", "--no-interpolate", "web"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert sorted(data["services"]) == ["debug", "web"]  # no selection, no profiles
    web = data["services"]["web"]
    assert web["command"] == 'echo "$${HOME}"'  # as written: no $ doubling either
    assert web["environment"] == ["LEVEL=${LEVEL:-info}"]
    assert web["ports"] == ["${PORT:-80}:80"]


def test_no_interpolate_quiet_checks_only_the_model(project: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    write(project, "services:\n  a:\n    image: x\n    networks: [nope]\n")
    assert main(["config", "-q", "--no-interpolate"]) == 0
    assert main(["config", "-q"]) == 15
    assert "undefined network nope" in capsys.readouterr().err


def test_listings_with_no_interpolate_still_list(project: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    write(project, "services:\n  b: {image: x}\n  a: {image: x, profiles: [p]}\n")
    assert main(["config", "--services", "--no-interpolate"]) == 0
    assert capsys.readouterr().out == "b\n"
