"""The loader's own decisions: phase order, project name, environment, selection."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from composer.config.loader import LoadOptions, load_project
from composer.errors import ConfigError, DiscoveryError, EnvFileError, SchemaError


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def load(folder: Path, *files: str, **kw: object) -> dict[str, Any]:
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


# -- the schema sees each file merged onto the earlier ones (as v2) -------------------------


OVERRIDE_BASE = """
    services:
      web:
        image: busybox
        environment: {A: "1"}
        depends_on:
          db: {condition: service_healthy}
      db:
        image: busybox
    """


def test_override_may_leave_out_what_the_base_says(tmp_path: Path) -> None:
    write(tmp_path, "compose.yaml", OVERRIDE_BASE)
    write(tmp_path, "o.yaml", """
        services:
          web:
            environment: null
            depends_on:
              db: {required: false}
        """)
    web = load(tmp_path, "compose.yaml", "o.yaml")["services"]["web"]
    assert web["environment"] == {"A": "1"}
    assert web["depends_on"] == {"db": {"condition": "service_healthy", "required": False}}


@pytest.mark.parametrize(("override", "message"), [
    ("services:\n  web:\n    depends_on:\n      other: {required: false}\n",
     "o.yaml:4:14: services.web.depends_on.other: missing required property 'condition'"),
    ("services:\n  db:\n    environment: null\n",
     "o.yaml:3:18: services.db.environment: must be a mapping or a list, got null"),
])
def test_override_still_refused_when_the_merge_does_not_help(
    tmp_path: Path, override: str, message: str
) -> None:
    write(tmp_path, "compose.yaml", OVERRIDE_BASE)
    (tmp_path / "o.yaml").write_text(override)
    with pytest.raises(SchemaError) as info:
        load(tmp_path, "compose.yaml", "o.yaml")
    assert str(info.value) == str(tmp_path / message)


def test_extending_service_may_leave_out_what_its_base_says(tmp_path: Path) -> None:
    write(tmp_path, "compose.yaml", """
        services:
          base:
            image: busybox
            environment: {A: "1"}
            depends_on:
              db: {condition: service_healthy}
          web:
            extends: base
            environment: null
            depends_on:
              db: {required: false}
          db:
            image: busybox
        """)
    web = load(tmp_path)["services"]["web"]
    assert web["environment"] == {"A": "1"}
    assert web["depends_on"] == {"db": {"condition": "service_healthy", "required": False}}


# -- COMPOSE_* from the folder we start in ----------------------------------------------------


def test_dotenv_of_the_current_folder_then_of_the_project(tmp_path: Path) -> None:
    write(tmp_path, "other/compose.yaml", """
        services:
          app:
            image: busybox
            environment: ["FROM=${FROM}", "OTHER=${OTHER_ONLY}"]
          dbg: {image: busybox, profiles: [dbg]}
        """)
    write(tmp_path, "work/.env", """
        COMPOSE_FILE=../other/compose.yaml
        COMPOSE_PROFILES=dbg
        COMPOSE_PROJECT_NAME=fromwork
        FROM=work
        """)
    write(tmp_path, "other/.env", "FROM=other\nOTHER_ONLY=yes\n")
    data = load(tmp_path / "work")
    # As v2: the current folder's .env wins over the project's, which still fills in.
    assert data["name"] == "fromwork"
    assert sorted(data["services"]) == ["app", "dbg"]
    assert data["services"]["app"]["environment"] == {"FROM": "work", "OTHER": "yes"}
    # The process environment wins over both.
    env = load(tmp_path / "work", environ={"FROM": "process"})["services"]["app"]["environment"]
    assert env["FROM"] == "process"


def test_dotenv_of_a_subfolder_when_the_compose_file_is_found_above(tmp_path: Path) -> None:
    write(tmp_path, "compose.yaml", """
        services:
          a: {image: busybox, environment: ["X=${X}", "Y=${Y}"]}
        """)
    write(tmp_path, ".env", "X=parent\nY=parent\n")
    write(tmp_path, "sub/.env", "X=sub\n")
    data = load(tmp_path / "sub")
    assert data["services"]["a"]["environment"] == {"X": "sub", "Y": "parent"}


def test_dotenv_of_the_first_named_file_folder(tmp_path: Path) -> None:
    write(tmp_path, "other/compose.yaml", "services:\n  a: {image: 'busybox:${TAG}'}\n")
    write(tmp_path, "other/.env", "TAG=other\n")
    write(tmp_path, "work/.env", "TAG=work\n")
    data = load(tmp_path / "work", "../other/compose.yaml")
    assert data["services"]["a"]["image"] == "busybox:other"


# -- paths as given: $PWD through a symbolic link ---------------------------------------------


def test_current_folder_is_pwd_when_it_names_it(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    real = tmp_path / "real"
    write(real, "compose.yaml", "services:\n  a: {image: busybox, build: .}\n")
    link = tmp_path / "link"
    link.symlink_to(real)
    monkeypatch.chdir(link)
    monkeypatch.setenv("PWD", str(link))
    opts = LoadOptions(environ={})
    assert load_project(opts).data["services"]["a"]["build"]["context"] == str(link)
    # A stale $PWD is ignored: then the resolved folder, as Go's os.Getwd.
    monkeypatch.setenv("PWD", str(tmp_path))
    assert load_project(opts).data["services"]["a"]["build"]["context"] == str(real)


# -- --no-normalize ---------------------------------------------------------------------------


def test_no_normalize_still_defaults_the_build_context_and_checks(tmp_path: Path) -> None:
    write(tmp_path, "compose.yaml", """
        services:
          a:
            build: {dockerfile_inline: FROM x}
        """)
    build = load(tmp_path, normalize=False)["services"]["a"]["build"]
    assert build["context"] == str(tmp_path)
    assert "dockerfile" not in build
    write(tmp_path, "compose.yaml", "services:\n  a: {image: x, networks: [default]}\n")
    with pytest.raises(ConfigError, match="undefined network default"):
        load(tmp_path, normalize=False)


# -- the typed model and warnings -------------------------------------------------------------


def test_the_loaded_project_has_its_typed_model(tmp_path: Path) -> None:
    write(tmp_path, "compose.yaml", """
        services:
          db:
            image: postgres
            x-composer-ready: {tcp: [5432]}
          web:
            image: nginx
            stop_grace_period: 1m30s
            depends_on: {db: {condition: service_healthy}}
        x-top: 1
        """)
    project = load_project(LoadOptions(cwd=str(tmp_path), environ={}))
    model = project.model
    assert model is project.model  # built once
    assert model.name == project.name and model.working_dir == str(tmp_path)
    assert list(model.services) == ["db", "web"]
    # v2's JSON has no x- keys below the top level; the model keeps them.
    assert "x-composer-ready" not in project.data["services"]["db"]
    assert model.services["db"].extensions["x-composer-ready"]["tcp"] == (5432,)
    assert not model.services["web"].extensions
    assert model.services["web"].stop_grace_period == 90 * 10**9
    depends = model.services["web"].depends_on
    assert depends is not None and depends["db"].condition == "service_healthy"
    assert model.extensions == {"x-top": 1}


def test_an_untyped_load_has_no_typed_model(tmp_path: Path) -> None:
    write(tmp_path, "compose.yaml", "services: {web: {image: nginx}}\n")
    project = load_project(LoadOptions(cwd=str(tmp_path), environ={}, model=True,
                                       interpolate=False))
    with pytest.raises(ValueError, match="untyped"):
        _ = project.model


def test_warnings_go_to_the_callback_or_to_python_warnings(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, "compose.yaml", "services: {web: {image: 'nginx:${UNSET_TAG}'}}\n")
    seen: list[str] = []
    load_project(LoadOptions(cwd=str(tmp_path), environ={}, warn=seen.append))
    assert seen == ['The "UNSET_TAG" variable is not set. Defaulting to a blank string.']
    from composer.errors import ComposerWarning

    with pytest.warns(ComposerWarning, match="UNSET_TAG"):
        load_project(LoadOptions(cwd=str(tmp_path), environ={}))
    # The library never prints.
    assert capsys.readouterr() == ("", "")
