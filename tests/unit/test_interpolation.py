"""Interpolation: v2's template language, error wording, typed casts, markers, speed.

Every expected value in the tables below was printed by Docker Compose v2.40.3
(``config --format json``, with ``$$`` in its output read back as ``$``) for the
environment in ``ENV``.
"""

from __future__ import annotations

from typing import Any

import pytest

from composer.config.interpolation import (
    CAST_PATHS,
    InvalidTemplateError,
    MissingRequiredError,
    expand,
    interpolate,
    substitute,
)
from composer.config.source import Override, Reset, SourceMap
from composer.errors import InterpolationError, Mark

ENV = {"X": "xv", "E": "", "X1": "one", "lower": "lv", "_u": "uu"}

# (template, what v2 substitutes) -- U, U2 are unset, E is set and empty.
V2_TEMPLATES = [
    ('plain', 'plain'),
    ('$$', '$'),
    ('a$$b', 'a$b'),
    ('$$$$', '$$'),
    ('$$X', '$X'),
    ('$X', 'xv'),
    ('${X}', 'xv'),
    ('$X$X', 'xvxv'),
    ('${X}${X}', 'xvxv'),
    ('$X_y-z', '-z'),
    ('$Xé', 'xvé'),
    ('$é', '$é'),
    ('$1', '$1'),
    ('$-', '$-'),
    ('a $ b', 'a $ b'),
    ('$', '$'),
    ('a$', 'a$'),
    ('$X$', 'xv$'),
    ('$ {X}', '$ {X}'),
    ('${X}$', 'xv$'),
    ('${X:-d}', 'xv'),
    ('${X-d}', 'xv'),
    ('${E:-d}', 'd'),
    ('${E-d}', ''),
    ('${U:-d}', 'd'),
    ('${U-d}', 'd'),
    ('${X:+a}', 'a'),
    ('${X+a}', 'a'),
    ('${E:+a}', ''),
    ('${E+a}', 'a'),
    ('${U:+a}', ''),
    ('${U+a}', ''),
    ('${X:?m}', 'xv'),
    ('${E?m}', ''),
    ('${X?}', 'xv'),
    ('${U:-${X:-x}}', 'xv'),
    ('${U:-${U2:-x}}', 'x'),
    ('${U:-a $X b}', 'a xv b'),
    ('${U:-{}}', '{}'),
    ('${X}}', 'xv}'),
    ('${U:-x}}', 'x}'),
    ('${U:-{x}', '{x'),
    ('${U:-{x}}', '{x}'),
    ('${U:-x} and ${X}', 'x and xv'),
    ('${U:-${U2:-${X}}}z', 'xvz'),
    ('${X:-${U}}}', 'xv}'),
    ('${U:-a}${U2:-b}', 'ab'),
    ('${U:-${X}}${U2:-${X}}', 'xvxv'),
    ('${U:-$$}', '$'),
    ('${U:-a$$b}', 'a$b'),
    ('${U:-$X}', 'xv'),
    ('${U:-$$X}', '$X'),
    ('${U:-a}b}c}', 'ab}c}'),
    ('${U:-{a}b}c}', '{a}bc}'),
    ('${U:-}', ''),
    ('${U-}', ''),
    ('${X:-}', 'xv'),
    ('${U:-a:-b}', 'a:-b'),
    ('${U:-a?b}', 'a?b'),
    ('${U-a:-b}', 'a:-b'),
    ('${U:+a-b}', ''),
    ('x${U:-{}}y', 'x{}y'),
    ('${U:-{{x}}}', '{{x}}'),
    ('${U:-}{}}', '{}}'),
    ('${lower:-l}', 'lv'),
    ('${_u:-u}', 'uu'),
    ('${X1:-n}', 'one'),
    ('$X1', 'one'),
    ('${U:-"q"}', '"q"'),
    ("${U:-'q'}", "'q'"),
    ('${U:-a b c}', 'a b c'),
    ('pre${X}post', 'prexvpost'),
    ('${X:-a}${X:+b}${U+c}', 'xvb'),
    ('${U:-${X}-${X}}', 'xv-xv'),
    ('$${X}', '${X}'),
    ('$$${X}', '$xv'),
    ('${U:-}}}', '}}'),
    ('${U:-x}{}', 'x{}'),
    ('{${X}}', '{xv}'),
    ('${U:-a\tb}', 'a\tb'),
    ('${U:-é}', 'é'),
    ('${U:-x}${U2:-}}', 'x}'),
    ('${U:-${U2:-}}}', '}'),
    # Go's case-insensitive [a-z] also takes U+017F and U+212A, not U+0131.
    ("$\u017f", ""),
    ("$\u212a", ""),
    ("$\u0131", "$\u0131"),
    ("a${\u017f}", "a"),
]


@pytest.mark.parametrize(("template", "expected"), V2_TEMPLATES)
def test_template_matches_v2(template: str, expected: str) -> None:
    assert expand(template, ENV.get) == expected


def test_unset_variable_warns_and_becomes_empty() -> None:
    warnings: list[str] = []
    assert expand("a${NOPE}b$NOPE2", ENV.get, warnings.append) == "ab"
    assert warnings == [
        'The "NOPE" variable is not set. Defaulting to a blank string.',
        'The "NOPE2" variable is not set. Defaulting to a blank string.',
    ]


@pytest.mark.parametrize("template", ["${U:-x}", "${U-x}", "${U:+x}", "${U+x}", "${E}", "$$U"])
def test_operators_and_empty_values_do_not_warn(template: str) -> None:
    warnings: list[str] = []
    expand(template, ENV.get, warnings.append)
    assert warnings == []


def test_operator_argument_is_expanded_even_when_unused() -> None:
    # v2 expands defaults eagerly: X is set, yet U inside its default is reported.
    warnings: list[str] = []
    assert expand("${X:-${U}}", ENV.get, warnings.append) == "xv"
    assert warnings == ['The "U" variable is not set. Defaulting to a blank string.']
    with pytest.raises(MissingRequiredError):
        expand("${X:-${U:?err}}", ENV.get)


# (template, the template v2 names in its "invalid interpolation format" error)
V2_INVALID = [
    ("${", "${"),
    ("${X", "${X"),
    ("${ X}", "${ X}"),
    ("${X:x}", "${X:x}"),
    ("${1A}", "${1A}"),
    ("${A B}", "${A B}"),
    ("${}", "${}"),
    ("${U=x}", "${U=x}"),
    ("${U:=x}", "${U:=x}"),
    # v2 names the innermost template that failed: a default, or the text after it.
    ("${U:-${X}", "${X"),
    ("${U:-${}}", "${}"),
    ("${U:-x} ${ B}", " ${ B}"),
    ("${U:-x}${", "${U:-x}${"),
]


@pytest.mark.parametrize(("template", "named"), V2_INVALID)
def test_invalid_template_error_matches_v2(template: str, named: str) -> None:
    with pytest.raises(InterpolationError) as info:
        interpolate({"services": {"t": {"command": template}}}, ENV.get)
    assert info.value.path == ("services", "t", "command")
    assert str(info.value) == (
        f'services.t.command: invalid interpolation format "{named}": '
        "you may need to escape any $ with another $"
    )


V2_REQUIRED = [
    ("${X:?must set}", None),
    ("${E?m}", None),
    ("${U?}", "required variable U is missing a value"),
    ("${U:?}", "required variable U is missing a value"),
    ("${E:?empty}", "required variable E is missing a value: empty"),
    ("${U:?$X}", "required variable U is missing a value: xv"),
    ("${X:-${U:?err}}", "required variable U is missing a value: err"),
    ("${X:+${U:?err}}", "required variable U is missing a value: err"),
    ("a ${U:?e1} ${U2:?e2}", "required variable U is missing a value: e1"),
    ("${U:-x}${U2:?r}", "required variable U2 is missing a value: r"),
    ("${U:-x}}${U2:?r}", "required variable U2 is missing a value: r"),
]


@pytest.mark.parametrize(("template", "message"), V2_REQUIRED)
def test_required_variable_matches_v2(template: str, message: str | None) -> None:
    doc = {"services": {"t": {"command": template}}}
    if message is None:
        interpolate(doc, ENV.get)
        return
    with pytest.raises(InterpolationError) as info:
        interpolate(doc, ENV.get)
    assert str(info.value) == f"services.t.command: {message}"


def test_error_carries_mark_and_list_index() -> None:
    source = SourceMap("compose.yaml", marks={
        ("services", "web", "command", 1): Mark("compose.yaml", 4, 20),
        ("services", "web"): Mark("compose.yaml", 3, 5),
    })
    command = ["a", "${ID:?ID variable must be set}"]
    with pytest.raises(InterpolationError) as info:
        interpolate({"services": {"web": {"command": command}}}, ENV.get, source=source)
    assert info.value.mark == Mark("compose.yaml", 4, 20)
    assert str(info.value) == (
        "compose.yaml:4:20: services.web.command[1]: "
        "required variable ID is missing a value: ID variable must be set"
    )
    with pytest.raises(InterpolationError) as info:
        interpolate({"services": {"web": {"image": "${"}}}, ENV.get, source=source)
    # No mark for the image itself: the nearest ancestor's.
    assert str(info.value).startswith(
        'compose.yaml:3:5: services.web.image: invalid interpolation format "${": '
    )


def test_substitute_reports_path_and_mark() -> None:
    source = SourceMap("c.yaml", marks={("x-a",): Mark("c.yaml", 1, 6)})
    assert substitute("$X-$$", ENV.get, path=("x-a",), source=source) == "xv-$"
    with pytest.raises(InterpolationError) as info:
        substitute("${U:?gone}", ENV.get, path=("x-a",), source=source)
    assert str(info.value) == (
        "c.yaml:1:6: x-a: required variable U is missing a value: gone"
    )


def test_template_errors_name_the_template() -> None:
    with pytest.raises(InvalidTemplateError) as info:
        expand("${U:-${}}", ENV.get)
    assert info.value.template == "${}"
    assert str(info.value) == 'Invalid template: "${}"'


# ------------------------------------------------------------------ tree walk


def test_values_are_interpolated_and_keys_are_not() -> None:
    doc: dict[str, Any] = {
        "services": {"web": {
            "image": "img:${X}",
            "labels": {"${X}": "$X", "n": 3, "b": True, "z": None},
            "command": ["$X", 1, ["$$X"]],
        }},
        "x-ext": {"a": "${X1}"},
        "name": "p$X",
    }
    out = interpolate(doc, ENV.get)
    assert out == {
        "services": {"web": {
            "image": "img:xv",
            "labels": {"${X}": "xv", "n": 3, "b": True, "z": None},
            "command": ["xv", 1, ["$X"]],
        }},
        "x-ext": {"a": "one"},
        "name": "pxv",
    }


def test_input_is_not_changed() -> None:
    doc = {"services": {"web": {"image": "$X", "tty": "true", "ports": [{"target": "80"}]}}}
    before = repr(doc)
    out = interpolate(doc, ENV.get)
    assert repr(doc) == before
    assert out["services"]["web"] == {"image": "xv", "tty": True, "ports": [{"target": 80}]}


def test_override_values_are_interpolated_and_reset_kept() -> None:
    reset = Reset()
    doc = {"services": {"web": {
        "image": Override("img:$X"),
        "tty": Override("true"),
        "ports": Override([{"target": "${P:-80}"}]),
        "command": reset,
        "labels": [reset, "$X"],
    }}}
    out = interpolate(doc, ENV.get)["services"]["web"]
    assert out["image"] == Override("img:xv")
    assert out["tty"] == Override(True)
    assert out["ports"] == Override([{"target": 80}])
    assert out["command"] is reset
    assert out["labels"] == [reset, "xv"]


def test_path_argument_places_a_fragment() -> None:
    # A service interpolated on its own still gets the casts of services.*.
    out = interpolate({"tty": "${T:-true}", "scale": "2"}, ENV.get, path=("services", "w"))
    assert out == {"tty": True, "scale": 2}
    with pytest.raises(InterpolationError) as info:
        interpolate({"scale": "two"}, ENV.get, path=("services", "w"))
    assert "services.w.scale" in str(info.value)


def test_repeated_templates_are_all_substituted() -> None:
    doc = {"services": {f"s{i}": {"image": "img:${X}", "environment": {"A": "${X1}"}}
                        for i in range(3)}}
    out = interpolate(doc, ENV.get)
    assert {s["image"] for s in out["services"].values()} == {"img:xv"}
    assert {s["environment"]["A"] for s in out["services"].values()} == {"one"}


# ------------------------------------------------------------------ casts


def _cast_doc(pattern: str, value: object) -> dict[str, Any]:
    """A document holding ``value`` at ``pattern`` (``*`` -> a name, ``[]`` -> one item)."""
    parts = pattern.split(".")
    node: object = value
    for part in reversed(parts):
        node = [node] if part == "[]" else {("n" if part == "*" else part): node}
    assert isinstance(node, dict)
    return node


def _cast_value(doc: Any, pattern: str) -> Any:
    for part in pattern.split("."):
        doc = doc[0] if part == "[]" else doc["n" if part == "*" else part]
    return doc


_KIND = {
    "_to_int": ("7", 7, 'strconv.Atoi: parsing "zz": invalid syntax'),
    "_to_int64": ("-7", -7, 'strconv.ParseInt: parsing "zz": invalid syntax'),
    "_to_float": ("1.5", 1.5, 'strconv.ParseFloat: parsing "zz": invalid syntax'),
    "_to_float32": ("0.5", 0.5, 'strconv.ParseFloat: parsing "zz": invalid syntax'),
    "_to_bool": ("TRUE", True, "invalid boolean: zz"),
}


@pytest.mark.parametrize("pattern", sorted(CAST_PATHS))
def test_every_cast_path_casts_and_reports(pattern: str) -> None:
    good, typed, bad_message = _KIND[CAST_PATHS[pattern].__name__]
    out = interpolate(_cast_doc(pattern, good), ENV.get)
    got = _cast_value(out, pattern)
    assert got == typed and type(got) is type(typed)
    # Interpolated strings are cast the same way.
    out = interpolate(_cast_doc(pattern, "${NOPE:-" + good + "}"), ENV.get)
    assert _cast_value(out, pattern) == typed
    shown = pattern.replace(".[]", "[0]").replace("*", "n")
    with pytest.raises(InterpolationError) as info:
        interpolate(_cast_doc(pattern, "zz"), ENV.get)
    assert str(info.value) == (
        f"{shown}: failed to cast to expected type: {bad_message}"
    )


def test_cast_table_is_v2s() -> None:
    # The v2.40.3 binary raises "failed to cast" at exactly these paths (checked one by
    # one with an invalid value); anything else there is a schema or decoding matter.
    assert len(CAST_PATHS) == 40
    for absent in ("services.*.ports.[].published", "services.*.secrets.[].mode",
                   "services.*.configs.[].mode", "services.*.mem_limit",
                   "services.*.shm_size", "services.*.stop_grace_period",
                   "services.*.depends_on.*.required", "services.*.build.privileged"):
        assert absent not in CAST_PATHS


@pytest.mark.parametrize(("path", "value"), [
    (("services", "w", "ports", 0, "published"), "8080"),
    (("services", "w", "secrets", 0, "mode"), "0440"),
    (("services", "w", "mem_limit"), "3"),
    (("services", "w", "stop_grace_period"), "3"),
    (("x-tty",), "true"),
    (("services", "w", "labels", "tty"), "true"),
    (("volumes", "v", "external", "name"), "true"),
])
def test_other_paths_stay_strings(path: tuple[str | int, ...], value: str) -> None:
    node: Any = value
    for part in reversed(path):
        node = [node] if isinstance(part, int) else {part: node}
    out = interpolate(node, ENV.get)
    for part in path:
        out = out[part]
    assert out == value


def test_non_strings_at_cast_paths_are_untouched() -> None:
    doc = {"services": {"w": {"tty": True, "scale": 3, "ulimits": {"nofile": {"soft": 1}}}}}
    assert interpolate(doc, ENV.get) == doc


@pytest.mark.parametrize(("value", "expected"), [
    ("+5", 5), ("-1", -1), (" 5", None), ("0x10", None), ("", None), ("1_000", None),
    ("99999999999999999999", "value out of range"),
])
def test_integer_syntax_is_go_atoi(value: str, expected: int | str | None) -> None:
    doc = {"services": {"w": {"scale": value}}}
    if isinstance(expected, int):
        assert interpolate(doc, ENV.get)["services"]["w"]["scale"] == expected
        return
    with pytest.raises(InterpolationError) as info:
        interpolate(doc, ENV.get)
    reason = expected or "invalid syntax"
    assert str(info.value).endswith(f'strconv.Atoi: parsing "{value}": {reason}')


@pytest.mark.parametrize(("field", "value", "expected"), [
    ("cpu_percent", "1e1", 10.0), ("cpus", ".5", 0.5), ("cpu_percent", "1_0.5", 10.5),
    ("cpu_percent", "1e400", "value out of range"), ("cpus", "1e39", "value out of range"),
    ("cpu_percent", "1__0", "invalid syntax"),
])
def test_float_syntax_is_go_parsefloat(field: str, value: str, expected: float | str) -> None:
    doc = {"services": {"w": {field: value}}}
    if isinstance(expected, float):
        assert interpolate(doc, ENV.get)["services"]["w"][field] == expected
        return
    with pytest.raises(InterpolationError) as info:
        interpolate(doc, ENV.get)
    assert str(info.value).endswith(f'strconv.ParseFloat: parsing "{value}": {expected}')


def test_yaml11_booleans_are_cast_with_a_warning() -> None:
    warnings: list[str] = []
    doc = {"services": {"w": {"tty": "yes", "init": "Off", "privileged": "true"}}}
    out = interpolate(doc, ENV.get, warn=warnings.append)["services"]["w"]
    assert out == {"tty": True, "init": False, "privileged": True}
    assert warnings == [
        '"yes" for boolean is not supported by YAML 1.2, please use `true`',
        '"Off" for boolean is not supported by YAML 1.2, please use `false`',
    ]


def test_empty_boolean_is_an_error() -> None:
    with pytest.raises(InterpolationError) as info:
        interpolate({"services": {"w": {"tty": "${NOPE}"}}}, ENV.get)
    assert str(info.value) == (
        "services.w.tty: failed to cast to expected type: invalid boolean: "
    )


def test_cast_error_has_mark() -> None:
    source = SourceMap("c.yaml", marks={("services", "w", "ports", 0, "target"):
                                        Mark("c.yaml", 5, 17)})
    with pytest.raises(InterpolationError) as info:
        interpolate({"services": {"w": {"ports": [{"target": "http"}]}}}, ENV.get,
                    source=source)
    assert info.value.mark == Mark("c.yaml", 5, 17)
    assert str(info.value).startswith(
        "c.yaml:5:17: services.w.ports[0].target: failed to cast to expected type: "
    )


def test_service_named_with_dots_is_still_cast() -> None:
    out = interpolate({"services": {"a.b": {"tty": "true"}}}, ENV.get)
    assert out == {"services": {"a.b": {"tty": True}}}


# ------------------------------------------------------------------ speed


def _big_document(services: int) -> dict[str, Any]:
    return {"services": {
        f"s{i}": {
            "image": "nginx:${TAG:-latest}" if i % 2 else "nginx:1.2",
            "command": ["sh", "-c", "echo hi"],
            "environment": {"A": "1", "B": "$HOME", "C": "x"},
            "ports": ["8080:80", {"target": "80", "published": "8081"}],
            "labels": {"a": "b", "c": "d"},
            "tty": "true",
            "deploy": {"replicas": "2", "resources": {"limits": {"cpus": "0.5"}}},
            "healthcheck": {"test": ["CMD", "true"], "retries": 3},
        } for i in range(services)
    }}


def test_a_thousand_services_cost_one_expansion_per_distinct_template(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # What keeps a big file fast, counted rather than timed (benchmarks/bench_config.py
    # times `config` on 1,000 services): a template repeated in every service is
    # expanded and looked up once, a string without "$" never, and what has nothing
    # to change is shared with the input, not copied.
    from composer.config import interpolation

    expanded: list[str] = []
    real = interpolation._expand

    def counting(template: str, *args: Any) -> str:
        expanded.append(template)
        return real(template, *args)

    monkeypatch.setattr(interpolation, "_expand", counting)
    looked_up: list[str] = []
    env = {"HOME": "/root", "TAG": "1"}

    def lookup(name: str) -> str | None:
        looked_up.append(name)
        return env.get(name)

    doc = _big_document(1000)
    out = interpolate(doc, lookup)
    assert sorted(expanded) == ["$HOME", "nginx:${TAG:-latest}"]
    assert sorted(looked_up) == ["HOME", "TAG"]
    web, before = out["services"]["s999"], doc["services"]["s999"]
    assert web["image"] == "nginx:1" and web["environment"]["B"] == "/root"
    assert web["deploy"]["replicas"] == 2 and web["tty"] is True
    assert web["command"] is before["command"] and web["labels"] is before["labels"]
    assert web["deploy"]["resources"] is before["deploy"]["resources"]


def test_strings_without_dollar_are_returned_as_they_are() -> None:
    doc = {"services": {"w": {"image": "nginx", "command": ["a", "b"]}}}
    out = interpolate(doc, ENV.get)
    assert out["services"]["w"]["command"] is doc["services"]["w"]["command"]


def test_error_without_any_mark_still_names_the_file() -> None:
    with pytest.raises(InterpolationError) as info:
        interpolate({"services": {"w": {"image": "${U:?no}"}}}, ENV.get,
                    source=SourceMap("c.yaml"))
    assert str(info.value) == (
        "c.yaml: services.w.image: required variable U is missing a value: no"
    )
