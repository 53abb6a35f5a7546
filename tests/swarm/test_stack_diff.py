"""``composer stack deploy`` against ``docker stack deploy``, attribute by attribute.

The same rich file (``tests/swarm/rich``: replicated, global and dnsrr services,
placement, resources, restart/update/rollback configs, healthcheck, ports in
both modes, mounts, secrets and configs with targets and modes, overlay
networks with options, IPAM and aliases...) is deployed by docker's CLI as one
stack and by composer as another; each tool's stack is inspected with
``docker service|network|secret|config inspect``, its name and the engine's IDs
masked, and the two compared key path by key path.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from swarm_helpers import Docker, flatten, remove_stack

pytestmark = pytest.mark.swarm

RICH = Path(__file__).parent / "rich"
ID = re.compile(r"^[a-z0-9]{25}$")
DECLARED_SUBNETS = {"10.99.0.0/24"}  # rich/compose.yaml's


def snapshot(docker: Docker, stack: str) -> dict[str, Any]:
    """Everything the stack made, as docker inspects it, with names masked."""
    label = f"label=com.docker.stack.namespace={stack}"
    out: dict[str, Any] = {}
    ids: dict[str, str] = {}
    for kind in ("network", "secret", "config", "service"):
        found = docker(kind, "ls", "-q", "--filter", label).stdout.split()
        assert found or kind == "config" or kind == "secret", f"no {kind} in stack {stack}"
        raw = json.loads(docker(kind, "inspect", *found).stdout) if found else []
        for item in raw:
            name = item.get("Name") or item["Spec"]["Name"]
            ids[item.get("Id") or item["ID"]] = name.replace(f"{stack}_", "STACK_")
            if kind == "network":
                view = {k: item.get(k) for k in ("Name", "Driver", "Scope", "Internal",
                                                  "Attachable", "Ingress", "EnableIPv6",
                                                  "Options", "Labels", "ConfigOnly")}
                # The VXLAN IDs are the engine's, one per network created.
                view["Options"] = {k: v for k, v in (view["Options"] or {}).items()
                                   if k != "com.docker.network.driver.overlay.vxlanid_list"}
                # The file's subnets, and "auto" for those the engine picked.
                view["IPAM"] = {"Driver": item["IPAM"]["Driver"],
                                "Subnets": sorted(
                                    c["Subnet"] if c.get("Subnet") in DECLARED_SUBNETS
                                    else "auto" for c in item["IPAM"]["Config"] or ())}
            else:
                view = item["Spec"]
                container = (view.get("TaskTemplate") or {}).get("ContainerSpec") or {}
                for refs in ("Secrets", "Configs"):
                    # docker orders two references to one secret as a Go map
                    # iterates: at random. Compared by name, then target.
                    if container.get(refs):
                        container[refs] = sorted(
                            container[refs], key=lambda r: (r.get("SecretName") or
                                                            r.get("ConfigName"),
                                                            r["File"]["Name"]))
            out[f"{kind} {name.replace(f'{stack}_', 'STACK_')}"] = view
    text = json.dumps(out, sort_keys=True)
    text = text.replace(f"{stack}_", "STACK_").replace(f'"{stack}"', '"STACK"')
    masked = json.loads(text)

    def unmask(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: unmask(v) for k, v in value.items()}
        if isinstance(value, list):
            return [unmask(v) for v in value]
        if isinstance(value, str) and ID.match(value):
            return ids.get(value, "ID")
        return value

    result: dict[str, Any] = unmask(masked)
    return result


def test_composer_makes_the_specs_docker_stack_deploy_makes(
        docker: Docker, run_composer: Any, swarm_host: str, tmp_path: Path) -> None:
    work = tmp_path / "rich"
    shutil.copytree(RICH, work)
    by_docker, by_composer = "sd" + tmp_path.name[-6:].lower(), "sc" + tmp_path.name[-6:].lower()
    by_docker = re.sub(r"[^a-z0-9]", "x", by_docker)
    by_composer = re.sub(r"[^a-z0-9]", "x", by_composer)
    try:
        deployed = docker("stack", "deploy", "-c", "compose.yaml", by_docker, cwd=work)
        assert deployed.returncode == 0, deployed.stderr
        theirs = snapshot(docker, by_docker)
    finally:
        remove_stack(docker, by_docker)  # the two share published ports
    try:
        deployed = run_composer("stack", "deploy", "-c", "compose.yaml", by_composer, cwd=work,
                                env={"DOCKER_HOST": swarm_host})
        assert deployed.returncode == 0, deployed.stderr
        ours = snapshot(docker, by_composer)
    finally:
        remove_stack(docker, by_composer)

    assert sorted(ours) == sorted(theirs)
    differ = {}
    for resource in sorted(theirs):
        want, got = flatten(theirs[resource]), flatten(ours[resource])
        differ.update({f"{resource}: {path}": (want.get(path), got.get(path))
                       for path in sorted(set(want) | set(got))
                       if want.get(path) != got.get(path)})
    assert not differ, "(docker, composer) differ at\n" + "\n".join(
        f"{path}: {values}" for path, values in differ.items())


@pytest.mark.parametrize("flag", ["-c", "-f"])
def test_the_warning_docker_prints_for_keys_a_stack_ignores(
        docker: Docker, run_composer: Any, swarm_host: str, stack_name: str,
        tmp_path: Path, flag: str) -> None:
    (tmp_path / "compose.yaml").write_text(
        "services:\n  app:\n    image: busybox:latest\n    command: sleep 600\n"
        "    build: .\n    privileged: true\n    restart: always\n")
    args = (["stack", "deploy", "-c", "compose.yaml", stack_name] if flag == "-c"
            else ["-f", "compose.yaml", "stack", "deploy", stack_name])
    result = run_composer(*args, cwd=tmp_path, env={"DOCKER_HOST": swarm_host})
    assert result.returncode == 0, result.stderr
    assert "Ignoring unsupported options: build, privileged, restart" in result.stderr
    # ... and, as docker, still converts restart: always.
    spec = json.loads(docker("service", "inspect", f"{stack_name}_app").stdout)[0]["Spec"]
    assert spec["TaskTemplate"]["RestartPolicy"]["Condition"] == "any"
