"""The YAML source phase: values as Docker Compose v2 reads them, marks, hostile input.

Expected scalar values were taken from Docker Compose v2.40.3 (``config --format json``
on the same text under ``x-foo:``), not from PyYAML.
"""

from __future__ import annotations

import math
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from composer.config import yamltext
from composer.config.source import (
    Document,
    Override,
    Reset,
    SourceMap,
    Timestamp,
    load_yaml_file,
    parse_yaml,
    resolve_scalar,
)
from composer.errors import ConfigError, Mark, YamlError

F = "compose.yaml"


@pytest.fixture(params=["libyaml", "pure-python"])
def parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test with libyaml's parser and with PyYAML's pure-Python fallback."""
    if request.param == "pure-python":
        monkeypatch.setattr(yamltext, "_CParser", None)
    elif yamltext._CParser is None:  # pragma: no cover - PyYAML without libyaml
        pytest.skip("PyYAML was built without libyaml")
    return str(request.param)


def one(text: str | bytes) -> Document:
    docs = parse_yaml(text, F)
    assert len(docs) == 1
    return docs[0]


def data(text: str | bytes, **kwargs: Any) -> dict[str, Any]:
    docs = parse_yaml(text, F, **kwargs)
    assert len(docs) == 1
    return docs[0].data


def error(text: str | bytes, **kwargs: Any) -> YamlError:
    with pytest.raises(YamlError) as info:
        parse_yaml(text, F, **kwargs)
    err = info.value
    assert "\n" not in str(err), "errors are one line"
    assert isinstance(err, ConfigError) and err.exit_code == 15
    return err


def at(err: YamlError) -> tuple[int, int]:
    assert err.mark is not None
    assert err.mark.file == F
    return err.mark.line, err.mark.column


# --- scalar typing --------------------------------------------------------------------

SCALARS: list[tuple[str, Any]] = [
    # YAML 1.1 booleans are strings in v2
    ("yes", "yes"), ("no", "no"), ("on", "on"), ("off", "off"), ("y", "y"), ("n", "n"),
    ("Y", "Y"), ("Yes", "Yes"), ("NO", "NO"),
    ("true", True), ("True", True), ("TRUE", True), ("tRue", "tRue"),
    ("false", False), ("False", False), ("FALSE", False),
    ("null", None), ("Null", None), ("NULL", None), ("~", None), ("nULL", "nULL"),
    ("", None),
    # integers, Go strconv.ParseInt(s, 0, 64) after dropping underscores
    ("0", 0), ("-0", 0), ("+1", 1), ("42", 42), ("-17", -17), ("00", 0),
    ("0777", 511), ("0o17", 15), ("0O17", 15), ("-0o17", -15),
    ("0x1F", 31), ("0X1f", 31), ("-0x10", -16), ("+0x10", 16),
    ("0b101", 5), ("0B11", 3), ("-0b11", -3),
    ("1_000", 1000), ("0_7_7", 63), ("0x_1F", 31), ("1__0", 10), ("1_", 1), ("0_x1", 1),
    ("0b-1", -1), ("0o-7", -7),
    ("9223372036854775807", 9223372036854775807),
    ("18446744073709551615", 18446744073709551615),
    ("0xFFFFFFFFFFFFFFFF", 18446744073709551615),
    # floats
    ("08", 8.0), ("09", 9.0), ("09.5", 9.5), ("1.", 1.0), ("0.", 0.0), ("1.0", 1.0),
    ("1e3", 1000.0), ("1E3", 1000.0), ("1e+3", 1000.0), ("1.5e-3", 0.0015),
    (".5", 0.5), ("+.5", 0.5), ("-.5", -0.5), (".5_0", 0.5), (".5e1_0", 5e9),
    ("0.1_0", 0.1), ("1_2.5_0", 12.5), ("1e-400", 0.0),
    ("99999999999999999999", 1e20), ("-9223372036854775809", -9223372036854775809.0),
    ("+18446744073709551615", 18446744073709551615.0),
    (".inf", math.inf), (".Inf", math.inf), (".INF", math.inf), ("+.inf", math.inf),
    ("-.inf", -math.inf), ("-.Inf", -math.inf),
    # strings that look numeric
    ("0x", "0x"), ("0b", "0b"), ("0x_", "0x_"), ("0b12", "0b12"), ("0o8", "0o8"),
    ("1e", "1e"), ("1e400", "1e400"), (".5e400", ".5e400"), ("+Inf", "+Inf"),
    (".iNf", ".iNf"), (".", "."), ("._5", "._5"), (".5_", ".5_"), ("_1", "_1"),
    ("1:20", "1:20"), ("10s", "10s"), ("1.2.3", "1.2.3"), ("3.8.1", "3.8.1"),
    ("-", "-"), ("+", "+"), ("0x1p3", "0x1p3"),
    # timestamps resolve to v2's RFC 3339 text; invalid dates stay strings
    ("2001-12-14", Timestamp("2001-12-14T00:00:00Z", "2001-12-14")),
    ("2001-1-2", Timestamp("2001-01-02T00:00:00Z", "2001-1-2")),
    ("2001-12-14t21:59:43.10-05:00", Timestamp("2001-12-14T21:59:43.1-05:00", "")),
    ("2001-12-14 21:59:43.10", Timestamp("2001-12-14T21:59:43.1Z", "")),
    ("2001-12-14  1:2:3", Timestamp("2001-12-14T01:02:03Z", "")),
    ("2001-12-14T21:59:43+00:00", Timestamp("2001-12-14T21:59:43Z", "")),
    ("2001-12-14T21:59:43-00:00", Timestamp("2001-12-14T21:59:43Z", "")),
    ("2001-12-14T21:59:43.123456789123+05:30",
     Timestamp("2001-12-14T21:59:43.123456789+05:30", "")),
    ("2001-12-14 21:59:43,5", Timestamp("2001-12-14T21:59:43.5Z", "")),
    ("2001-12-14T21:59:43.000Z", Timestamp("2001-12-14T21:59:43Z", "")),
    ("2000-02-29", Timestamp("2000-02-29T00:00:00Z", "")),
    ("2001-02-29", "2001-02-29"), ("2001-13-45", "2001-13-45"), ("2001-04-31", "2001-04-31"),
    ("2001-12-14T24:00:00Z", "2001-12-14T24:00:00Z"),
    ("2001-12-14T21:59:60Z", "2001-12-14T21:59:60Z"),
    ("2001-12-14T21:59:43", "2001-12-14T21:59:43"),
    ("2001-12-14 21:59:43Z", "2001-12-14 21:59:43Z"),
    ("2001-12-14T21:59:43-0500", "2001-12-14T21:59:43-0500"),
    ("2001-12-14T21:59:43z", "2001-12-14T21:59:43z"),
    ("2001-12-14T21:59:43.Z", "2001-12-14T21:59:43.Z"),
    ("2001-001-01", "2001-001-01"), ("20011-12-14", "20011-12-14"),
    # ordinary strings
    ("nginx", "nginx"), ("on-failure", "on-failure"), ("<<", "<<"), ("~x", "~x"),
]  # fmt: skip


def _same(got: Any, want: Any) -> bool:
    if isinstance(want, float) and math.isnan(want):
        return isinstance(got, float) and math.isnan(got)
    if isinstance(want, Timestamp):
        return isinstance(got, Timestamp) and str(got) == str(want)
    return type(got) is type(want) and got == want


@pytest.mark.parametrize(("text", "want"), SCALARS, ids=[repr(t) for t, _ in SCALARS])
def test_plain_scalar_resolves_as_v2(text: str, want: Any) -> None:
    got = data(f"x-foo: [{text}]\n" if text in ("-",) else f"x-foo: {text}\n")["x-foo"]
    if text == "-":
        got = got[0]
    assert _same(got, want), f"{text!r} -> {got!r}, v2 gives {want!r}"
    assert _same(resolve_scalar(text), want)


def test_nan_and_negative_zero() -> None:
    d = data("a: .nan\nb: .NaN\nc: -0.0\nd: -0\n")
    assert math.isnan(d["a"]) and math.isnan(d["b"])
    assert d["c"] == 0.0 and math.copysign(1, d["c"]) == -1
    assert d["d"] == 0 and type(d["d"]) is int


def test_timestamp_keeps_its_source_text() -> None:
    ts = data("t: 2001-12-14 21:59:43.10\n")["t"]
    assert isinstance(ts, Timestamp) and isinstance(ts, str)
    assert ts == "2001-12-14T21:59:43.1Z"
    assert ts.source == "2001-12-14 21:59:43.10"


def test_quoted_and_block_scalars_are_strings() -> None:
    d = data("a: '12'\nb: \"true\"\nc: |\n  12\nd: >-\n  null\ne: '2001-12-14'\nf: ''\n")
    assert d == {"a": "12", "b": "true", "c": "12\n", "d": "null", "e": "2001-12-14", "f": ""}
    assert type(d["e"]) is str


# --- tags -------------------------------------------------------------------------------


def test_core_tags_force_a_type() -> None:
    d = data(
        "a: !!str 12\nb: !!float 12\nc: !!int '12'\nd: ! 12\ne: ! '12'\nf: !!null ''\n"
        "g: !!bool 'true'\nh: !!int 0x10\ni: !!str\nj: !!timestamp '2001-01-01'\n"
        "k: !<tag:yaml.org,2002:str> 1\nl: !!binary aGVsbG8=\nm: !!binary |\n  aGVs\n  bG8=\n"
    )
    assert d["a"] == "12"
    assert d["b"] == 12.0 and type(d["b"]) is float
    assert d["c"] == 12 and type(d["c"]) is int
    assert d["d"] == 12  # "!" alone is no tag, as in v2
    assert d["e"] == "12"
    assert d["f"] is None and d["g"] is True and d["h"] == 16 and d["i"] == ""
    assert d["j"] == "2001-01-01T00:00:00Z" and isinstance(d["j"], Timestamp)
    assert d["k"] == "1" and d["l"] == "hello" and d["m"] == "hello"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("!!int abc", "'abc' is tagged !!int but reads as a string, not an integer"),
        ("!!int 1.5", "'1.5' is tagged !!int but reads as a number, not an integer"),
        ("!!float abc", "is tagged !!float"),
        ("!!bool yes", "is tagged !!bool"),
        ("!!null foo", "is tagged !!null"),
        ("!!timestamp 5", "is tagged !!timestamp"),
        ("!!binary '!!!'", "!!binary value is not valid base64 data"),
    ],
)
def test_core_tag_that_does_not_fit_is_refused(text: str, words: str) -> None:
    err = error(f"services: {{}}\nx-a: {text}\n")
    assert words in str(err)
    assert at(err) == (2, 6)


def test_unknown_global_tags_leave_raw_text_like_v2() -> None:
    d = data("a: !!foo 12\nb: !<tag:example.com,2000:x> 1\nc: !!set {a}\nd: !!map a\n")
    assert d == {"a": "12", "b": "1", "c": {"a": None}, "d": "a"}


def test_reset_tag() -> None:
    d = data("a: !reset\nb: !reset null\nc: !reset [1]\nd: !reset {x: 1}\ne: [1, !reset 2, 3]\n")
    assert d == {"a": Reset(), "b": Reset(), "c": Reset(), "d": Reset(), "e": [1, Reset(), 3]}
    assert isinstance(d["a"], Reset)
    # marks below a reset value are dropped with it
    src = one("d: !reset {x: 1}\n").source
    assert ("d",) in src.marks and ("d", "x") not in src.marks


def test_override_tag() -> None:
    d = data("a: !override {x: 1}\nb: !override [1, 2]\nc: !override 1\nd: !override\n")
    assert d["a"] == Override({"x": 1})
    assert d["b"] == Override([1, 2])
    # on a scalar v2 keeps the raw text: "!override 1" is the string "1"
    assert d["c"] == Override("1") and d["d"] == Override("")


def test_override_wraps_a_mapping_that_has_merge_keys() -> None:
    d = data("x: &x {a: 1}\ny: !override\n  <<: *x\n  b: 2\n")
    assert d["y"] == Override({"a": 1, "b": 2})


@pytest.mark.parametrize("text", ["x: !foo bar", "x: !foo {a: 1}", "x: !rest [1]", "x: !<!e> 1"])
def test_unknown_local_tag_is_refused(text: str) -> None:
    err = error(text + "\n")
    assert "unknown tag !" in str(err)
    assert "!reset and !override" in str(err)
    assert at(err) == (1, 4)


def test_tag_on_a_key_is_refused() -> None:
    err = error("services:\n  !reset web: {}\n")
    assert at(err) == (2, 3)
    assert "!reset belongs on a value" in str(err)


# --- marks --------------------------------------------------------------------------------


def test_marks_of_values_keys_and_list_items(parser: str) -> None:
    text = (
        "services:\n"  # 1
        "  web:\n"  # 2
        "    image: nginx\n"  # 3
        "    ports:\n"  # 4
        '      - "80:80"\n'  # 5
        "      - target: 443\n"  # 6
        "        published: 8443\n"  # 7
        "    environment: {A: 1, B: '2'}\n"  # 8
    )
    src = one(text).source
    assert src.file == F
    m = {p: (v.line, v.column) for p, v in src.marks.items()}
    k = {p: (v.line, v.column) for p, v in src.key_marks.items()}
    assert m[()] == (1, 1)
    assert m[("services", "web", "image")] == (3, 12)
    assert k[("services", "web", "image")] == (3, 5)
    assert m[("services", "web", "ports")] == (5, 7)
    assert k[("services", "web", "ports")] == (4, 5)
    assert m[("services", "web", "ports", 0)] == (5, 9)
    assert ("services", "web", "ports", 0) not in k
    assert m[("services", "web", "ports", 1)] == (6, 9)
    assert m[("services", "web", "ports", 1, "published")] == (7, 20)
    assert k[("services", "web", "ports", 1, "published")] == (7, 9)
    assert m[("services", "web", "environment", "B")] == (8, 28)
    assert k[("services", "web", "environment", "A")] == (8, 19)
    assert all(isinstance(v, Mark) and v.file == F for v in src.marks.values())


def test_sourcemap_mark_falls_back_to_nearest_ancestor() -> None:
    src = one("services:\n  web:\n    ports: ['80']\n").source
    assert src.mark(("services", "web", "ports", 5, "x")) == src.marks[("services", "web", "ports")]
    assert src.mark(()) == Mark(F, 1, 1)
    assert SourceMap(F).mark(("a",)) is None


def test_marks_count_characters_not_bytes() -> None:
    src = one("x-é: {ü: 'ö', k: v}\n").source
    assert (src.marks[("x-é", "k")].line, src.marks[("x-é", "k")].column) == (1, 18)


def test_marks_with_crlf_line_endings_and_bom() -> None:
    doc = one(b"\xef\xbb\xbfservices:\r\n  web:\r\n    image: nginx\r\n")
    assert doc.data == {"services": {"web": {"image": "nginx"}}}
    assert doc.source.marks[("services", "web", "image")] == Mark(F, 3, 12)


# --- anchors and merge keys -------------------------------------------------------------


def test_alias_copies_value_and_marks(parser: str) -> None:
    doc = one("x-base: &base\n  image: nginx\n  env: [A]\nservices:\n  web: *base\n  db: *base\n")
    web, db = doc.data["services"]["web"], doc.data["services"]["db"]
    assert web == db == {"image": "nginx", "env": ["A"]}
    web["env"].append("B")  # later phases may mutate; copies must be independent
    assert db["env"] == ["A"] and doc.data["x-base"]["env"] == ["A"]
    marks = doc.source.marks
    assert marks[("services", "web")] == Mark(F, 5, 8)  # where the alias is
    assert marks[("services", "web", "image")] == Mark(F, 2, 10)  # where it was written
    assert doc.source.key_marks[("services", "db", "env")] == Mark(F, 3, 3)


def test_merge_key_single_mapping_explicit_keys_win(parser: str) -> None:
    text = "x: &x {image: a, restart: always}\nweb:\n  image: b\n  <<: *x\n"
    doc = one(text)
    assert doc.data["web"] == {"image": "b", "restart": "always"}
    assert doc.source.marks[("web", "image")] == Mark(F, 3, 10)
    assert doc.source.marks[("web", "restart")] == Mark(F, 1, 27)
    assert doc.source.key_marks[("web", "restart")] == Mark(F, 1, 18)


def test_merge_key_list_earlier_mappings_win(parser: str) -> None:
    text = "a: &a {p: 1, q: 1}\nb: &b {q: 2, r: 2}\nc:\n  <<: [*a, *b]\n  r: 3\n"
    assert data(text)["c"] == {"p": 1, "q": 1, "r": 3}


def test_merge_key_inline_mappings(parser: str) -> None:
    doc = one("c:\n  d: 1\n  <<: {a: 9, d: 2}\ne:\n  <<: [{a: 1}, {a: 2, b: 2}]\n")
    assert doc.data == {"c": {"d": 1, "a": 9}, "e": {"a": 1, "b": 2}}
    assert doc.source.marks[("c", "a")] == Mark(F, 3, 11)
    assert doc.source.marks[("e", "b")] == Mark(F, 5, 26)
    assert not any(-1 in p for p in doc.source.marks), "no scratch paths leak"


def test_anchor_on_merge_sources() -> None:
    text = "a: &a {x: 1}\nb:\n  <<: &l [*a, &i {y: 2}]\nc: *l\nd: *i\ne:\n  <<: &s {z: 3}\nf: *s\n"
    d = data(text)
    assert d == {
        "a": {"x": 1},
        "b": {"x": 1, "y": 2},
        "c": [{"x": 1}, {"y": 2}],
        "d": {"y": 2},
        "e": {"z": 3},
        "f": {"z": 3},
    }
    # an alias to a list of mappings is a merge value too (v2 accepts it) ...
    doc = one(text + "g:\n  <<: *l\n  x: 0\n")
    assert doc.data["g"] == {"x": 0, "y": 2}
    assert doc.source.marks[("g", "y")] == Mark(F, 3, 22)
    # ... but every item must be a mapping, and an alias inside a list must name one
    assert "merge key needs" in str(error("l: &l [{a: 1}, [1]]\ng:\n  <<: *l\n"))
    assert "merge key needs" in str(error("l: &l [{a: 1}]\ng:\n  <<: [*l]\n"))


def test_merged_reset_is_carried() -> None:
    assert data("x: &x {a: !reset 1, b: 2}\ny:\n  <<: *x\n  c: 3\n")["y"] == {
        "c": 3,
        "a": Reset(),
        "b": 2,
    }


def test_quoted_merge_key_is_an_ordinary_key() -> None:
    assert data('c:\n  "<<": {a: 1}\n') == {"c": {"<<": {"a": 1}}}
    assert data("c:\n  !!merge <<: {a: 1}\n") == {"c": {"a": 1}}


@pytest.mark.parametrize(
    "text",
    [
        "x: &x [1]\nc:\n  <<: *x\n",
        "c:\n  <<: 1\n",
        "c:\n  <<: ~\n",
        "c:\n  <<: [[1]]\n",
        "c:\n  <<: [1]\n",
        "x: &x [1]\nc:\n  <<: [*x]\n",
        "c:\n  <<: !reset {a: 1}\n",
    ],
)
def test_merge_key_needs_mappings(text: str) -> None:
    err = error(text)
    assert "merge key needs a mapping or a list of mappings" in str(err)
    assert err.mark is not None


def test_merge_key_twice_is_a_duplicate() -> None:
    err = error("a: &a {x: 1}\nc:\n  <<: *a\n  <<: {y: 1}\n")
    assert str(err) == 'compose.yaml:4:3: mapping key "<<" already defined at line 3'


def test_undefined_alias() -> None:
    err = error("services:\n  web: *nope\n")
    assert at(err) == (2, 8)
    assert "alias *nope" in str(err) and "not defined" in str(err)


@pytest.mark.parametrize("text", ["x: &a [*a]\n", "x: &a {b: *a}\n", "x: &a {b: [1, {c: *a}]}\n"])
def test_alias_to_its_own_container_is_refused(text: str) -> None:
    err = error(text)
    assert "refers to the node that contains it" in str(err)


def test_anchor_may_be_redefined() -> None:
    assert data("a: &x 1\nb: *x\nc: &x 2\nd: *x\n") == {"a": 1, "b": 1, "c": 2, "d": 2}


def test_anchors_do_not_cross_documents() -> None:
    err = error("a: &x 1\n---\nb: *x\n")
    assert at(err) == (3, 4)


def test_alias_as_key() -> None:
    assert data("a: &k name\n*k : v\n") == {"a": "name", "name": "v"}


# --- mapping keys -----------------------------------------------------------------------


def test_duplicate_key_names_both_lines(parser: str) -> None:
    err = error("services:\n  web:\n    image: nginx\n    ports: []\n    image: redis\n")
    assert str(err) == 'compose.yaml:5:5: mapping key "image" already defined at line 3'


def test_duplicate_key_in_flow_mapping_and_quoted_forms() -> None:
    assert str(error("x: {a: 1, a: 2}\n")) == (
        'compose.yaml:1:11: mapping key "a" already defined at line 1'
    )
    assert "already defined at line 2" in str(error("x:\n  a: 1\n  'a': 2\n"))


def test_duplicate_key_after_merge_is_allowed() -> None:
    assert data("x: &x {a: 1}\ny:\n  <<: *x\n  a: 2\n")["y"] == {"a": 2}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1: a\n", "compose.yaml:1:1: non-string key at top level: 1"),
        ("services:\n  web:\n    environment:\n      1: a\n",
         "compose.yaml:4:7: non-string key in services.web.environment: 1"),
        ("x: {true: a}\n", "compose.yaml:1:5: non-string key in x: true"),
        ("x: {~: a}\n", "compose.yaml:1:5: non-string key in x: <nil>"),
        ("x: {08: a}\n", "compose.yaml:1:5: non-string key in x: 8"),
        ("x: [{a: {1.5: b}}]\n", "compose.yaml:1:10: non-string key in x[0].a: 1.5"),
        ("x: {2001-12-14: a}\n", "compose.yaml:1:5: non-string key in x: 2001-12-14"),
    ],
)  # fmt: skip
def test_non_string_key_is_refused_as_v2_words_it(text: str, message: str) -> None:
    assert str(error(text)).startswith(message)


def test_quoted_number_key_is_fine() -> None:
    assert data("x: {'1': a, !!str 2: b}\n") == {"x": {"1": "a", "2": "b"}}


@pytest.mark.parametrize("text", ["? [1]\n: a\n", "x: {[1]: a}\n", "x: {{a: 1}: b}\n"])
def test_collection_as_key_is_refused(text: str) -> None:
    assert "a mapping key must be a string" in str(error(text))


# --- documents ----------------------------------------------------------------------------


def test_multi_document_file_gives_one_document_each(parser: str) -> None:
    docs = parse_yaml("services:\n  a: {image: x}\n---\nservices:\n  b: {image: y}\n", F)
    assert [d.data for d in docs] == [
        {"services": {"a": {"image": "x"}}},
        {"services": {"b": {"image": "y"}}},
    ]
    assert docs[1].source.marks[("services", "b", "image")] == Mark(F, 5, 14)
    assert docs[0].source is not docs[1].source


@pytest.mark.parametrize("text", ["", "\n\n  \n", "# only a comment\n", "---\n", "--- # c\n...\n"])
def test_empty_file_is_one_empty_document(text: str) -> None:
    docs = parse_yaml(text, F)
    assert len(docs) == 1 and docs[0].data == {} and docs[0].source.file == F


@pytest.mark.parametrize("text", ["--- {a: 1}\n---\n", "---\n--- {a: 1}\n", "---\n---\n"])
def test_empty_document_among_several_is_refused_like_v2(text: str) -> None:
    assert "this YAML document is empty" in str(error(text))


@pytest.mark.parametrize(
    ("text", "words", "where"),
    [
        ("- a\n- b\n", "top-level object must be a mapping, not a sequence", (1, 1)),
        ("hello\n", "not a string (hello)", (1, 1)),
        ("42\n", "not an integer (42)", (1, 1)),
        ("~\n", "not null", (1, 1)),
        ("a: 1\n---\n  - x\n", "not a sequence", (3, 3)),
        ("--- !reset {}\n", "not a !reset or !override value", (1, 5)),
    ],
)
def test_top_level_must_be_a_mapping(text: str, words: str, where: tuple[int, int]) -> None:
    err = error(text)
    assert words in str(err)
    assert at(err) == where


# --- syntax errors ------------------------------------------------------------------------


def test_syntax_error_has_mark_and_context(parser: str) -> None:
    err = error("a: [1\nb: 2\n")
    assert at(err) == (2, 2)
    assert str(err).startswith("compose.yaml:2:2: invalid YAML: ")
    assert "',' or ']'" in str(err)
    assert "while parsing a flow sequence at line 1, column 4" in str(err)


def test_tab_indentation_gets_a_hint(parser: str) -> None:
    err = error("services:\n\tweb: {}\n")
    assert at(err) == (2, 1)
    assert str(err).endswith("; YAML indentation must use spaces, not tabs")


def test_reserved_indicator_gets_a_hint(parser: str) -> None:
    err = error("services:\n  web:\n    image: @latest\n")
    assert at(err) == (3, 12)
    assert str(err).endswith("; '@' cannot start a plain value: quote the value")


def test_unquoted_colon_gets_a_hint() -> None:
    assert "needs quotes" in str(error("command: echo a: b\n"))


# --- hostile input ------------------------------------------------------------------------


def _bomb(levels: int) -> str:
    lines = ['x-a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        name, prev = chr(ord("a") + i), chr(ord("a") + i - 1)
        lines.append(f"x-{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_refused(parser: str) -> None:
    # 9**6 = 531,441 strings: big enough to pass the limit, small enough that a loader
    # without one would finish rather than hang this test.
    err = error(_bomb(6))
    assert "alias bomb" in str(err)
    assert at(err)[0] == 6


def test_alias_bomb_limit_is_tunable() -> None:
    assert len(data(_bomb(3))["x-c"]) == 9
    assert "alias bomb" in str(error(_bomb(3), max_alias_nodes=10))


def test_honest_anchor_reuse_in_a_big_file_is_fine() -> None:
    services = "".join(f"  s{i}:\n    <<: *base\n    image: img{i}\n" for i in range(2000))
    text = "x-base: &base\n" + "".join(f"  k{i}: v{i}\n" for i in range(40)) + "services:\n"
    d = data(text + services)
    assert len(d["services"]) == 2000 and d["services"]["s7"]["k39"] == "v39"


@pytest.mark.parametrize(
    "text",
    [
        "x: " + "[" * 20_000 + "]" * 20_000 + "\n",
        "x: " + "{a: " * 20_000 + "1" + "}" * 20_000 + "\n",
        "x:\n" + "- " * 20_000 + "a\n",
        "x:\n" + "".join(" " * (i + 1) + "a:\n" for i in range(1_000)),
        "x: &x " + "[" * 200 + "]" * 200 + "\ny: " + "[" * 100 + "*x" + "]" * 100 + "\n",
    ],
    ids=["flow-sequences", "flow-mappings", "block-sequences", "block-mappings", "via-alias"],
)
def test_deep_nesting_is_refused(text: str, parser: str) -> None:
    err = error(text)
    assert "nest" in str(err)
    assert err.mark is not None


def test_nesting_up_to_the_limit_is_fine() -> None:
    value = data("x: " + "[" * 9 + "1" + "]" * 9 + "\n", max_depth=10)["x"]
    for _ in range(9):
        value = value[0]
    assert value == 1
    assert "deeper than 10 levels" in str(error("x: " + "[" * 10 + "]" * 10, max_depth=10))


def test_non_utf8_names_the_byte_offset() -> None:
    err = error(b"services:\n  web:\n    image: ngi\xffnx\n")
    assert at(err) == (3, 15)
    assert "not valid UTF-8" in str(err) and "byte 0xff at byte offset 31" in str(err)


def test_latin1_file() -> None:
    err = error("x: {a: café}\n".encode("latin-1"))
    assert "not valid UTF-8" in str(err) and "Latin-1" in str(err)
    assert at(err) == (1, 11)


def test_binary_garbage() -> None:
    err = error(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    assert "not valid UTF-8" in str(err) and "binary file" in str(err)
    assert at(err) == (1, 1)


def test_nul_byte() -> None:
    err = error(b"services:\n  web:\n    image: ngi\x00nx\n")
    assert at(err) == (3, 15)
    assert "NUL byte at byte offset 31" in str(err)


def test_utf16_without_bom_is_explained() -> None:
    err = error("services: {}\n".encode("utf-16-le"))
    assert "NUL byte" in str(err) and "UTF-16 without a byte-order mark" in str(err)


def test_control_character() -> None:
    err = error("x: a\x1bb\n")
    assert at(err) == (1, 5)
    assert "control character U+001B" in str(err)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-8-sig"])
def test_byte_order_marks_are_read_like_v2(encoding: str) -> None:
    raw = "services:\n  web:\n    image: nginx\n".encode(encoding)
    if encoding == "utf-16-be":
        raw = b"\xfe\xff" + raw
    assert data(raw) == {"services": {"web": {"image": "nginx"}}}


def test_odd_utf16_is_refused() -> None:
    assert "not valid UTF-16-LE" in str(error(b"\xff\xfea\x00b"))


# --- files --------------------------------------------------------------------------------


def test_load_yaml_file(tmp_path: Path) -> None:
    path = tmp_path / "compose.yaml"
    path.write_text("services:\n  web:\n    image: nginx\n")
    docs = load_yaml_file(str(path))
    assert docs[0].data == {"services": {"web": {"image": "nginx"}}}
    assert docs[0].source.file == str(path)
    assert docs[0].source.marks[("services", "web", "image")] == Mark(str(path), 3, 12)


def _load_error(path: str | Path, **kwargs: Any) -> YamlError:
    with pytest.raises(YamlError) as info:
        load_yaml_file(str(path), **kwargs)
    assert "\n" not in str(info.value)
    assert info.value.file == str(path)
    return info.value


def test_missing_file(tmp_path: Path) -> None:
    err = _load_error(tmp_path / "nope.yaml")
    assert str(err) == f"{tmp_path / 'nope.yaml'}: cannot read: no such file"


def test_folder_instead_of_file(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").mkdir()
    err = _load_error(tmp_path / "compose.yaml")
    assert "is a directory, not a compose file" in str(err)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads anything")
def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "compose.yaml"
    path.write_text("services: {}\n")
    path.chmod(0)
    try:
        assert "permission denied" in str(_load_error(path))
    finally:
        path.chmod(stat.S_IRUSR | stat.S_IWUSR)


def test_unreadable_file_even_as_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "compose.yaml"
    path.write_text("services: {}\n")

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("builtins.open", refuse)
    assert str(_load_error(path)) == f"{path}: cannot read: permission denied"


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_device_is_refused_rather_than_read_forever() -> None:
    assert "is a device" in str(_load_error("/dev/zero"))


def test_too_large_file(tmp_path: Path) -> None:
    path = tmp_path / "compose.yaml"
    path.write_text("x: " + "a" * 200 + "\n")
    assert "too large" in str(_load_error(path, max_bytes=100))


def test_file_errors_carry_marks(tmp_path: Path) -> None:
    path = tmp_path / "compose.yaml"
    path.write_bytes(b"services:\n  web: {}\n  web: {}\n")
    err = _load_error(path)
    assert str(err) == f'{path}:3:3: mapping key "web" already defined at line 2'


# --- scale --------------------------------------------------------------------------------


def _big_file(n: int) -> str:
    out = ["services:\n"]
    for i in range(n):
        out.append(
            f"  svc{i}:\n    image: registry.example.com/app{i}:1.{i}\n"
            f'    ports:\n      - "{8000 + i}:80"\n'
            f"    environment:\n      INDEX: {i}\n      DEBUG: 'false'\n"
            f"    volumes:\n      - ./data/{i}:/data\n"
            f"    depends_on: [svc{max(i - 1, 0)}]\n"
            f"    labels:\n      com.example.index: '{i}'\n"
        )
    return "".join(out)


@pytest.fixture(scope="module")
def big_file() -> Iterator[str]:
    yield _big_file(1_000)


def test_thousand_services(big_file: str) -> None:
    doc = one(big_file)
    assert len(doc.data["services"]) == 1_000
    assert doc.data["services"]["svc999"]["environment"]["INDEX"] == 999
    assert doc.source.marks[("services", "svc999", "ports", 0)].line == 999 * 12 + 5


def test_both_parsers_agree(big_file: str, monkeypatch: pytest.MonkeyPatch) -> None:
    text = big_file[:20_000] + "x-m: &m {a: 1}\nx-n:\n  <<: *m\n  t: 2001-12-14\n"
    fast = parse_yaml(text, F)
    monkeypatch.setattr(yamltext, "_CParser", None)
    slow = parse_yaml(text, F)
    assert [d.data for d in fast] == [d.data for d in slow]
    assert [d.source for d in fast] == [d.source for d in slow]
