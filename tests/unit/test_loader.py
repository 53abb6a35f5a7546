"""The loader's own decisions: phase order, project name, environment, selection."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from composer.config.loader import LoadOptions, load_project
from composer.errors import DiscoveryError, EnvFileError


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


def load(folder: Path, *files: str, **kw: object) -> dict:
    opts = LoadOptions(cwd=str(folder), files=files, environ=kw.pop("environ", {}), **kw)  # type: ignore[arg-type]
    return load_project(opts).data


def test_override_naming_only_the_condition_keeps_required_false(tmp_path: Path) -> None:
    write(tmp_path, "compose.yaml", """
        services:
          web:
            image: busybox
            depends_on:
              db: {condition: service_healthy, required: false}
          db:
            image: busybox
        """)
    write(tmp_path, "o.yaml", """
        services:
          web:
            depends_on:
              db: {condition: service_started}
        """)
    data = load(tmp_path, "compose.yaml", "o.yaml")
    assert data["services"]["web"]["depends_on"] == {
        "db": {"condition": "service_started", "required": False}
    }


def test_long_form_depends_on_defaults_required_true(tmp_path: Path) -> None:
    write(tmp_path, "compose.yaml", """
        services:
          web:
            image: busybox
            depends_on:
              db: {condition: service_healthy}
          db:
            image: busybox
        """)
    data = load(tmp_path)
    assert data["services"]["web"]["depends_on"]["db"]["required"] is True


def test_project_name_is_visible_to_interpolation(tmp_path: Path) -> None:
    write(tmp_path, "compose.yaml", """
        name: app-${SUFFIX:-x}
        services:
          web:
            image: "busybox:${COMPOSE_PROJECT_NAME}"
        """)
    assert load(tmp_path)["services"]["web"]["image"] == "busybox:app-x"
    named = load(tmp_path, project_name="other")
    assert named["name"] == "other"
    assert named["services"]["web"]["image"] == "busybox:other"


def test_declared_name_is_cleaned_up_but_flag_is_checked(tmp_path: Path) -> None:
    write(tmp_path, "compose.yaml", 'name: "My Project!"\nservices: {a: {image: x}}\n')
    assert load(tmp_path)["name"] == "myproject"
    with pytest.raises(DiscoveryError, match="invalid project name"):
        load(tmp_path, project_name="My-Proj")
    with pytest.raises(DiscoveryError, match="invalid project name"):
        load(tmp_path, environ={"COMPOSE_PROJECT_NAME": "Bad"})


def test_name_precedence_flag_env_declared_folder(tmp_path: Path) -> None:
    folder = tmp_path / "Some Folder"
    folder.mkdir()
    write(folder, "compose.yaml", "services: {a: {image: x}}\n")
    assert load(folder)["name"] == "somefolder"
    write(folder, "compose.yaml", "name: declared\nservices: {a: {image: x}}\n")
    assert load(folder)["name"] == "declared"
    assert load(folder, environ={"COMPOSE_PROJECT_NAME": "fromenv"})["name"] == "fromenv"
    assert load(folder, project_name="flag",
                environ={"COMPOSE_PROJECT_NAME": "fromenv"})["name"] == "flag"


def test_dotenv_feeds_interpolation_and_process_env_wins(tmp_path: Path) -> None:
    write(tmp_path, ".env", "TAG=fromfile\nOTHER=o\n")
    write(tmp_path, "compose.yaml", "services: {a: {image: 'busybox:${TAG}-${OTHER}'}}\n")
    assert load(tmp_path)["services"]["a"]["image"] == "busybox:fromfile-o"
    got = load(tmp_path, environ={"TAG": "fromenv"})
    assert got["services"]["a"]["image"] == "busybox:fromenv-o"


def test_missing_env_file_flag_is_named(tmp_path: Path) -> None:
    write(tmp_path, "compose.yaml", "services: {a: {image: x}}\n")
    with pytest.raises(EnvFileError, match="couldn't find env file: .*nope.env"):
        load(tmp_path, env_files=("nope.env",))


def test_compose_file_variable_and_separator(tmp_path: Path) -> None:
    write(tmp_path, "one.yaml", "services: {a: {image: x}}\n")
    write(tmp_path, "two.yaml", "services: {b: {image: y}}\n")
    data = load(tmp_path, environ={"COMPOSE_FILE": "one.yaml;two.yaml",
                                   "COMPOSE_PATH_SEPARATOR": ";"})
    assert sorted(data["services"]) == ["a", "b"]


def test_discovery_walks_up_and_takes_the_override(tmp_path: Path) -> None:
    write(tmp_path, "compose.yaml", "services: {a: {image: x}}\n")
    write(tmp_path, "compose.override.yaml", "services: {a: {image: overridden}}\n")
    sub = tmp_path / "deep" / "er"
    sub.mkdir(parents=True)
    project = load_project(LoadOptions(cwd=str(sub), environ={}))
    assert project.working_dir == str(tmp_path)
    assert project.data["services"]["a"]["image"] == "overridden"
    assert len(project.config_files) == 2


def test_no_compose_file_is_a_discovery_error(tmp_path: Path) -> None:
    with pytest.raises(DiscoveryError, match="no configuration file provided"):
        load_project(LoadOptions(cwd=str(tmp_path), environ={}))


def test_stdin_file(tmp_path: Path) -> None:
    project = load_project(LoadOptions(cwd=str(tmp_path), files=("-",), environ={},
                                       stdin=b"services: {a: {image: x}}\n"))
    assert project.data["services"]["a"]["image"] == "x"
    assert project.name == tmp_path.name.lower()


def test_named_service_selects_its_dependencies(tmp_path: Path) -> None:
    write(tmp_path, "compose.yaml", """
        services:
          web: {image: x, depends_on: [db]}
          db: {image: y}
          other: {image: z}
        """)
    data = load(tmp_path, services=("web",))
    assert sorted(data["services"]) == ["db", "web"]


def test_profiles_from_flag_and_variable(tmp_path: Path) -> None:
    write(tmp_path, "compose.yaml", """
        services:
          web: {image: x}
          debug: {image: y, profiles: [dev]}
        """)
    assert sorted(load(tmp_path)["services"]) == ["web"]
    assert sorted(load(tmp_path, profiles=("dev",))["services"]) == ["debug", "web"]
    got = load(tmp_path, environ={"COMPOSE_PROFILES": "dev"})
    assert sorted(got["services"]) == ["debug", "web"]
