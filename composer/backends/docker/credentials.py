"""The docker CLI's client configuration: ``$DOCKER_CONFIG/config.json`` (default
``~/.docker/config.json``), read once per backend.

Two things in it concern composer: the ``proxies`` Docker Compose v2 adds to
every container's environment (:meth:`ClientConfig.proxy_environment`), and the
registry logins (``auths``, a ``credsStore``, ``credHelpers``) pulls and pushes
send (:meth:`ClientConfig.credentials`). Logins are resolved with the docker
SDK's public ``docker.auth`` helpers, which run the credential helper programs
(``docker-credential-*``) the file names: call them from a worker thread.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Mapping
from typing import Any

import docker.auth
import docker.errors

from composer.backends.spec import proxy_environment
from composer.backends.types import RegistryCredentials

__all__ = ["ClientConfig", "config_path", "registry_of"]


def config_path() -> str:
    """Where the client configuration is: ``$DOCKER_CONFIG/config.json`` or
    ``~/.docker/config.json``."""
    folder = os.environ.get("DOCKER_CONFIG") or os.path.join(os.path.expanduser("~"), ".docker")
    return os.path.join(folder, "config.json")


def _read(path: str) -> Mapping[str, Any]:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, Mapping) else {}


def registry_of(image: str) -> str:
    """The registry an image reference lives on (``docker.io`` for Docker Hub)."""
    name = image.partition("@")[0]
    try:
        registry, _ = docker.auth.resolve_repository_name(name)
    except docker.errors.DockerException:
        return str(docker.auth.INDEX_NAME)
    return str(registry)


class ClientConfig:
    """The configuration file's content (``{}`` when missing or unreadable)."""

    def __init__(self, data: Mapping[str, Any] | None = None, *, path: str | None = None,
                 credstore_env: Mapping[str, str] | None = None) -> None:
        self.path = path or config_path()
        self.data: Mapping[str, Any] = data if data is not None else _read(self.path)
        self._credstore_env = dict(credstore_env) if credstore_env is not None else None
        self._auth: Any = None

    def proxy_environment(self, address: str) -> dict[str, str]:
        """``HTTP_PROXY``/``http_proxy``... for containers of the engine at ``address``."""
        return proxy_environment(self.data, address)

    def _auth_config(self) -> Any:
        if self._auth is None:
            try:
                # load_config consumes the sections it reads: give it a copy.
                self._auth = docker.auth.load_config(config_dict=copy.deepcopy(dict(self.data)),
                                                     credstore_env=self._credstore_env)
            except docker.errors.DockerException:
                self._auth = docker.auth.AuthConfig({})
        return self._auth

    def auth_entry(self, registry: str) -> dict[str, Any] | None:
        """The login for ``registry`` in the SDK's shape (what ``auth_config=`` takes),
        or None. Blocking (a credential helper may run)."""
        try:
            found = docker.auth.resolve_authconfig(self._auth_config(), registry,
                                                   credstore_env=self._credstore_env)
        except docker.errors.DockerException:
            return None
        return dict(found) if found else None

    def credentials(self, registry: str) -> RegistryCredentials | None:
        """The login for ``registry``, or None. Blocking (a credential helper may run)."""
        entry = self.auth_entry(registry)
        if not entry:
            return None

        def get(*keys: str) -> str:
            for key in keys:
                value = entry.get(key)
                if value:
                    return str(value)
            return ""

        return RegistryCredentials(
            server_address=get("serveraddress", "ServerAddress") or registry,
            username=get("username", "Username"),
            password=get("password", "Password"),
            identity_token=get("IdentityToken", "identitytoken"),
        )
