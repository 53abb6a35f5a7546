"""Helpers of the property-based tests (``test_properties_*.py``): the property
itself (:func:`answer`), a per-example hang guard, hypothesis's settings, and a
strategy that draws compose documents from the compose-spec JSON schema.

The property: given any input, the loader answers with a
:class:`~composer.errors.ComposerError` (a message) or a loaded project whose
typed model builds and whose ``config --format json`` output is JSON; never
another exception, and never a hang (each example gets :data:`EXAMPLE_TIMEOUT`
seconds, far more than it needs, only so that a runaway shows as a failure).
Inputs are small (a few KiB), which bounds the work per example.
"""

from __future__ import annotations

import json
import re
import signal
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from importlib.resources import files
from typing import Any

import yaml
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from composer.cli.config_cmd import render
from composer.config.loader import LoadedProject, LoadOptions, load_project
from composer.errors import ComposerError

EXAMPLE_TIMEOUT = 10.0

# A few hundred examples per property; no deadline (tests never assert durations:
# the hang guard is the only clock); no example database in the checkout.
SETTINGS = settings(
    max_examples=400,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


class Hang(Exception):
    """An example that did not finish within :data:`EXAMPLE_TIMEOUT`."""


@contextmanager
def time_limit(seconds: float = EXAMPLE_TIMEOUT) -> Iterator[None]:
    """Raise :class:`Hang` in the main thread once ``seconds`` have passed."""

    def on_alarm(_signum: int, _frame: object) -> None:
        raise Hang(f"no answer within {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@cache
def workdir() -> str:
    """An empty folder the projects are loaded in (no ``.env``, no files)."""
    return tempfile.mkdtemp(prefix="composer-properties-")


def answer(text: bytes | str, environ: Mapping[str, str] | None = None
           ) -> LoadedProject | ComposerError:
    """Load ``text`` as the compose file (from stdin, in an empty folder) and check
    the property; returns the project or the error."""
    data = text.encode() if isinstance(text, str) else text
    with time_limit():
        try:
            loaded = load_project(LoadOptions(
                files=["-"], stdin=data, cwd=workdir(), environ=dict(environ or {}),
                warn=lambda _message: None))
        except ComposerError as exc:
            assert str(exc).strip(), f"{type(exc).__name__} without a message"
            return exc
        loaded.model  # noqa: B018 - builds the typed project
        try:
            output = render(loaded.data, "json")
        except ComposerError as exc:  # a float JSON cannot hold, refused as v2 does
            return exc
        json.loads(output)
        return loaded


# -- compose documents from the schema ---------------------------------------------------------

SCHEMA: dict[str, Any] = json.loads(
    files("composer.config").joinpath("compose-spec.json").read_text())

#: Strings a compose file holds: durations, sizes, ports, paths, booleans, numbers
#: in words, templates; and text of any kind.
WORDS = ("", "0", "1", "-1", "1.5", "1e400", "0x1f", "true", "no", "10s", "1m30s",
         "-5s", "1g", "512m", "80", "80:80", "8080-8090:80/udp", "127.0.0.1:80:80",
         "65536", "busybox", "web", "db", ".", "./data", "/tmp", "a=b", "K", "on-failure:3",
         "unless-stopped", "host", "none", "service:web", "${X}", "${X:-1}", "$$", "NET_ADMIN",
         "nofile=1024:2048", "/dev/null:/dev/null", "rw", "json-file", "1/2", "web:db",
         "/dev/null", "-", "compose.yaml", "~/x", "../..", "https://example.invalid/c.yaml",
         "oci://example.invalid/c", "git@example.invalid:a/b.git", "1.5", "1e9")

text = st.one_of(st.sampled_from(WORDS), st.text(max_size=12))
any_scalar = st.one_of(st.none(), st.booleans(), st.integers(-(2 ** 70), 2 ** 70),
                       st.floats(), text)
any_value = st.recursive(any_scalar, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(text, inner, max_size=3)), max_leaves=6)

ALWAYS = ("services", "image")

# Keys for patternProperties: service, network, volume names and x- extensions.
PATTERN_KEYS = ("web", "db", "x-a", "a.b", "-", "front_net", "1")


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        node = SCHEMA["definitions"][name]
    return node


def _typed(kind: str, node: dict[str, Any], depth: int) -> st.SearchStrategy[Any]:
    if kind == "string":
        enum = node.get("enum")
        return st.sampled_from(enum) | text if enum else text
    if kind == "integer":
        return st.integers(-(2 ** 64), 2 ** 64)
    if kind == "number":
        return st.floats() | st.integers(-(2 ** 64), 2 ** 64)
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    if kind == "array":
        items = node.get("items")
        inner = from_schema(items, depth - 1) if isinstance(items, dict) else any_value
        return st.lists(inner, max_size=3)
    return _mapping(node, depth)


def _mapping(node: dict[str, Any], depth: int) -> st.SearchStrategy[Any]:
    props: dict[str, Any] = node.get("properties", {})
    patterns: dict[str, Any] = node.get("patternProperties", {})
    keys = sorted(props) + [k for k in PATTERN_KEYS if any(re.search(p, k) for p in patterns)]
    if not keys:
        return st.dictionaries(text, any_value, max_size=3)

    def value_for(key: str) -> st.SearchStrategy[Any]:
        if key in props:
            return from_schema(props[key], depth - 1)
        for pattern, sub in patterns.items():
            if re.search(pattern, key):
                return from_schema(sub, depth - 1)
        return any_value

    # Keys a useful document has (a service's image, the schema's required ones)
    # come first, nine times in ten; then up to four others.
    always = [k for k in (*ALWAYS, *node.get("required", ())) if k in props]
    first = st.integers(0, 9).map(lambda roll: always if roll else [])
    return st.tuples(first, st.lists(st.sampled_from(keys), max_size=4, unique=True)).flatmap(
        lambda chosen: st.fixed_dictionaries(
            {k: value_for(k) for k in dict.fromkeys(chosen[0] + chosen[1])}))


@cache
def _from_schema(key: str, depth: int) -> st.SearchStrategy[Any]:
    node = _resolve(json.loads(key))
    if depth <= 0:
        return any_scalar
    options: list[st.SearchStrategy[Any]] = []
    for alternative in node.get("oneOf", []) + node.get("anyOf", []):
        options.append(from_schema(alternative, depth))
    kinds = node.get("type")
    if isinstance(kinds, str):
        kinds = [kinds]
    if kinds is None and ("properties" in node or "patternProperties" in node):
        kinds = ["object"]
    for kind in kinds or ():
        options.append(_typed(kind, node, depth))
    if not options:
        options.append(any_value)
    # Right-shaped 19 times in 20, any type at all (mostly a wrong one) otherwise:
    # a document gets a wrong value here and there, and still reaches the later phases.
    right = st.one_of(*options)
    return st.integers(0, 19).flatmap(lambda roll: any_value if roll == 0 else right)


def from_schema(node: dict[str, Any], depth: int = 5) -> st.SearchStrategy[Any]:
    """Values shaped by the schema ``node``: its keys, its types, and wrong types."""
    return st.deferred(lambda: _from_schema(json.dumps(node, sort_keys=True), depth))


def compose_documents() -> st.SearchStrategy[Any]:
    """Whole compose documents: the schema's top-level keys, any of them wrong."""
    return _mapping(SCHEMA, 6)


def to_yaml(document: Any) -> str:
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
