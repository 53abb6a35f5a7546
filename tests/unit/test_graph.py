"""The service graph: edges (explicit and implied), cycles, orders, reachability."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from composer import graph
from composer.errors import ValidationError


def svc(**attrs: Any) -> dict[str, Any]:
    return {"image": "busybox", **attrs}


def edges(services: dict[str, dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    g = graph.build_graph(services)
    return {(u, v): dict(attrs) for u, v, attrs in g.edges(data=True)}


# -- edges ---------------------------------------------------------------------


def test_depends_on_mapping_keeps_its_attributes() -> None:
    services = {
        "web": svc(depends_on={
            "db": {"condition": "service_healthy", "required": True, "restart": True},
            "cache": {"condition": "service_started", "required": False},
        }),
        "db": svc(),
        "cache": svc(),
    }
    assert edges(services) == {
        ("web", "db"): {"condition": "service_healthy", "required": True, "restart": True},
        ("web", "cache"): {"condition": "service_started", "required": False, "restart": False},
    }


def test_depends_on_list_means_started_and_required() -> None:
    assert edges({"web": svc(depends_on=["db"]), "db": svc()}) == {
        ("web", "db"): {"condition": "service_started", "required": True, "restart": False},
    }


def test_implicit_dependencies_follow_v2() -> None:
    # What `docker compose config` prints for these attributes (v2.40.3): shared
    # namespaces and links restart with their dependency, volumes_from does not.
    web = svc(
        network_mode="service:net",
        ipc="service:ipc",
        pid="service:pid",
        links=["l1", "l2:alias"],
        volumes_from=["vf", "vf2:ro", "container:abc"],
    )
    others = {n: svc() for n in ("net", "ipc", "pid", "l1", "l2", "vf", "vf2", "abc")}
    got = edges({"web": web, **others})
    started = {"condition": "service_started", "required": True}
    assert got == {
        ("web", "net"): {**started, "restart": True},
        ("web", "ipc"): {**started, "restart": True},
        ("web", "pid"): {**started, "restart": True},
        ("web", "l1"): {**started, "restart": True},
        ("web", "l2"): {**started, "restart": True},
        ("web", "vf"): {**started, "restart": False},
        ("web", "vf2"): {**started, "restart": False},
    }


def test_volumes_from_service_prefix_names_a_service_called_service() -> None:
    # v2 splits at the first colon: "service:db" depends on a service "service".
    assert graph.implicit_dependencies({"volumes_from": ["service:db"]}) == {"service": False}


def test_explicit_depends_on_wins_over_an_implied_one() -> None:
    web = svc(links=["db"], depends_on={"db": {"condition": "service_healthy"}})
    assert edges({"web": web, "db": svc()})[("web", "db")]["condition"] == "service_healthy"


def test_dependencies_on_unknown_services_are_left_out() -> None:
    g = graph.build_graph({"web": svc(depends_on=["ghost"], links=["phantom"])})
    assert list(g) == ["web"]
    assert g.edges() == []


# -- cycles --------------------------------------------------------------------


def test_find_cycle_names_every_hop() -> None:
    g = graph.build_graph({
        "a": svc(depends_on=["b"]), "b": svc(depends_on=["c"]), "c": svc(depends_on=["a"]),
    })
    assert graph.find_cycle(g) == ["a", "b", "c", "a"]


def test_self_dependency_is_a_cycle() -> None:
    assert graph.find_cycle({"a": ["a"]}) == ["a", "a"]


def test_no_cycle() -> None:
    assert graph.find_cycle({"a": ["b", "c"], "b": ["c"], "c": []}) is None


@pytest.mark.parametrize(
    ("adjacency", "v2_says"),
    [
        # Each expectation is what Docker Compose v2.40.3 printed for the same graph.
        ({"c": ["a"], "a": ["c"], "b": ["b"]}, ["a", "c", "a"]),
        ({"z": ["y"], "y": ["x", "w"], "x": ["z"], "w": ["y"]}, ["w", "y", "w"]),
        ({"b": ["a"], "a": ["d"], "d": ["c"], "c": ["d"]}, ["d", "c", "d"]),
    ],
)
def test_cycle_reported_is_the_one_v2_reports(
    adjacency: dict[str, list[str]], v2_says: list[str]
) -> None:
    assert graph.find_cycle(adjacency) == v2_says


def test_find_cycle_through_implied_dependencies() -> None:
    g = graph.build_graph({"a": svc(links=["b"]), "b": svc(volumes_from=["a"])})
    assert graph.find_cycle(g) == ["a", "b", "a"]


def test_long_chains_do_not_exhaust_the_stack() -> None:
    n = 5000
    chain = {f"s{i:04}": [f"s{i + 1:04}"] for i in range(n)}
    chain[f"s{n:04}"] = []
    assert graph.find_cycle(chain) is None
    chain[f"s{n:04}"] = ["s0000"]
    cycle = graph.find_cycle(chain)
    assert cycle is not None and len(cycle) == n + 2 and cycle[0] == cycle[-1] == "s0000"


# -- orders --------------------------------------------------------------------


def diamond() -> dict[str, dict[str, Any]]:
    return {
        "web": svc(depends_on=["api", "static"]),
        "api": svc(depends_on=["db"]),
        "static": svc(),
        "db": svc(),
        "worker": svc(depends_on=["db"]),
    }


def test_start_order_puts_dependencies_first_ties_by_name() -> None:
    order = graph.start_order(graph.build_graph(diamond()))
    assert order == ["db", "api", "static", "web", "worker"]


def test_stop_order_puts_dependents_first_ties_by_name() -> None:
    order = graph.stop_order(graph.build_graph(diamond()))
    assert order == ["web", "api", "static", "worker", "db"]


def test_orders_refuse_a_cycle_and_name_it() -> None:
    g = graph.build_graph({"a": svc(depends_on=["b"]), "b": svc(depends_on=["a"])})
    for order in (graph.start_order, graph.stop_order):
        with pytest.raises(ValidationError, match=r"dependency cycle detected: a -> b -> a"):
            order(g)


# -- reachability ----------------------------------------------------------------


def test_dependencies_of() -> None:
    g = graph.build_graph(diamond())
    assert graph.dependencies_of(g, ["web"]) == {"api", "static", "db"}
    assert graph.dependencies_of(g, ["web"], transitive=False) == {"api", "static"}
    assert graph.dependencies_of(g, ["db"]) == set()
    # A name asked for is included when another one asked for needs it.
    assert graph.dependencies_of(g, ["web", "api"]) == {"api", "static", "db"}


def test_dependents_of() -> None:
    g = graph.build_graph(diamond())
    assert graph.dependents_of(g, ["db"]) == {"api", "worker", "web"}
    assert graph.dependents_of(g, ["db"], transitive=False) == {"api", "worker"}
    assert graph.dependents_of(g, ["web"]) == set()


def test_unknown_names_raise_key_error() -> None:
    g = graph.build_graph(diamond())
    with pytest.raises(KeyError):
        graph.dependencies_of(g, ["nope"])
    with pytest.raises(KeyError):
        graph.dependents_of(g, ["nope"])


def test_thousand_services() -> None:
    services = {
        f"s{i:04}": svc(depends_on=[f"s{j:04}" for j in range(max(0, i - 3), i)])
        for i in range(1000)
    }
    g = graph.build_graph(services)
    assert g.number_of_edges() == 3 * 1000 - 6
    order = graph.start_order(g)
    position = {name: i for i, name in enumerate(order)}
    assert all(position[u] > position[v] for u, v in g.edges())
    assert graph.stop_order(g) == order[::-1]
    assert len(graph.dependencies_of(g, ["s0999"])) == 999


def test_planning_does_not_import_networkx() -> None:
    # networkx costs ~0.1 s to import: no command may pay for it.
    code = (
        "import sys, composer.config.validate, composer.graph, composer.plan.reconcile\n"
        "g = composer.graph.build_graph({'a': {'depends_on': ['b']}, 'b': {}})\n"
        "composer.graph.start_order(g), composer.graph.stop_order(g)\n"
        "print('networkx' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("seed", range(40))
def test_orders_match_networkx_lexicographical_topological_sort(seed: int) -> None:
    # networkx (a dev dependency) is the oracle for our orders, ties included.
    nx = pytest.importorskip("networkx")
    import random

    rng = random.Random(seed)
    names = [f"s{rng.randrange(1000):03}" for _ in range(rng.randrange(1, 40))]
    names = sorted(set(names), key=lambda _: rng.random())
    services = {
        name: svc(depends_on=rng.sample(names[:i], k=min(i, rng.randrange(4))))
        for i, name in enumerate(names)
    }
    ours = graph.build_graph(services)
    theirs = nx.DiGraph()
    theirs.add_nodes_from(services)
    theirs.add_edges_from(ours.edges())
    assert graph.start_order(ours) == list(
        nx.lexicographical_topological_sort(theirs.reverse(copy=False)))
    assert graph.stop_order(ours) == list(nx.lexicographical_topological_sort(theirs))


def test_a_cycle_fails_both_orders_naming_it() -> None:
    g = graph.build_graph({"a": svc(depends_on=["b"]), "b": svc(links=["c"]),
                           "c": svc(depends_on=["a"]), "d": svc()})
    for order in (graph.start_order, graph.stop_order):
        with pytest.raises(ValidationError, match="a -> b -> c -> a"):
            order(g)


def test_the_model_gives_the_graph_the_loader_dict_gives() -> None:
    # The planners build the graph from the typed model; the loader's checks from
    # its dict. Explicit and implicit dependencies come out the same.
    from composer.model.project import Project

    services: dict[str, dict[str, Any]] = {
        "vpn": svc(),
        "db": svc(),
        "cache": svc(),
        "data": svc(),
        "app": svc(network_mode="service:vpn", links=["cache:c"], volumes_from=["data:ro"],
                   ipc="service:db", depends_on={
                       "db": {"condition": "service_healthy", "required": False},
                       "cache": {"condition": "service_started", "restart": True}}),
        "side": svc(volumes_from=["container:other"], pid="service:app"),
    }
    from_dict = graph.build_graph(services)
    from_model = graph.build_graph(Project.from_dict({"name": "p", "services": services}))
    assert from_model.edges(data=True) == from_dict.edges(data=True)
    assert from_model[("app")]["vpn"] == {"condition": "service_started", "required": True,
                                          "restart": True}
    assert from_model["app"]["data"]["restart"] is False
    assert from_model["app"]["db"]["required"] is False
    assert graph.start_order(from_model) == graph.start_order(from_dict)
