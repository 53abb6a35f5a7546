"""``extends``, checked against Docker Compose v2.40.3 (same-file and cross-file bases,
chains, path resolution, what is inherited, errors)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from composer.config.extends import resolve_extends
from composer.config.merge import strip_markers
from composer.config.source import Reset, SourceMap
from composer.errors import ExtendsError, Mark, MergeError


class Files:
    """Compose files on disk (so paths exist) whose loaded data the test provides."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data: dict[str, dict[str, Any]] = {}

    def add(self, rel: str, data: dict[str, Any]) -> str:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("# test\n")
        self.data[str(path)] = data
        return str(path)

    def load(self, path: str) -> dict[str, Any]:
        return self.data[path]

    def resolve(self, rel: str, **kwargs: Any) -> dict[str, Any]:
        path = str(self.root / rel)
        return resolve_extends(self.data[path], file=path, load_file=self.load, **kwargs)


@pytest.fixture
def files(tmp_path: Path) -> Files:
    return Files(tmp_path)


def port(target: int) -> dict[str, Any]:
    return {"mode": "ingress", "target": target, "protocol": "tcp"}


def dep(condition: str = "service_started") -> dict[str, Any]:
    return {"condition": condition, "required": True}


def test_same_file_inherits_everything_and_merges(files: Files) -> None:
    files.add("compose.yaml", {"services": {
        "base": {"image": "busybox", "depends_on": {"db": dep()}, "links": ["db"],
                 "volumes_from": ["db"], "environment": {"A": "1"}, "ports": [port(80)],
                 "command": ["a"]},
        "web": {"extends": {"service": "base"}, "environment": {"B": "2"},
                "ports": [port(80), port(81)], "command": ["b"]},
        "db": {"image": "x"},
    }})
    services = files.resolve("compose.yaml")["services"]
    assert services["web"] == {
        "image": "busybox", "depends_on": {"db": dep()}, "links": ["db"],
        "volumes_from": ["db"], "environment": {"A": "1", "B": "2"},
        "ports": [port(80), port(81)], "command": ["b"],
    }
    assert services["base"]["command"] == ["a"]
    assert services["db"] == {"image": "x"}


def test_string_form(files: Files) -> None:
    files.add("compose.yaml", {"services": {
        "base": {"image": "busybox"}, "web": {"extends": "base", "user": "x"}}})
    assert files.resolve("compose.yaml")["services"]["web"] == {"image": "busybox", "user": "x"}


def test_another_file_paths_from_its_folder(files: Files) -> None:
    files.add("compose.yaml", {"services": {
        "other": {"extends": {"service": "svc", "file": "sub/base.yaml"},
                  "volumes": [{"type": "bind", "source": "./mine", "target": "/m"}]}}})
    files.add("sub/base.yaml", {"services": {"svc": {
        "build": {"context": "./ctx", "ssh": {"k": "./id"}},
        "volumes": [{"type": "bind", "source": "./data", "target": "/data"}],
        "env_file": [{"path": "./my.env", "required": True}],
        "label_file": ["./lab.env"],
    }}})
    sub = files.root / "sub"
    assert files.resolve("compose.yaml")["services"]["other"] == {
        "build": {"context": f"{sub}/ctx", "ssh": {"k": f"{sub}/id"}},
        "volumes": [{"type": "bind", "source": f"{sub}/data", "target": "/data"},
                    # the extending file's own paths are resolved later, from the project
                    {"type": "bind", "source": "./mine", "target": "/m"}],
        "env_file": [{"path": f"{sub}/my.env", "required": True}],
        "label_file": [f"{sub}/lab.env"],
    }


def test_a_chain_across_files_each_relative_to_its_own_folder(files: Files) -> None:
    files.add("compose.yaml", {"services": {
        "chained": {"extends": {"file": "sub/base.yaml", "service": "mid"}}}})
    files.add("sub/base.yaml", {"services": {
        "mid": {"extends": {"file": "deeper/d.yaml", "service": "deep"},
                "labels": {"mid": "1"}}}})
    files.add("sub/deeper/d.yaml", {"services": {
        "deep": {"build": {"context": ".", "dockerfile": "Dockerfile.x"},
                 "volumes": [{"type": "bind", "source": "./d", "target": "/d"}],
                 "labels": {"deep": "1"}}}})
    deeper = files.root / "sub" / "deeper"
    assert files.resolve("compose.yaml")["services"]["chained"] == {
        "build": {"context": str(deeper), "dockerfile": "Dockerfile.x"},
        "volumes": [{"type": "bind", "source": f"{deeper}/d", "target": "/d"}],
        "labels": {"deep": "1", "mid": "1"},
    }


def test_same_file_extends_inside_another_file(files: Files) -> None:
    files.add("compose.yaml", {"services": {
        "web": {"extends": {"file": "sub/base.yaml", "service": "selfref"}}}})
    files.add("sub/base.yaml", {"services": {
        "svc": {"build": {"context": "./ctx"}},
        "selfref": {"extends": {"service": "svc"}, "user": "u"}}})
    assert files.resolve("compose.yaml")["services"]["web"] == {
        "build": {"context": str(files.root / "sub" / "ctx")}, "user": "u"}


def test_extends_file_is_relative_to_the_working_dir(files: Files) -> None:
    # v2 reads a -f file's extends.file from the project folder, not the file's folder.
    files.add("o/over.yaml", {"services": {"b": {"extends": {"file": "b.yaml", "service": "bb"}}}})
    files.add("b.yaml", {"services": {"bb": {"image": "top"}}})
    files.add("o/b.yaml", {"services": {"bb": {"image": "wrong"}}})
    data = files.resolve("o/over.yaml", working_dir=str(files.root))
    assert data["services"]["b"] == {"image": "top"}
    assert files.resolve("o/over.yaml")["services"]["b"] == {"image": "wrong"}


def test_reset_in_the_extending_service_drops_what_it_inherits(files: Files) -> None:
    files.add("compose.yaml", {"services": {
        "base": {"image": "x", "ports": [port(80)], "user": "u"},
        "web": {"extends": {"service": "base"}, "ports": Reset()}}})
    web = strip_markers(files.resolve("compose.yaml"))["services"]["web"]
    assert web == {"image": "x", "user": "u"}


def test_the_base_comes_as_written(files: Files) -> None:
    # The base's own !reset concerns the base's path only: nothing of it reaches web.
    files.add("compose.yaml", {"services": {
        "base": {"image": "x", "ports": Reset()},
        "web": {"extends": {"service": "base"}}}})
    assert files.resolve("compose.yaml")["services"]["web"] == {"image": "x"}


def test_without_extends_the_data_is_returned_as_is(files: Files) -> None:
    data = {"services": {"web": {"image": "x"}}}
    assert resolve_extends(data, file="/x/compose.yaml", load_file=files.load) is data


def test_merging_follows_the_schema_of_the_result(files: Files) -> None:
    files.add("compose.yaml", {"services": {
        "base": {"image": "x", "security_opt": ["a"]},
        "web": {"extends": "base", "security_opt": ["a"]}}})
    with pytest.raises(MergeError, match="items at 0 and 1 are equal"):
        files.resolve("compose.yaml")


# -- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("services", "message"),
    [
        ({"web": {"extends": "base", "image": "x"}, "base": {"extends": "web"}},
         "extends cycle: web -> base -> web"),
        ({"web": {"extends": "web", "image": "x"}}, "extends cycle: web -> web"),
        ({"a": {"extends": "b", "image": "x"}, "b": {"extends": "c"}, "c": {"extends": "a"}},
         "extends cycle: a -> b -> c -> a"),
    ],
)
def test_cycles_in_one_file(files: Files, services: dict[str, Any], message: str) -> None:
    files.add("compose.yaml", {"services": services})
    with pytest.raises(ExtendsError) as err:
        files.resolve("compose.yaml")
    assert err.value.message == message
    assert err.value.path is not None and err.value.path[-1] == "extends"


def test_a_cycle_across_files_names_them(files: Files) -> None:
    files.add("c3.yaml", {"services": {
        "web": {"extends": {"file": "s/other.yaml", "service": "base"}, "image": "x"}}})
    files.add("s/other.yaml", {"services": {
        "base": {"extends": {"file": "../c3.yaml", "service": "web"}, "image": "y"}}})
    with pytest.raises(ExtendsError) as err:
        files.resolve("c3.yaml")
    assert err.value.message == (
        "extends cycle: web (c3.yaml) -> base (s/other.yaml) -> web (c3.yaml)"
    )


@pytest.mark.parametrize(
    ("web", "other", "message", "key"),
    [
        ({"extends": "nope", "image": "x"}, None,
         'cannot extend service "web": service "nope" not found', "service"),
        ({"extends": {"file": "s/other.yaml", "service": "nope"}},
         {"services": {"base": {"image": "y"}}},
         'cannot extend service "web": service "nope" not found in s/other.yaml', "service"),
        ({"extends": {"file": "s/other.yaml", "service": "nope"}}, {"x-a": 1},
         'cannot extend service "web": s/other.yaml has no services section', "file"),
        ({"extends": {"file": "s/missing.yaml", "service": "nope"}}, None,
         'cannot extend service "web": file s/missing.yaml not found', "file"),
    ],
)
def test_missing_things(
    files: Files, web: dict[str, Any], other: dict[str, Any] | None, message: str, key: str
) -> None:
    path = files.add("compose.yaml", {"services": {"web": web}})
    if other is not None:
        files.add("s/other.yaml", other)
    with pytest.raises(ExtendsError) as err:
        files.resolve("compose.yaml")
    assert err.value.message == message
    assert err.value.path == ("services", "web", "extends", key)
    assert err.value.file == path


def test_errors_carry_the_mark_of_the_file(files: Files) -> None:
    path = files.add("compose.yaml", {"services": {"web": {"extends": "nope"}}})
    source = SourceMap(path, marks={("services", "web", "extends"): Mark(path, 3, 14)})
    with pytest.raises(ExtendsError) as err:
        resolve_extends(files.data[path], file=path, load_file=files.load, source=source)
    assert str(err.value) == (
        f'{path}:3:14: services.web.extends.service: cannot extend service "web": '
        'service "nope" not found'
    )


def test_home_is_the_one_given(files: Files) -> None:
    files.add("compose.yaml", {"services": {
        "web": {"extends": {"file": "sub/base.yaml", "service": "b"}}}})
    files.add("sub/base.yaml", {"services": {
        "b": {"volumes": [{"type": "bind", "source": "~/h", "target": "/h"}]}}})
    web = files.resolve("compose.yaml", home="/home/someone")["services"]["web"]
    assert web["volumes"][0]["source"] == "/home/someone/h"
