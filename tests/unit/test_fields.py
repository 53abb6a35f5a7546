"""compose-go's field table and what is derived from it: the model's codecs, Go's
JSON (the config hash) and the normalise phase's typed rendering.

Expected outputs were read from Docker Compose v2.40.3 (``config --format json``,
``config`` and ``config --hash``) on the same files.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from composer.cli.config_cmd import render
from composer.config.loader import LoadOptions, load_project
from composer.model import _codec, fields, project
from composer.model._codec import EMPTY, bind, model
from composer.model.fields import Kind
from composer.model.gojson import go_json
from composer.model.hash import service_config_hash
from composer.model.project import ServiceConfig


def _load(tmp_path: Path, text: str) -> dict[str, object]:
    (tmp_path / "compose.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
    return load_project(LoadOptions(cwd=str(tmp_path), environ={})).data


def test_every_model_class_writes_its_struct_in_the_tables_order() -> None:
    for struct, codec in project._CODECS.items():
        assert [key for key, _, _ in codec.order] == list(struct.fields), struct.name


def test_a_model_class_that_drifts_from_its_struct_fails_at_once() -> None:
    @model
    class Logging:
        driver: str | None = None
        extensions: _codec.Any = EMPTY  # no `options`: the table has it

    with pytest.raises(TypeError, match="Logging differs from LoggingConfig: .*options"):
        bind({fields.LOGGING: Logging})


def test_unset_always_fields_are_written_with_gos_zero_values() -> None:
    assert go_json({}, fields.SERVICE) == '{"command":null,"entrypoint":null}'
    assert go_json({}, fields.TRIGGER) == '{"path":"","action":"","exec":{"command":null}}'
    assert go_json({}, fields.THROTTLE_DEVICE) == '{"Path":"","Rate":"0"}'
    assert go_json({"replicas": 2}, fields.DEPLOY) == '{"replicas":2,"resources":{},"placement":{}}'


def test_paths_of_a_kind_follow_nested_structs() -> None:
    durations = fields.paths(fields.SERVICE, Kind.DURATION)
    assert ("stop_grace_period",) in durations
    assert ("healthcheck", "start_interval") in durations
    assert ("deploy", "restart_policy", "window") in durations
    assert ("build", "shm_size") in fields.paths(fields.SERVICE, Kind.BYTES)


WATCH = """
    services:
      web:
        image: busybox
        develop:
          watch:
            - path: ./src
              action: sync
              target: /app
              include: ["*.py"]
              ignore: ["x"]
    """


def test_config_writes_a_watch_rule_in_compose_gos_order(tmp_path: Path) -> None:
    # v2: include before ignore (the rendering once had them the other way round).
    data = _load(tmp_path, WATCH)
    rule = data["services"]["web"]["develop"]["watch"][0]  # type: ignore[index]
    assert list(rule) == ["path", "action", "target", "exec", "include", "ignore"]
    assert render(data, "yaml").split("watch:\n", 1)[1] == (
        f"        - path: {tmp_path}/src\n"
        "          action: sync\n"
        "          target: /app\n"
        "          include:\n"
        "            - '*.py'\n"
        "          ignore:\n"
        "            - x\n"
        "    image: busybox\n"
        "    networks:\n"
        "      default: null\n"
        "networks:\n"
        "  default:\n"
        f"    name: {tmp_path.name.lower()}_default\n"
    )
    service = ServiceConfig.from_dict(data["services"]["web"], "web")  # type: ignore[index]
    assert service_config_hash(service) == service_config_hash(
        data["services"]["web"])  # type: ignore[index]


FLOATS = """
    services:
      web:
        image: busybox
        cpus: 0.000001
        x-z: 2.5e-7
    x-a: 1.0
    x-b: 1e20
    x-c: 20995480637147713536.0
    x-d: 123456789.0
    x-e: 1e6
    x-f: 0.00001
    x-h: 1.5
    x-j: [1.0, -0.0, {a: 2.50}]
    """


def test_config_writes_floats_as_go_does(tmp_path: Path) -> None:
    data = _load(tmp_path, FLOATS)
    text = render(data, "json")
    assert '"cpus": 0.000001' in text
    assert text.split('"x-a"', 1)[1] == (
        ': 1,\n  "x-b": 100000000000000000000,\n  "x-c": 20995480637147714000,\n'
        '  "x-d": 123456789,\n  "x-e": 1000000,\n  "x-f": 0.00001,\n  "x-h": 1.5,\n'
        '  "x-j": [\n    1,\n    -0,\n    {\n      "a": 2.5\n    }\n  ]\n}'
    )
    # yaml.v3 writes a float64 with Go's shortest 'g' form.
    project = load_project(LoadOptions(cwd=str(tmp_path), environ={}))
    from composer.cli.config_cmd import _with_service_extensions

    yaml_text = render(_with_service_extensions(project.data, project.declared), "yaml")
    assert "    cpus: 1e-06\n" in yaml_text and "    x-z: 2.5e-07\n" in yaml_text
    assert yaml_text.split("x-a", 1)[1] == (
        ": 1\nx-b: 1e+20\nx-c: 2.0995480637147714e+19\nx-d: 1.23456789e+08\nx-e: 1e+06\n"
        "x-f: 1e-05\nx-h: 1.5\nx-j:\n  - 1\n  - -0\n  - a: 2.5\n"
    )
    # The same float32, as v2 hashes it.
    assert service_config_hash(data["services"]["web"]) == (  # type: ignore[index]
        "b4d9347116285ff9deea820a4d5ba38fbb1ca5b5e87ae75f926df52c452d8e9e")
