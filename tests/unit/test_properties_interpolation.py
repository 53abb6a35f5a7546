"""Property-based tests of interpolation: any ``${...}`` text, any environment.

``expand`` answers with a string or a ``TemplateError`` (which the loader turns
into a ``ConfigError`` naming the file, line and key); through the loader, a
template in any field (typed ones included: ports, sizes, durations, counts,
booleans) gives a ``ComposerError`` or a project whose model builds and whose
JSON is JSON (see ``properties.py``).
"""

from __future__ import annotations

import json

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from properties import SETTINGS, answer, time_limit

from composer.config.interpolation import TemplateError, expand
from composer.errors import ComposerError

# What templates are made of: every character the syntax gives a meaning to, a
# few variable names, and a little ordinary text.
PIECES = ("$", "$", "{", "}", "${", "${", "}", ":", "-", "+", "?", "=", "_", "A", "B",
          "NAME", "1", "x", " ", "\n", "\\", "'", '"', ".", "é", "\u017f", "\u212a")

flat = st.lists(st.sampled_from(PIECES), max_size=40).map("".join)
# Deep nesting and long repetition, up to some KiB: where a recursive expander breaks.
OPENERS = ("${A:-", "${A-", "${A:+", "${A+", "${A:?", "${NAME?", "${B:-$", "${")
nested = st.tuples(st.integers(0, 1500), st.sampled_from(OPENERS), flat).map(
    lambda t: t[1] * t[0] + t[2] + "}" * t[0])
repeated = st.tuples(st.integers(0, 1500),
                     st.lists(st.sampled_from(PIECES), max_size=8).map("".join)).map(
    lambda t: t[1] * t[0])
templates = st.one_of(flat, nested, repeated)
values = st.one_of(st.none(), templates, st.sampled_from(("", "0", "1", "80", "1.5", "true",
                                                          "512m", "10s", "-1", "1e400")))
environments = st.fixed_dictionaries({}, optional={"A": values, "B": values, "NAME": values})


def _environ(env: dict[str, str | None]) -> dict[str, str]:
    return {k: v for k, v in env.items() if v is not None}


@SETTINGS
@given(templates, environments)
# RecursionError: operator arguments nested 3,000 deep (now a clear error past 100),
# and 1,000 ``${A:-x}`` on one line (each tail was expanded by a recursive call).
@example("${A:-" * 3000 + "x" + "}" * 3000, {})
@example("${A:-x}" * 1000, {})
def test_expand_answers_a_string_or_a_template_error(template: str,
                                                      env: dict[str, str | None]) -> None:
    variables = _environ(env)
    with time_limit():
        try:
            result = expand(template, variables.get, lambda _message: None)
        except TemplateError as exc:
            assert str(exc)
            return
    assert isinstance(result, str)
    if "$" not in template:
        assert result == template


# A valid project whose values are templates, in fields of every kind the casts
# after interpolation know: strings, ints, floats, booleans, sizes, durations,
# ports, lists and mappings.
FIELDS = (
    ("image", "{t}"),
    ("command", "{t}"),
    ("ports", "[{t}]"),
    ("cpus", "{t}"),
    ("mem_limit", "{t}"),
    ("shm_size", "{t}"),
    ("stop_grace_period", "{t}"),
    ("restart", "{t}"),
    ("privileged", "{t}"),
    ("environment", "{{K: {t}}}"),
    ("labels", "[{t}]"),
    ("healthcheck", "{{test: [CMD, {t}], interval: {t}, retries: {t}}}"),
    ("deploy", "{{replicas: {t}, resources: {{limits: {{cpus: {t}, memory: {t}}}}}}}"),
    ("ulimits", "{{nofile: {t}}}"),
    ("volumes", "[{t}]"),
    ("depends_on", "{{db: {{condition: {t}, required: {t}}}}}"),
    ("extra_hosts", "[{t}]"),
    ("user", "{t}"),
)


@SETTINGS
@example([("image", "{t}")], ["${A:-" * 3000 + "x" + "}" * 3000], {})
@example([("environment", "{{K: {t}}}")], ["${A:-x}" * 1000], {"A": "a"})
@given(st.lists(st.sampled_from(FIELDS), min_size=1, max_size=4, unique=True),
       st.lists(templates, min_size=1, max_size=4), environments)
def test_templates_in_any_field_get_an_answer(fields: list[tuple[str, str]],
                                              texts: list[str],
                                              env: dict[str, str | None]) -> None:
    lines = ["services:", "  db:", "    image: busybox", "  web:"]
    if not any(key == "image" for key, _ in fields):
        lines.append("    image: busybox")
    for i, (key, shape) in enumerate(fields):
        # A JSON string is a YAML double-quoted scalar: any text, escaped.
        lines.append(f"    {key}: " + shape.format(t=json.dumps(texts[i % len(texts)])))
    answer("\n".join(lines) + "\n", _environ(env))


def test_long_lines_expand_and_absurd_nesting_is_refused_cleanly() -> None:
    # The regressions above, with what a user sees: a line of 1,000 expressions
    # expands as v2 expands it; 100 nested defaults still expand; past that, the
    # loader names the file, line and key.
    assert expand("${A:-x}" * 1000, {}.get) == "x" * 1000
    assert expand("${A:-" * 100 + "x" + "}" * 100, {}.get) == "x"
    assert expand("${A:-x}}${B:-${C}}a$$", {"C": "c"}.get) == "x}ca$"
    with pytest.raises(TemplateError, match="more than 100 levels deep"):
        expand("${A:-" * 102 + "x" + "}" * 102, {}.get)
    refused = answer('services:\n  web:\n    image: "' + "${A:-" * 500 + "}" * 500 + '"\n')
    assert isinstance(refused, ComposerError)
    assert str(refused).startswith("-:3:12: services.web.image: a template nests")
