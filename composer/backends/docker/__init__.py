"""The Docker Engine backend (also Podman's Docker-compatible API), on the docker SDK.

Modules: :mod:`.backend` (:class:`DockerBackend`, :func:`connect`), :mod:`.engine`
(threads, limiter, version negotiation), :mod:`.sessions` (logs, attach, exec,
waits, stats, files), :mod:`.convert` (the Engine API's JSON as typed values),
:mod:`.wire` (HTTP requests and streams; the only uses of SDK internals),
:mod:`.errors` (the error boundary), :mod:`.credentials` (the docker CLI's
``config.json``: proxies and registry logins), :mod:`.build` (image builds).

Importing this package imports the docker SDK; :func:`composer.backends.connect`
does so only when called.
"""

from composer.backends.docker.backend import DEFAULT_HOST, DockerBackend, connect
from composer.backends.docker.errors import map_engine_error

__all__ = ["DEFAULT_HOST", "DockerBackend", "connect", "map_engine_error"]
