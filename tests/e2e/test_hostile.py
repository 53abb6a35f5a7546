"""Hostile input through the CLI: every case ends in one clean line, never a traceback.

A compose file can come from anyone (a pull request, a download), so reading it
must fail politely: a ``composer: ...`` line naming the file, a non-zero exit,
and no runaway time or memory. The subprocess gets a timeout and an
address-space limit only so that a defect shows as a failed test instead of a
stuck or swapping machine; no test asserts how fast anything is.

Docker Compose v2 rejects each of these too (checked by hand with 2.40.3): the
nesting with ``yaml: exceeded max depth of 10000``, garbage and Latin-1 with
``yaml: invalid trailing UTF-8 octet``, a directory with ``is a directory``.
It does not survive the alias bomb: it expands it and grows without bound,
which is why no test here ever runs v2 on it.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

MEMORY_LIMIT = 2 << 30


def _alias_bomb() -> bytes:
    # "Billion laughs": nine levels of nine aliases, 9**9 strings once expanded.
    lines = ["x-lol:", '  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    previous = "a"
    for name in "bcdefghi":
        lines.append(f"  {name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
        previous = name
    lines += ["services:", "  web:", "    image: busybox", "    command: *i"]
    return ("\n".join(lines) + "\n").encode()


def _alias_bomb_in_service() -> bytes:
    # The same bomb where the loader cannot ignore it: it lands in a service field.
    return _alias_bomb().replace(b"    command: *i", b"    labels:\n      bomb: *i")


def _nested_sequences(depth: int = 20_000) -> bytes:
    return b"services:\n  web:\n    image: busybox\nx-deep: " + b"[" * depth + b"]" * depth + b"\n"


def _nested_mappings(depth: int = 20_000) -> bytes:
    return (b"services:\n  web:\n    image: busybox\nx-deep: " + b"{a: " * depth + b"1"
            + b"}" * depth + b"\n")


def _nested_in_service(depth: int = 20_000) -> bytes:
    return (b"services:\n  web:\n    image: busybox\n    environment: "
            + b"{a: " * depth + b"1" + b"}" * depth + b"\n")


def _binary_garbage() -> bytes:
    rng = random.Random(20240518)
    return bytes(rng.randrange(256) for _ in range(8192))


def _latin1() -> bytes:
    return "services:\n  web:\n    image: busybox\n    environment:\n      CITY: Zürich\n".encode(
        "latin-1"
    )


def _nul_byte() -> bytes:
    return b"services:\n  web:\n    image: busy\x00box\n"


def _self_alias() -> bytes:
    return b"services:\n  web: &web\n    image: busybox\n    extra: *web\n"


def _undefined_alias() -> bytes:
    return b"services:\n  web:\n    image: *nowhere\n"


def _top_level_list() -> bytes:
    return b"- services\n- web\n"


def _top_level_scalar() -> bytes:
    return b"just a string\n"


HOSTILE_FILES = {
    "alias-bomb": _alias_bomb,
    "alias-bomb-in-service": _alias_bomb_in_service,
    "nested-sequences-20000": _nested_sequences,
    "nested-mappings-20000": _nested_mappings,
    "nested-in-service-20000": _nested_in_service,
    "binary-garbage": _binary_garbage,
    "latin-1": _latin1,
    "nul-byte": _nul_byte,
    "self-alias": _self_alias,
    "undefined-alias": _undefined_alias,
    "top-level-list": _top_level_list,
    "top-level-scalar": _top_level_scalar,
}


def _assert_clean_failure(result: Any) -> str:
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    assert result.returncode != 0
    lines = result.stderr_lines
    assert len(lines) == 1, "expected one line on stderr, got:\n" + result.stderr[-2000:]
    assert lines[0].startswith("composer: "), lines[0]
    assert len(lines[0]) < 1000, "the message quotes too much of the input"
    assert result.stdout == ""
    return str(lines[0])


@pytest.mark.parametrize("name", list(HOSTILE_FILES))
def test_hostile_file(run_composer: Any, tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.yaml"
    path.write_bytes(HOSTILE_FILES[name]())
    result = run_composer("-f", path, "config", "--format", "json", cwd=tmp_path,
                          memory_limit=MEMORY_LIMIT)
    message = _assert_clean_failure(result)
    assert f"{name}.yaml" in message


@pytest.mark.parametrize("name", ["alias-bomb", "nested-mappings-20000", "binary-garbage"])
def test_hostile_stdin(run_composer: Any, tmp_path: Path, name: str) -> None:
    result = run_composer("-f", "-", "config", cwd=tmp_path, input=HOSTILE_FILES[name](),
                          memory_limit=MEMORY_LIMIT)
    _assert_clean_failure(result)


def test_directory_as_file(run_composer: Any, tmp_path: Path) -> None:
    folder = tmp_path / "compose.yaml"
    folder.mkdir()
    message = _assert_clean_failure(
        run_composer("-f", folder, "config", cwd=tmp_path, memory_limit=MEMORY_LIMIT)
    )
    assert "compose.yaml" in message


def test_hostile_env_file(run_composer: Any, tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text("services:\n  web:\n    image: busybox:${TAG}\n")
    env = tmp_path / "bad.env"
    env.write_bytes(_binary_garbage())
    result = run_composer("--env-file", env, "config", cwd=tmp_path,
                          memory_limit=MEMORY_LIMIT)
    message = _assert_clean_failure(result)
    assert "bad.env" in message
