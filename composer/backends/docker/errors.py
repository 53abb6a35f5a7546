"""The one boundary where the docker SDK's, requests' and sockets' exceptions become
composer's (:mod:`composer.errors`):

* no engine at the address -> ``EngineUnreachableError`` naming the address and
  how to start one;
* 404 -> ``NotFoundError``; 409 -> ``ConflictError``;
* anything else the engine refused -> ``EngineError("Error response from daemon: ...")``.
"""

from __future__ import annotations

import docker.errors
import requests
import requests.exceptions
import urllib3.exceptions

from composer.errors import (
    ComposerError,
    ConflictError,
    EngineError,
    EngineUnreachableError,
    NotFoundError,
)

__all__ = ["HOW_TO_START", "check_response", "map_engine_error"]

HOW_TO_START = "start one with scripts/engine/ensure-engine.sh, or set DOCKER_HOST"


def _root_cause(exc: BaseException) -> str:
    """The innermost reason a connection failed, readable (``No such file or directory``)."""
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, OSError) and current.strerror:
            return current.strerror
        if isinstance(current, ConnectionError) and current.args \
                and isinstance(current.args[0], str):
            # http.client's RemoteDisconnected: the engine hung up mid-request.
            return current.args[0]
        for arg in current.args:
            if isinstance(arg, BaseException):
                stack.append(arg)
        for linked in (current.__cause__, current.__context__):
            if linked is not None:
                stack.append(linked)
    text = str(exc)
    return text.split(": ", 1)[-1] if text else type(exc).__name__


def _unreachable(address: str, exc: BaseException) -> EngineUnreachableError:
    return EngineUnreachableError(
        f"cannot reach a container engine at {address}: {_root_cause(exc)} ({HOW_TO_START})")


def map_engine_error(exc: BaseException, address: str) -> ComposerError:
    """The composer error for an exception raised by the SDK, requests or a socket.
    Anything else is a bug and is raised again."""
    if isinstance(exc, ComposerError):
        return exc
    if isinstance(exc, docker.errors.APIError):
        explanation = exc.explanation or str(exc)
        if isinstance(explanation, bytes):
            explanation = explanation.decode("utf-8", "replace")
        message = f"Error response from daemon: {str(explanation).strip()}"
        status = exc.status_code
        if status == 404:
            return NotFoundError(message, status=status)
        # Engines before API 1.42 answer 403, not 409, for a network still in use.
        # Podman answers 500 for a name already taken, a network still used, a kill
        # of or an exec in a stopped container; Docker 409 (403 for the network,
        # before 1.42).
        if status == 409 or (status == 403 and "active endpoints" in message) \
                or (status == 500 and ("is already in use" in message
                                       or "network is being used" in message
                                       or "can only kill running containers" in message
                                       or "can only create exec sessions on running"
                                       in message)):
            return ConflictError(message, status=status)
        return EngineError(message, status=status)
    if isinstance(exc, requests.exceptions.Timeout):
        return EngineError(f"the container engine at {address} did not answer in time")
    unreachable = (requests.exceptions.ConnectionError, urllib3.exceptions.HTTPError,
                   ConnectionError, FileNotFoundError)
    if isinstance(exc, unreachable) or (
            isinstance(exc, docker.errors.DockerException)
            and isinstance(exc.__cause__ or exc.__context__, unreachable)):
        return _unreachable(address, exc)
    if isinstance(exc, docker.errors.DockerException):
        return EngineError(f"container engine at {address}: {exc}")
    if isinstance(exc, OSError):
        return _unreachable(address, exc)
    raise exc


def check_response(response: requests.Response) -> None:
    """Raise the SDK's ``APIError`` for an HTTP error answer, as the SDK's own calls do
    (its public ``create_api_error_from_http_exception``), for requests we make
    ourselves; :func:`map_engine_error` then maps it."""
    try:
        response.raise_for_status()
    except requests.exceptions.HTTPError as exc:
        raise docker.errors.create_api_error_from_http_exception(exc) from exc
