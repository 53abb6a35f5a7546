"""Engine API bodies for networks: ``POST /networks/create``, the container's
``NetworkingConfig`` and ``POST /networks/{id}/connect``, as v2.40.3 sends them.

Pure: reads the typed model (:mod:`composer.model.project`), no engine.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from composer._version import __version__
from composer.backends.errors import UnsupportedError
from composer.backends.spec.common import (
    DEFAULT_API_VERSION,
    ContainerRef,
    api_at_least,
    container_name,
    or_none,
    resolve_mode,
)
from composer.model import hash as model_hash
from composer.model import labels as L
from composer.model.naming import resource_name
from composer.model.project import NetworkConfig, Project, ServiceConfig, VolumeConfig

__all__ = [
    "endpoint_settings",
    "network_config_hash",
    "network_connect_bodies",
    "network_create_body",
    "network_name",
    "networks_by_priority",
    "networking",
    "service_links",
    "volume_config_hash",
    "volume_create_body",
]


def networks_by_priority(service: ServiceConfig) -> list[str]:
    """The service's network keys, highest ``priority`` first, then by name."""
    keyed = []
    for key, cfg in (service.networks or {}).items():
        priority = (cfg.priority if cfg is not None else None) or 0
        keyed.append((-priority, key))
    return [key for _, key in sorted(keyed)]


def network_name(project: Project, key: str) -> str:
    """The engine's name of the project's network ``key`` (``name:``, else ``{project}_{key}``)."""
    declared = project.networks.get(key)
    return (declared.name if declared is not None else None) or resource_name(project.name, key)


def service_links(project_name: str, service: ServiceConfig, number: int,
                  containers: Mapping[str, Sequence[ContainerRef]]) -> list[str]:
    """``HostConfig.Links`` for one replica, as v2's ``getLinks`` (after Compose v1).

    Every container of a linked service is linked under the link name, under
    ``{service}-{number}`` and under ``{project}-{service}-{number}``, where
    ``number`` is the *linking* container's own number (a v1 quirk v2 kept);
    ``external_links`` follow. A one-off container also links to its service's
    containers.
    """
    links: list[str] = []
    for raw in service.links or ():
        linked, _, alias = raw.partition(":")
        alias = alias or linked
        for ref in containers.get(linked, ()):
            links += [
                f"{ref.name}:{alias}",
                f"{ref.name}:{linked}-{number}",
                f"{ref.name}:{project_name}-{linked}-{number}",
            ]
    if (service.labels or {}).get(L.ONEOFF) == "True":
        for ref in containers.get(service.name, ()):
            short = ref.name.removeprefix(f"{project_name}-")
            links += [f"{ref.name}:{service.name}", f"{ref.name}:{short}",
                      f"{ref.name}:{ref.name}"]
    for raw in service.external_links or ():
        target, _, alias = raw.partition(":")
        links.append(f"{target}:{alias or target}")
    return links


def endpoint_settings(service: ServiceConfig, network_key: str, *, name: str,
                      links: Sequence[str] = (), use_network_aliases: bool = True
                      ) -> dict[str, Any]:
    """The ``EndpointSettings`` for one of the service's networks (``name``: the container's).

    Aliases are the container name, then (unless ``use_network_aliases`` is off,
    as for ``run`` without ``--use-aliases``) the service name and the network's
    own ``aliases``.
    """
    cfg = (service.networks or {}).get(network_key)
    aliases = [name]
    ipam: dict[str, Any] | None = None
    ipv4 = ipv6 = mac = ""
    driver_opts = None
    priority = 0
    if use_network_aliases:
        aliases.append(service.name)
        if cfg is not None:
            aliases += list(cfg.aliases or ())
    if cfg is not None:
        ipv4 = cfg.ipv4_address or ""
        ipv6 = cfg.ipv6_address or ""
        ipam = {}
        if ipv4:
            ipam["IPv4Address"] = ipv4
        if ipv6:
            ipam["IPv6Address"] = ipv6
        if cfg.link_local_ips:
            ipam["LinkLocalIPs"] = list(cfg.link_local_ips)
        mac = cfg.mac_address or ""
        driver_opts = cfg.driver_opts
        priority = cfg.gw_priority or 0
    return {
        "Aliases": aliases,
        "DNSNames": None,
        "DriverOpts": dict(driver_opts) if driver_opts is not None else None,
        "EndpointID": "",
        "Gateway": "",
        "GlobalIPv6Address": "",
        "GlobalIPv6PrefixLen": 0,
        "GwPriority": priority,
        "IPAMConfig": ipam,
        "IPAddress": ipv4,
        "IPPrefixLen": 0,
        # v2 puts the ipv6_address here too (it is what it sends; the engine uses IPAMConfig).
        "IPv6Gateway": ipv6,
        "Links": list(links) or None,
        "MacAddress": mac,
        "NetworkID": "",
    }


def container_mac(service: ServiceConfig, primary: str | None, api_version: str) -> str:
    """The container-level ``MacAddress`` (before API 1.44 the only place for one)."""
    mac = service.mac_address or ""
    networks = service.networks or {}
    main = networks.get(primary) if primary else None
    main_mac = (main.mac_address if main is not None else None) or ""
    if mac and main_mac and mac != main_mac:
        raise UnsupportedError(
            f"the service-level mac_address should have the same value as network {primary}"
        )
    if api_at_least(api_version, "1.44"):
        return ""
    with_mac = sorted(k for k, v in networks.items() if v is not None and v.mac_address)
    if len(with_mac) > 1:
        raise UnsupportedError(
            f"a MAC address is specified for multiple networks ({', '.join(with_mac)}), but "
            f"this feature requires Docker Engine 1.44 or later (currently: {api_version})"
        )
    if with_mac:
        # v2 leaves the network's address in the endpoint too, which the Go client refuses.
        raise UnsupportedError(
            '"specify mac-address per network" requires API version 1.44, but the Docker '
            f"daemon API version is {api_version}"
        )
    return main_mac or mac


def networking(project: Project, service: ServiceConfig, *, name: str, links: Sequence[str],
               use_network_aliases: bool, api_version: str,
               containers: Mapping[str, Sequence[ContainerRef]]
               ) -> tuple[str, dict[str, Any] | None]:
    """``HostConfig.NetworkMode`` and the create call's ``NetworkingConfig``."""
    if service.network_mode:
        return resolve_mode(service.network_mode, containers, "network namespace"), None
    if not project.networks:
        return "none", None
    order = networks_by_priority(service) or ["default"]
    primary = order[0]
    endpoints: dict[str, Any] = {}
    new_api = api_at_least(api_version, "1.44")
    if new_api:
        for key in order[1:]:
            endpoints[network_name(project, key)] = endpoint_settings(
                service, key, name=name, links=links, use_network_aliases=use_network_aliases)
    main = endpoint_settings(service, primary, name=name, links=links,
                             use_network_aliases=use_network_aliases)
    if new_api and not main["MacAddress"]:
        main["MacAddress"] = service.mac_address or ""
    endpoints[network_name(project, primary)] = main
    return network_name(project, primary), {"EndpointsConfig": endpoints}


def network_connect_bodies(project: Project, service: ServiceConfig, number: int, *,
                           links: Sequence[str] = (), use_network_aliases: bool = True,
                           api_version: str = DEFAULT_API_VERSION
                           ) -> list[tuple[str, dict[str, Any]]]:
    """``(network name, EndpointConfig)`` to connect after create, in v2's order.

    Empty from API 1.44 on (every network goes in the create call) and for
    services with a ``network_mode``.
    """
    if api_at_least(api_version, "1.44") or service.network_mode or not project.networks:
        return []
    name = container_name(project.name, service, number)
    return [(network_name(project, key),
             endpoint_settings(service, key, name=name, links=links,
                               use_network_aliases=use_network_aliases))
            for key in networks_by_priority(service)[1:]]


# -- networks and volumes of the project

def network_config_hash(network: NetworkConfig, name: str = "") -> str:
    """v2's ``NetworkHash`` of the network (``name`` stands in when the config has none)."""
    if name and not network.name:
        network = dataclasses.replace(network, name=name)
    return model_hash.network_config_hash(network)


def volume_config_hash(volume: VolumeConfig, name: str = "") -> str:
    """v2's ``VolumeHash`` of the volume (``name`` stands in when the config has none)."""
    if name and not volume.name:
        volume = dataclasses.replace(volume, name=name)
    return model_hash.volume_config_hash(volume)


def network_create_body(project: Project, key: str, *,
                        version: str = __version__) -> dict[str, Any]:
    """The ``POST /networks/create`` body for network ``key`` of the project (not external)."""
    network = project.networks.get(key) or NetworkConfig()
    name = network_name(project, key)
    ipam = network.ipam
    ipam_body: dict[str, Any] | None = None
    if ipam is not None and (ipam.driver or ipam.config):
        pools = []
        for pool in ipam.config or ():
            entry: dict[str, Any] = {}
            for value, dst in ((pool.subnet, "Subnet"), (pool.ip_range, "IPRange"),
                               (pool.gateway, "Gateway"),
                               (pool.aux_addresses, "AuxiliaryAddresses")):
                if value:
                    entry[dst] = dict(value) if isinstance(value, Mapping) else value
            pools.append(entry)
        ipam_body = {"Driver": ipam.driver or "", "Options": None, "Config": pools or None}
    body_labels = {str(k): str(v) for k, v in (network.labels or {}).items()}
    body_labels.update({
        L.NETWORK: key,
        L.PROJECT: project.name,
        L.VERSION: version,
        L.CONFIG_HASH: network_config_hash(network, name),
    })
    body: dict[str, Any] = {
        "Name": name,
        "CheckDuplicate": True,
        "Driver": network.driver or "",
        "Scope": "",
    }
    if network.enable_ipv4 is not None:
        body["EnableIPv4"] = bool(network.enable_ipv4)
    if network.enable_ipv6 is not None:
        body["EnableIPv6"] = bool(network.enable_ipv6)
    body.update({
        "IPAM": ipam_body,
        "Internal": bool(network.internal),
        "Attachable": bool(network.attachable),
        "Ingress": False,
        "ConfigOnly": False,
        "ConfigFrom": None,
        "Options": or_none(network.driver_opts),
        "Labels": body_labels,
    })
    return body


def volume_create_body(project: Project, key: str, *,
                       version: str = __version__) -> dict[str, Any]:
    """The ``POST /volumes/create`` body for volume ``key`` of the project (not external)."""
    volume = project.volumes.get(key) or VolumeConfig()
    name = volume.name or resource_name(project.name, key)
    body_labels = {str(k): str(v) for k, v in (volume.labels or {}).items()}
    body_labels.update({
        L.VOLUME: key,
        L.PROJECT: project.name,
        L.VERSION: version,
        L.CONFIG_HASH: volume_config_hash(volume, name),
    })
    body: dict[str, Any] = {}
    if volume.driver:
        body["Driver"] = volume.driver
    if volume.driver_opts:
        body["DriverOpts"] = {str(k): str(v) for k, v in volume.driver_opts.items()}
    body["Labels"] = body_labels
    body["Name"] = name
    return body
