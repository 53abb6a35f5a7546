"""The reference corpus: ``composer config`` must print what Docker Compose v2 printed.

For each row of ``manifest.tsv`` the loader runs as the corpus README ran v2 (from
the file's folder, that file alone, a fixed environment). Where v2 succeeded, every
top-level section and every key of every service must equal v2's saved
``config --format json`` (``@DIR@`` standing for the folder); where v2 refused the
file, the loader must refuse it too. A second test feeds our output back to the
loader, which must give the same project.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any

import pytest
from corpus import CORPUS, CORPUS_ENVIRON

from composer.config.loader import LoadOptions, load_project
from composer.errors import ComposerError

# Rows where composer knowingly differs from v2, with the reason and what we do.
DIVERGENCES = {
    "compose-v2/pkg/e2e/fixtures/build-test/ssh/compose.yaml": (
        "v2 2.40.3 cannot encode a build ssh key with a path as JSON (a bug in its "
        "SSHKey.MarshalJSON); composer prints it as 'id=path'"
    ),
}


def _rows() -> list[dict[str, str]]:
    manifest = CORPUS / "manifest.tsv"
    if not manifest.is_file():
        return []
    with manifest.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


ROWS = _rows()
OK_ROWS = [r for r in ROWS if r["v2_config"] == "ok"]
ERROR_ROWS = [r for r in ROWS if r["v2_config"] == "error"]

pytestmark = pytest.mark.skipif(not ROWS, reason=f"reference corpus not found at {CORPUS}")


def _environ() -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", ""), **CORPUS_ENVIRON}


def _load(folder: Path, file_name: str) -> dict[str, Any]:
    project = load_project(
        LoadOptions(files=[file_name], cwd=str(folder), environ=_environ(), warn=lambda _: None)
    )
    return project.data


def as_printed(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` as ``config --format json`` prints it: v2 escapes every ``$`` as ``$$``
    in its output so that the output can be loaded again."""
    return json.loads(json.dumps(data).replace("$", "$$"))  # type: ignore[no-any-return]


def _expected(row: dict[str, str], folder: Path) -> dict[str, Any]:
    text = (CORPUS / "v2-config" / f"{row['path']}.json").read_text(encoding="utf-8")
    return json.loads(text.replace("@DIR@", str(folder)))  # type: ignore[no-any-return]


def _differences(expected: dict[str, Any], ours: dict[str, Any]) -> list[str]:
    """One line per top-level section or service key that differs."""
    out: list[str] = []

    def show(value: Any) -> str:
        return "<absent>" if value is _ABSENT else json.dumps(value, sort_keys=True)[:300]

    for key in sorted(set(expected) | set(ours)):
        if key == "services":
            continue
        exp, got = expected.get(key, _ABSENT), ours.get(key, _ABSENT)
        if exp != got:
            out.append(f"{key}:\n    v2:   {show(exp)}\n    ours: {show(got)}")
    exp_services = expected.get("services") or {}
    our_services = ours.get("services") or {}
    for name in sorted(set(exp_services) | set(our_services)):
        if name not in exp_services or name not in our_services:
            out.append(
                f"services.{name}:\n    v2:   {show(exp_services.get(name, _ABSENT))}\n"
                f"    ours: {show(our_services.get(name, _ABSENT))}"
            )
            continue
        exp_svc, our_svc = exp_services[name], our_services[name]
        for key in sorted(set(exp_svc) | set(our_svc)):
            exp, got = exp_svc.get(key, _ABSENT), our_svc.get(key, _ABSENT)
            if exp != got:
                out.append(f"services.{name}.{key}:\n    v2:   {show(exp)}\n    ours: {show(got)}")
    return out


_ABSENT: Any = object()


@pytest.mark.parametrize("row", OK_ROWS, ids=[r["path"] for r in OK_ROWS])
def test_config_equals_v2(row: dict[str, str]) -> None:
    path = CORPUS / row["path"]
    ours = as_printed(_load(path.parent, path.name))
    expected = _expected(row, path.parent)
    diffs = _differences(expected, ours)
    assert not diffs, "differs from v2:\n" + "\n".join(diffs)


@pytest.mark.parametrize("row", ERROR_ROWS, ids=[r["path"] for r in ERROR_ROWS])
def test_refused_like_v2(row: dict[str, str]) -> None:
    path = CORPUS / row["path"]
    if row["path"] in DIVERGENCES:
        data = _load(path.parent, path.name)
        assert data["services"], DIVERGENCES[row["path"]]
        return
    with pytest.raises(ComposerError):
        _load(path.parent, path.name)


def test_ssh_key_with_path_is_printed_as_id_equals_path() -> None:
    path = CORPUS / "compose-v2/pkg/e2e/fixtures/build-test/ssh/compose.yaml"
    data = _load(path.parent, path.name)
    ssh = data["services"]["ssh"]["build"]["ssh"]
    assert ssh and all(isinstance(key, str) for key in ssh)
    assert any("=" in key for key in ssh)


def _default_dockerfile(data: dict[str, Any]) -> None:
    for svc in data["services"].values():
        if "build" in svc and "dockerfile_inline" not in svc["build"]:
            svc["build"].setdefault("dockerfile", "Dockerfile")


def _external_volume_named_by_key(data: dict[str, Any]) -> None:
    for key, vol in data.get("volumes", {}).items():
        if vol.get("external"):
            vol.setdefault("name", key)


# Files whose v2 output does not load back to itself in v2 either (checked with the
# v2 binary): an empty value is left out of the output, and loading the output
# again puts v2's default in its place.
ROUND_TRIP_CHANGES = {
    # `dockerfile: ${MYVAR}` with MYVAR unset: "" suppresses the "Dockerfile" default.
    "compose-v2/pkg/e2e/fixtures/simple-build-test/compose-interpolate.yaml": _default_dockerfile,
    "compose-v2/pkg/e2e/testdata/TestConfigInterpolate/compose.yaml": _default_dockerfile,
    # `name: ${EXTERNAL_VOLUME}` unset: "" suppresses naming the volume after its key.
    "compose-v2/pkg/e2e/testdata/TestUpSwitchVolumes/compose.yaml": (
        _external_volume_named_by_key
    ),
}


# Files whose v2 output v2 itself refuses to load again (checked with the v2 binary):
# the output keeps a reference to something it leaves out.
ROUND_TRIP_REFUSED = {
    # top-level `models` is not printed, the service's `models: {foo: null}` is
    "compose-v2/pkg/e2e/testdata/TestComposeModel/compose.yaml": "undefined model foo",
    # an optional dependency on a service disabled by its profile is printed
    "compose-v2/pkg/e2e/testdata/TestComposeRunNotRequiredDeps/compose.yaml": (
        'depends on undefined service "bar"'
    ),
    "compose-v2/pkg/e2e/testdata/TestUpWithDependencyNotRequired/compose.yaml": (
        'depends on undefined service "bar"'
    ),
}


@pytest.mark.parametrize("row", OK_ROWS, ids=[r["path"] for r in OK_ROWS])
def test_output_loads_back_to_itself(row: dict[str, str], tmp_path: Path) -> None:
    path = CORPUS / row["path"]
    first = _load(path.parent, path.name)
    printed = json.dumps(first).replace("$", "$$")
    (tmp_path / "compose.json").write_text(printed, encoding="utf-8")
    dotenv = path.parent / ".env"
    if dotenv.is_file():  # same project environment (COMPOSE_PROFILES may be there)
        (tmp_path / ".env").write_bytes(dotenv.read_bytes())
    refused = ROUND_TRIP_REFUSED.get(row["path"])
    if refused is not None:
        with pytest.raises(ComposerError, match=refused):
            _load(tmp_path, "compose.json")
        return
    second = _load(tmp_path, "compose.json")
    change = ROUND_TRIP_CHANGES.get(row["path"])
    if change is not None:
        assert second != first
        change(first)
    assert second == first
