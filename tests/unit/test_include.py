"""``include``, checked against Docker Compose v2.40.3: where paths are taken from,
defaults, what joins the project, conflicts and cycles."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from composer.config.include import IncludeRequest, include_request, resolve_include
from composer.config.source import Override, Reset, SourceMap
from composer.errors import IncludeError, Mark


class Loader:
    """A sub-project loader that records its requests and returns canned data."""

    def __init__(self, data: dict[str, Any] | None = None) -> None:
        self.data = data if data is not None else {"services": {"s": {"image": "x"}}}
        self.requests: list[tuple[IncludeRequest, list[str]]] = []

    def __call__(self, request: IncludeRequest, chain: Sequence[str]) -> dict[str, Any]:
        self.requests.append((request, list(chain)))
        return self.data


def touch(path: Path, text: str = "") -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return str(path)


def include(
    tmp_path: Path, entries: Any, loader: Loader, own: dict[str, Any] | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    file = str(tmp_path / "o" / "compose.yaml")
    data = {"include": entries, **(own or {})}
    return resolve_include(
        data, file=file, working_dir=str(tmp_path), load_subproject=loader,
        chain=[file], **kwargs
    )


def test_paths_are_relative_to_the_working_dir(tmp_path: Path) -> None:
    # The including file sits in o/; v2 still reads sub/inc.yaml from the project folder.
    inc = touch(tmp_path / "sub" / "inc.yaml")
    touch(tmp_path / "o" / "sub" / "inc.yaml")
    loader = Loader()
    include(tmp_path, ["sub/inc.yaml"], loader)
    request, chain = loader.requests[0]
    assert request == IncludeRequest((inc,), str(tmp_path / "sub"), (), True)
    assert chain == [str(tmp_path / "o" / "compose.yaml")]


def test_the_project_directory_env_file_is_the_default(tmp_path: Path) -> None:
    touch(tmp_path / "sub" / "inc.yaml")
    env = touch(tmp_path / "sub" / ".env", "V=sub\n")
    loader = Loader()
    include(tmp_path, ["sub/inc.yaml"], loader)
    assert loader.requests[0][0].env_files == (env,)


def test_long_syntax(tmp_path: Path) -> None:
    a = touch(tmp_path / "sub" / "a.yaml")
    b = touch(tmp_path / "sub" / "b.yaml")
    env = touch(tmp_path / "envs", "IMG=x\n")
    touch(tmp_path / "pd" / ".env", "V=pd\n")
    loader = Loader()
    include(tmp_path, [{"path": ["sub/a.yaml", "sub/b.yaml"], "project_directory": "pd",
                        "env_file": "envs"}], loader)
    # An explicit env_file replaces the project directory's .env.
    assert loader.requests[0][0] == IncludeRequest((a, b), str(tmp_path / "pd"), (env,), True)


def test_project_directory_default_env_file(tmp_path: Path) -> None:
    touch(tmp_path / "sub" / "a.yaml")
    env = touch(tmp_path / "pd" / ".env", "V=pd\n")
    loader = Loader()
    include(tmp_path, [{"path": "sub/a.yaml", "project_directory": "pd"}], loader)
    assert loader.requests[0][0].env_files == (env,)


def test_env_file_list(tmp_path: Path) -> None:
    touch(tmp_path / "sub" / "a.yaml")
    one = touch(tmp_path / "one.env")
    two = touch(tmp_path / "x" / "two.env")
    assert include_request(
        {"path": "sub/a.yaml", "env_file": ["one.env", "x/two.env"]}, str(tmp_path)
    ).env_files == (one, two)


@pytest.mark.parametrize(
    ("entry", "message", "key"),
    [
        ("sub/missing.yaml", "included file {root}/sub/missing.yaml not found", "path"),
        ({"path": "sub/a.yaml", "env_file": ["missing.env"]},
         "env file {root}/missing.env not found", "env_file"),
        ({"path": "sub/a.yaml", "env_file": "sub"}, "{root}/sub is not a file", "env_file"),
    ],
)
def test_missing_files(tmp_path: Path, entry: Any, message: str, key: str) -> None:
    touch(tmp_path / "sub" / "a.yaml")
    with pytest.raises(IncludeError) as err:
        include(tmp_path, [entry], Loader())
    assert err.value.message == message.format(root=tmp_path)
    assert err.value.path == ("include", 0, key)


def test_resources_join_the_project(tmp_path: Path) -> None:
    touch(tmp_path / "sub" / "res.yaml")
    imported = {
        "name": "ignored",
        "x-ext": {"ignored": True},
        "services": {"u": {"image": "x"}},
        "volumes": {"v": {}},
        "networks": {"n": {}},
        "secrets": {"s": {"file": "/s"}},
        "configs": {"c": {"file": "/c"}},
        "models": {"m": {"model": "ai/x"}},
    }
    own = {"services": {"mine": {"image": "y"}}, "volumes": {"w": {}}}
    data = include(tmp_path, ["sub/res.yaml"], Loader(imported), own)
    assert data == {
        "services": {"mine": {"image": "y"}, "u": {"image": "x"}},
        "volumes": {"w": {}, "v": {}},
        "networks": {"n": {}},
        "secrets": {"s": {"file": "/s"}},
        "configs": {"c": {"file": "/c"}},
        "models": {"m": {"model": "ai/x"}},
    }


def test_markers_of_the_subproject_are_resolved(tmp_path: Path) -> None:
    touch(tmp_path / "sub" / "a.yaml")
    loader = Loader({"services": {"s": {"image": "x", "ports": Reset(),
                                        "command": Override(["a"])}}})
    data = include(tmp_path, ["sub/a.yaml"], loader)
    assert data == {"services": {"s": {"image": "x", "command": ["a"]}}}


@pytest.mark.parametrize("kind", ["services", "volumes", "networks", "secrets", "configs",
                                  "models"])
def test_a_resource_defined_on_both_sides(tmp_path: Path, kind: str) -> None:
    touch(tmp_path / "sub" / "a.yaml")
    with pytest.raises(IncludeError) as err:
        include(tmp_path, ["sub/a.yaml"], Loader({kind: {"r": {"x": 1}}}), {kind: {"r": {}}})
    assert err.value.message == f"{kind}.r conflicts with imported resource"


def test_identical_definitions_do_not_conflict(tmp_path: Path) -> None:
    touch(tmp_path / "sub" / "a.yaml")
    data = include(tmp_path, ["sub/a.yaml", "sub/a.yaml"], Loader(),
                   {"services": {"s": {"image": "x"}}})
    assert data == {"services": {"s": {"image": "x"}}}


def test_two_includes_may_conflict(tmp_path: Path) -> None:
    touch(tmp_path / "a.yaml")
    touch(tmp_path / "b.yaml")

    def loader(request: IncludeRequest, chain: Sequence[str]) -> dict[str, Any]:
        image = "a" if request.paths[0].endswith("a.yaml") else "b"
        return {"services": {"s": {"image": image}}}

    file = str(tmp_path / "compose.yaml")
    with pytest.raises(IncludeError, match="services.s conflicts with imported resource"):
        resolve_include({"include": ["a.yaml", "b.yaml"]}, file=file,
                        working_dir=str(tmp_path), load_subproject=loader)


def test_conflicts_point_at_the_own_definition(tmp_path: Path) -> None:
    touch(tmp_path / "sub" / "a.yaml")
    file = str(tmp_path / "o" / "compose.yaml")
    source = SourceMap(file, marks={("services", "s"): Mark(file, 4, 3),
                                    ("include", 0): Mark(file, 1, 12)})
    with pytest.raises(IncludeError) as err:
        include(tmp_path, ["sub/a.yaml"], Loader(), {"services": {"s": {"image": "y"}}},
                source=source)
    assert str(err.value) == f"{file}:4:3: services.s conflicts with imported resource"


def test_a_file_including_itself(tmp_path: Path) -> None:
    file = touch(tmp_path / "c5.yaml")
    with pytest.raises(IncludeError) as err:
        resolve_include({"include": ["c5.yaml"]}, file=file, working_dir=str(tmp_path),
                        load_subproject=Loader(), chain=[file])
    assert err.value.message == f"include cycle detected: {file} -> {file}"


def test_a_longer_include_cycle(tmp_path: Path) -> None:
    top = touch(tmp_path / "c4.yaml")
    one = touch(tmp_path / "sub" / "cyc1.yaml")
    two = touch(tmp_path / "sub" / "cyc2.yaml")
    with pytest.raises(IncludeError) as err:
        resolve_include({"include": ["cyc1.yaml"]}, file=two, working_dir=str(tmp_path / "sub"),
                        load_subproject=Loader(), chain=[top, one, two])
    assert err.value.message == f"include cycle detected: {top} -> {one} -> {two} -> {one}"


def test_without_include_nothing_is_loaded(tmp_path: Path) -> None:
    loader = Loader()
    data = {"services": {"web": {"image": "x"}}}
    out = resolve_include(data, file=str(tmp_path / "c.yaml"), working_dir=str(tmp_path),
                          load_subproject=loader)
    assert out == data
    assert loader.requests == []


def test_home_is_the_one_given(tmp_path: Path) -> None:
    inc = touch(tmp_path / "home" / "inc.yaml")
    loader = Loader()
    include(tmp_path, ["~/inc.yaml"], loader, home=str(tmp_path / "home"))
    assert loader.requests[0][0].paths == (inc,)
