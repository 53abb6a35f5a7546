"""The compose-spec schema phase: verdicts (as Docker Compose v2.40.3's) and error wording."""

from __future__ import annotations

import copy
import importlib.util
import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from composer.config import schema, schemacompile
from composer.config.schema import is_valid, validate_schema
from composer.config.source import Override, Reset, SourceMap
from composer.errors import Mark, SchemaError

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO.parent / "shared" / "corpus"


def parse(text: str, file: str = "compose.yaml") -> tuple[Any, SourceMap]:
    """YAML text -> (data, source map) with 1-based marks of values and of keys."""
    source = SourceMap(file)

    def walk(node: yaml.Node, path: tuple[str | int, ...]) -> None:
        source.marks[path] = Mark(file, node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                where = (*path, key.value)
                source.key_marks[where] = Mark(
                    file, key.start_mark.line + 1, key.start_mark.column + 1
                )
                walk(value, where)
        elif isinstance(node, yaml.SequenceNode):
            for i, value in enumerate(node.value):
                walk(value, (*path, i))

    root = yaml.compose(text)
    assert root is not None
    walk(root, ())
    return yaml.safe_load(text), source


def error_of(text: str) -> str:
    data, source = parse(text)
    with pytest.raises(SchemaError) as info:
        validate_schema(data, source)
    return str(info.value)


# --------------------------------------------------------------------------- wording

GOLDEN = [
    pytest.param(
        "services:\n  simple:\n    image: x\n    wrongField: 1\n",
        "compose.yaml:4:5: services.simple: additional property 'wrongField' is not allowed",
        id="unknown-service-key",
    ),
    pytest.param(
        "foo: 1\nservices:\n  a:\n    image: x\n",
        "compose.yaml:1:1: additional property 'foo' is not allowed",
        id="unknown-top-level-key",
    ),
    pytest.param(
        "services:\n  a:\n    image: x\n    pre_start:\n      - command: x\n",
        "compose.yaml:4:5: services.a: additional property 'pre_start' is not allowed",
        id="pre_start-newer-than-v2.40",
    ),
    pytest.param(
        "services:\n  a:\n    image: 3\n",
        "compose.yaml:3:12: services.a.image: must be a string, got 3",
        id="wrong-type",
    ),
    pytest.param(
        "services:\n  a:\n    image: x\n    scale: 1.5\n",
        "compose.yaml:4:12: services.a.scale: must be an integer or a string, got 1.5",
        id="wrong-type-union",
    ),
    pytest.param(
        "services:\n  a:\n",
        "compose.yaml:2:5: services.a: must be a mapping, got null",
        id="null-service",
    ),
    pytest.param(
        "services:\n  a:\n    image: x\n    depends_on:\n      b:\n        condition: service_foo\n"
        "  b:\n    image: x\n",
        "compose.yaml:6:20: services.a.depends_on.b.condition: must be one of 'service_started',"
        " 'service_healthy', 'service_completed_successfully', got 'service_foo'",
        id="bad-enum-depends_on-condition",
    ),
    pytest.param(
        "services:\n  a:\n    image: x\n    volumes:\n      - type: bnd\n        source: .\n"
        "        target: /x\n",
        "compose.yaml:5:15: services.a.volumes[0].type: must be one of 'bind', 'volume', 'tmpfs',"
        " 'cluster', 'npipe', 'image', got 'bnd'",
        id="bad-enum-volume-type",
    ),
    pytest.param(
        "services:\n  test:\n    image: x\n    container_name: ''\n",
        "compose.yaml:4:21: services.test.container_name: '' does not match pattern"
        " '[a-zA-Z0-9][a-zA-Z0-9_.-]+'",
        id="pattern-container_name",
    ),
    pytest.param(
        "services:\n  a:\n    image: x\n    depends_on:\n      b:\n        required: true\n"
        "  b:\n    image: x\n",
        "compose.yaml:6:9: services.a.depends_on.b: missing required property 'condition'",
        id="missing-required",
    ),
    pytest.param(
        "services:\n  a:\n    image: x\n    stop_grace_period: 10\n",
        "compose.yaml:4:24: services.a.stop_grace_period: must be a string, got 10",
        id="duration-not-a-string",
    ),
    pytest.param(
        "services:\n  a:\n    image: x\n    healthcheck:\n      interval: [1s]\n",
        "compose.yaml:5:17: services.a.healthcheck.interval: must be a string, got a list",
        id="duration-a-list",
    ),
    pytest.param(
        "services:\n  a:\n    image: x\n    ports:\n      - target: 80\n        publihsed: 8080\n",
        "compose.yaml:6:9: services.a.ports[0]: additional property 'publihsed' is not allowed",
        id="oneOf-reports-the-branch-of-the-right-type",
    ),
    pytest.param(
        "services:\n  a:\n    image: x\n    ports:\n      - true\n",
        "compose.yaml:5:9: services.a.ports[0]: must be a number, a string or a mapping, got true",
        id="oneOf-all-types-wrong",
    ),
    pytest.param(
        "services:\n  a:\n    image: x\n    networks:\n      n:\n        aliases: 3\n"
        "networks:\n  n: {}\n",
        "compose.yaml:6:18: services.a.networks.n.aliases: must be a list, got 3",
        id="nested-oneOf",
    ),
    pytest.param(
        "services:\n  a:\n    image: x\n    environment:\n      A: [1]\n",
        "compose.yaml:5:10: services.a.environment.A: must be a string, a number, a boolean or"
        " null, got a list",
        id="environment-value",
    ),
    pytest.param(
        "services:\n  'bad name!':\n    image: x\n",
        "compose.yaml:2:3: services: key 'bad name!' is not allowed: keys must match"
        " '^[a-zA-Z0-9._-]+$'",
        id="bad-service-name",
    ),
    pytest.param(
        "services:\n  a:\n    image: x\n    security_opt: [a, b, a]\n",
        "compose.yaml:4:26: services.a.security_opt: items at 0 and 2 are equal",
        id="unique-items",
    ),
    pytest.param(
        "services:\n  a:\n    image: x\n    oom_score_adj: -2000\n",
        "compose.yaml:4:20: services.a.oom_score_adj: must be >= -1000, got -2000",
        id="minimum",
    ),
    pytest.param(
        "version: 3.8\nservices:\n  a: {image: x}\n",
        "compose.yaml:1:10: version: must be a string, got 3.8",
        id="version-number",
    ),
    pytest.param(
        "services:\n  a:\n    image: x\n    environment:\n      1: x\n",
        "compose.yaml:5:7: services.a.environment: non-string key 1",
        id="non-string-key",
    ),
    pytest.param(
        "services:\n  a:\n    image: x\n    bad: 1\n  b:\n    image: 3\n",
        "compose.yaml:4:5: services.a: additional property 'bad' is not allowed",
        id="first-error-in-the-file-wins",
    ),
]


@pytest.mark.parametrize(("text", "expected"), GOLDEN)
def test_error_wording(text: str, expected: str) -> None:
    assert error_of(text) == expected


def test_error_carries_mark_and_path() -> None:
    data, source = parse("services:\n  web:\n    image: x\n    ports: 80\n", "dir/compose.yaml")
    with pytest.raises(SchemaError) as info:
        validate_schema(data, source)
    err = info.value
    assert err.mark == Mark("dir/compose.yaml", 4, 12)
    assert err.path == ("services", "web", "ports")
    assert err.file == "dir/compose.yaml"
    assert err.exit_code == 15


def test_error_without_marks_names_file_and_path() -> None:
    data = {"services": {"web": {"image": "x", "ports": 80}}}
    with pytest.raises(SchemaError) as info:
        validate_schema(data, SourceMap("compose.yaml"))
    assert str(info.value) == "compose.yaml: services.web.ports: must be a list, got 80"


def test_valid_document_passes() -> None:
    data, source = parse("services:\n  web:\n    image: nginx\n    ports: ['8080:80']\n")
    validate_schema(data, source)  # no exception


# --------------------------------------------------------------------------- verdicts
# Each verdict below was observed with Docker Compose v2.40.3 (`config`): True means it
# got past the schema, False that its schema refused the file.

def service(body: str) -> str:
    lines = "".join(f"    {line}\n" for line in body.splitlines())
    return f"services:\n  a:\n    image: x\n{lines}  b:\n    image: x\n"


V2_VERDICTS = [
    # Lists Compose de-duplicates before validating accept repeated items ...
    (service("cap_add: [A, A]"), True),
    (service("ports: ['80', '80']"), True),
    (service("volumes: ['/a:/b', '/a:/b']"), True),
    (service("environment: [A=1, A=1]"), True),
    (service("labels: [a=1, a=1]"), True),
    (service("dns: [1.1.1.1, 1.1.1.1]"), True),
    (service("profiles: [p, p]"), True),
    (service("build:\n  context: .\n  args: [A=1, A=1]"), True),
    (service("deploy:\n  labels: [a=1, a=1]"), True),
    ("services:\n  a: {image: x}\nnetworks:\n  n:\n    labels: [a=1, a=1]\n", True),
    # ... the others do not.
    (service("security_opt: [a, a]"), False),
    (service("depends_on: [b, b]"), False),
    (service("extra_hosts: ['a:1.1.1.1', 'a:1.1.1.1']"), False),
    (service("post_start:\n  - command: x\n    environment: [A=1, A=1]"), False),
    ("services:\n  a: {image: x}\nvolumes:\n  v:\n    labels: [a=1, a=1]\n", False),
    (service("develop:\n  watch:\n    - path: .\n      action: rebuild\n      ignore: [a, a]"),
     False),
    # A service's model entry may be null (compose-go's embedded schema).
    ("services:\n  a:\n    image: x\n    models:\n      m:\nmodels:\n  m: {model: ai/x}\n", True),
    # include and extends are decoded by Compose itself, ignoring unknown keys.
    ("include:\n  - path: inc.yaml\n    x-foo: 1\nservices:\n  a: {image: x}\n", True),
    ("include:\nservices:\n  a: {image: x}\n", True),
    ("services:\n  a: {image: x, extends: {service: b, bogus: 1}}\n  b: {image: y}\n", True),
    # Plain schema verdicts.
    (service("restart: sometimes"), True),
    (service("container_name: a"), False),
    (service("container_name: -ab"), True),
    ("services:\n  \"a\\n\":\n    image: x\n", False),
    ("services:\n  a: {image: x}\nnetworks:\n  n:\n", True),
    ("services:\n  a: {image: x}\nnetworks:\n", False),
    (service("use_api_socket: 'true'"), False),
    (service("provider:\n  type: x\n  options:\n    k: [a, 1]"), True),
]


@pytest.mark.parametrize(("text", "accepted"), V2_VERDICTS)
def test_verdict_as_v2(text: str, accepted: bool) -> None:
    data, source = parse(text)
    assert is_valid(data) is accepted
    if accepted:
        validate_schema(data, source)
    else:
        with pytest.raises(SchemaError):
            validate_schema(data, source)


@pytest.mark.oracle
@pytest.mark.parametrize(("text", "accepted"), V2_VERDICTS)
def test_verdict_table_matches_v2(
    text: str, accepted: bool, v2_binary: str, tmp_path: Path
) -> None:
    (tmp_path / "compose.yaml").write_text(text)
    (tmp_path / "inc.yaml").write_text("services:\n  i: {image: y}\n")
    proc = subprocess.run(
        [v2_binary, "-f", "compose.yaml", "config", "--format", "json"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    refused_by_schema = "validating " in proc.stderr
    assert refused_by_schema is (not accepted), proc.stderr
    if accepted:
        assert proc.returncode == 0, proc.stderr


# --------------------------------------------------------------------------- markers


def test_override_is_validated_as_its_value() -> None:
    ok = {"services": {"a": {"image": "x", "ports": Override(["80:80"])}}}
    assert is_valid(ok)
    bad = {"services": {"a": Override({"image": "x", "bogus": 1})}}
    with pytest.raises(SchemaError, match="additional property 'bogus' is not allowed"):
        validate_schema(bad, SourceMap("compose.yaml"))


def test_reset_counts_as_absent() -> None:
    assert is_valid({"services": {"a": {"image": "x", "ports": Reset()}}})
    assert is_valid({"services": {"a": {"image": "x"}}, "networks": Reset()})
    # A required property that is reset is missing.
    data = {"services": {"a": {"image": "x", "depends_on": {"b": {"condition": Reset()}}}}}
    with pytest.raises(SchemaError, match="missing required property 'condition'"):
        validate_schema(data, SourceMap("compose.yaml"))


# --------------------------------------------------------------------------- fast check


def _corpus_documents() -> list[Any]:
    if not (CORPUS / "manifest.tsv").is_file():
        pytest.skip(f"reference corpus not found at {CORPUS}")
    with open(CORPUS / "manifest.tsv", encoding="utf-8") as fh:
        paths = [line.split("\t", 1)[0] for line in fh.read().splitlines()[1:]]
    return [yaml.safe_load((CORPUS / p).read_text(encoding="utf-8")) for p in paths]


_ODD_VALUES: list[Any] = [
    None, True, 0, -1, 1.5, 2.0, "", "x", "a\n", "80:80", "service_healthy", [], ["a", "a"],
    {}, {"x": 1}, {"x-y": 1}, [1], [{"a": 1}], {"condition": "service_started"}, {"target": 80},
]


def _mutate(doc: Any, rnd: random.Random) -> Any:
    doc = copy.deepcopy(doc)
    nodes: list[tuple[Any, Any]] = []

    def collect(node: Any) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                nodes.append((node, k))
                collect(v)
        elif isinstance(node, list):
            for i, v in enumerate(node):
                nodes.append((node, i))
                collect(v)

    collect(doc)
    if not nodes:
        return doc
    parent, key = rnd.choice(nodes)
    roll = rnd.random()
    if roll < 0.6:
        parent[key] = copy.deepcopy(rnd.choice(_ODD_VALUES))
    elif roll < 0.8 and isinstance(parent, dict):
        name = rnd.choice(["bogus", "x-ok", "a\n", "condition", "target", "external", "type"])
        parent[name] = copy.deepcopy(rnd.choice(_ODD_VALUES))
    elif isinstance(parent, list):
        parent.append(copy.deepcopy(parent[key]))
    else:
        del parent[key]
    return doc


def test_fast_check_agrees_with_jsonschema() -> None:
    """The compiled yes/no check and jsonschema give the same verdict, valid or not."""
    from jsonschema import Draft7Validator

    reference = Draft7Validator(schema._compiled().schema)
    docs = _corpus_documents()
    rnd = random.Random(20240501)
    invalid = 0
    for i in range(600):
        doc = docs[i % len(docs)] if i < len(docs) else _mutate(rnd.choice(docs), rnd)
        expected = reference.is_valid(doc)
        invalid += not expected
        assert is_valid(doc) is expected, json.dumps(doc)[:500]
        if not expected:
            # ... and the report finds what is wrong.
            with pytest.raises(SchemaError) as info:
                validate_schema(doc, SourceMap("compose.yaml"))
            assert "does not follow the compose-spec schema" not in str(info.value)
    assert invalid > 100  # the mutations do produce invalid documents


def test_pattern_dollar_is_end_of_input() -> None:
    # Python's `$` also matches before a final newline; JSON Schema's does not.
    assert not is_valid({"services": {"a\n": {"image": "x"}}})
    assert schemacompile.python_regex("^[a-z$]+$") == r"^[a-z$]+\Z"
    assert schemacompile.python_regex(r"^a\$$") == r"^a\$\Z"


# --------------------------------------------------------------------------- the schema file


def test_schema_ships_inside_the_package() -> None:
    packaged = REPO / "composer" / "config" / "compose-spec.json"
    assert packaged.is_symlink()
    assert packaged.resolve() == (REPO / "schemas" / "compose-spec.json").resolve()
    loaded = schema.load_schema()
    assert "compose-spec/compose-spec" in loaded["$comment"]
    assert loaded["$schema"] == "http://json-schema.org/draft-07/schema#"
    for key in ("version", "name", "include", "services", "networks", "volumes", "secrets",
                "configs", "models"):
        assert key in loaded["properties"]
    service_keys = loaded["definitions"]["service"]["properties"]
    for key in ("develop", "provider", "models", "post_start", "pre_stop", "gpus", "deploy",
                "build"):
        assert key in service_keys


def test_importing_the_module_does_not_import_jsonschema() -> None:
    code = (
        "import sys, composer.config.schema as s, composer.config.source as src; "
        "s.validate_schema({'services': {'a': {'image': 'x'}}}, src.SourceMap('c.yaml')); "
        "print('jsonschema' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, check=True)
    assert out.stdout.strip() == "False"


# --------------------------------------------------------------------------- corpus


def _agreement_module() -> Any:
    path = REPO / "scripts" / "schema_agreement.py"
    spec = importlib.util.spec_from_file_location("schema_agreement", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


# Where our verdict differs from a reference on purpose (see schemas/compose-spec.json).
INTENDED_DISAGREEMENTS = {
    # A null service model entry: compose-go's embedded schema allows it; v2 then fails
    # that file for another reason (a service with neither image nor build).
    ("official", "compose-v2/pkg/e2e/testdata/TestLocalComposeConfigNoConsistency/compose.yaml"),
}


def test_corpus_agreement(corpus_dir: Path) -> None:
    result = _agreement_module().compare(corpus_dir)
    found = {(d.against, d.path) for d in result.disagreements}
    assert found == INTENDED_DISAGREEMENTS
    # Every file, and the v2 verdicts we can tell apart (schema refusals included: the
    # ten pre_start files, a wrong key, and an empty container_name after interpolation).
    assert result.files["official"] == 258
    assert result.files["v2"] >= 250


# --------------------------------------------------------------------------- timestamps


def _doc(text: str, file: str = "compose.yaml") -> Any:
    from composer.config.source import parse_yaml

    return parse_yaml(text, file)[0]


@pytest.mark.parametrize(("text", "where"), [
    ("services:\n  web:\n    image: x\n    labels:\n      t1: 2001-12-14\n",
     "compose.yaml:5:11: services.web.labels.t1: must be a string, a number, a boolean or null"),
    ("services:\n  web:\n    image: 2001-12-14 21:59:43\n",
     "compose.yaml:3:12: services.web.image: must be a string"),
])
def test_a_timestamp_is_refused_where_the_schema_wants_a_type(text: str, where: str) -> None:
    # v2: "services.web.labels.t1 invalid jsonType time.Time"
    doc = _doc(text)
    assert not is_valid(doc.data)
    with pytest.raises(SchemaError) as info:
        validate_schema(doc.data, doc.source)
    assert str(info.value).startswith(where)
    assert "got a timestamp (" in str(info.value)


def test_a_timestamp_is_fine_in_an_extension() -> None:
    doc = _doc("x-when: 2001-12-14\nservices:\n  web:\n    image: x\n    x-t: 2002-01-01\n")
    validate_schema(doc.data, doc.source)


# --------------------------------------------------------------------------- merged documents


BASE = """
services:
  web:
    image: x
    environment: {A: "1"}
    depends_on:
      db: {condition: service_healthy}
  db:
    image: x
"""


def _base() -> dict[str, Any]:
    from composer.config.canonical import canonicalize

    return canonicalize(_doc(BASE, "base.yaml").data)


def test_merged_document_accepts_what_only_the_base_completes() -> None:
    # v2 validates each file merged onto the earlier ones.
    override = _doc("services:\n  web:\n    environment: null\n"
                    "    depends_on:\n      db: {required: false}\n", "o.yaml")
    assert not is_valid(override.data)
    schema.validate_merged_schema(schema.merge_shapes(override.data), override.source, _base())


def test_merged_document_still_refuses_and_points_at_the_override() -> None:
    override = _doc("services:\n  web:\n    depends_on:\n      other: {required: false}\n",
                    "o.yaml")
    with pytest.raises(SchemaError) as info:
        schema.validate_merged_schema(override.data, override.source, _base())
    assert str(info.value) == (
        "o.yaml:4:14: services.web.depends_on.other: missing required property 'condition'"
    )


def test_merge_shapes_expands_what_compose_go_merges() -> None:
    data = {"services": {"a": {"depends_on": ["db"], "networks": ["n"], "build": "."}}}
    assert schema.merge_shapes(data)["services"]["a"] == {
        "depends_on": {"db": {"condition": "service_started", "required": True}},
        "networks": {"n": None},
        "build": {"context": "."},
    }
