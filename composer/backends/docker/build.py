"""Image builds on the engine's classic builder: the context tar, the call, the progress.

A build is described engine-neutrally by a
:class:`~composer.backends.types.BuildRequest` (what the compose ``build:``
section asks for, already resolved: absolute context, merged args, labels,
tags). :func:`make_context` tars the context folder the way ``docker build``
does: ``.dockerignore`` (or ``<Dockerfile>.dockerignore`` next to the
Dockerfile) decides what goes in, the Dockerfile itself always does, and a
Dockerfile outside the context or given inline (``dockerfile_inline``) is added
to the tar under a private name.

:func:`run_build` posts the tar with the docker SDK's low-level
``APIClient.build`` and decodes the engine's JSON progress stream with
:class:`BuildProgress`: text lines go to a callback as they arrive, the final
image ID comes from the ``aux`` message, and an ``error`` message becomes a
:class:`~composer.errors.BuildError` naming the step that failed
(``step 2/3 (RUN exit 3)``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Mapping
from typing import IO, Any

from composer.backends.types import BuildRequest
from composer.errors import BuildError, EngineError

__all__ = [
    "BuildProgress",
    "BuildRequest",
    "make_context",
    "read_ignore_file",
    "run_build",
]

#: Name of an inline Dockerfile (``dockerfile_inline``) inside the context tar.
INLINE_DOCKERFILE = ".composer.inline.Dockerfile"

_STEP = re.compile(r"^Step (\d+)/(\d+) : (.*)$")


# -- the context ------------------------------------------------------------------------------


def read_ignore_file(path: str) -> list[str] | None:
    """The patterns of a ``.dockerignore`` file (comments and blank lines dropped), or
    None when there is no such file."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise BuildError(f"cannot read {path}: {exc.strerror or exc}") from None
    lines = (line.strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def _dockerfile_path(request: BuildRequest) -> str:
    path = request.dockerfile or "Dockerfile"
    context = os.path.realpath(request.context)
    return os.path.realpath(path if os.path.isabs(path) else os.path.join(context, path))


def _dockerfile_in_context(request: BuildRequest) -> tuple[str, str | None]:
    """(name in the tar, content to add or None when the file is already in the context)."""
    if request.dockerfile_inline is not None:
        return INLINE_DOCKERFILE, request.dockerfile_inline
    context = os.path.realpath(request.context)
    full = _dockerfile_path(request)
    if os.path.commonpath([context, full]) == context:
        if not os.path.isfile(full):
            raise BuildError(f'service "{request.service}": cannot locate Dockerfile '
                             f"{request.dockerfile} in build context {request.context}")
        return os.path.relpath(full, context).replace(os.sep, "/"), None
    try:
        with open(full, encoding="utf-8") as handle:
            content = handle.read()
    except OSError as exc:
        raise BuildError(f'service "{request.service}": cannot read Dockerfile {full}: '
                         f"{exc.strerror or exc}") from None
    digest = hashlib.sha256(full.encode()).hexdigest()[:12]
    return f".dockerfile.{digest}", content


def make_context(request: BuildRequest) -> tuple[IO[bytes], str]:
    """The build context as a tar file (positioned at 0) and the Dockerfile's name in it.

    Raises :class:`~composer.errors.BuildError` when the context folder or the
    Dockerfile is missing.
    """
    from docker.utils import build as sdk_build

    context = os.path.abspath(request.context)
    if not os.path.isdir(context):
        raise BuildError(f'service "{request.service}": build context {request.context} '
                         "is not a folder")
    name, content = _dockerfile_in_context(request)
    # A Dockerfile's own ignore file (BuildKit's Dockerfile.dockerignore) wins over the
    # context's, as with docker build.
    patterns: list[str] | None = None
    if request.dockerfile_inline is None:
        patterns = read_ignore_file(_dockerfile_path(request) + ".dockerignore")
    if patterns is None:
        patterns = read_ignore_file(os.path.join(context, ".dockerignore"))
    exclude = list(patterns or [])
    files = sorted(sdk_build.exclude_paths(context, list(exclude), dockerfile=name))
    extra: list[tuple[str, str]] = []
    if content is not None:
        # The daemon must not COPY the private Dockerfile into the image with ".".
        extra = [(".dockerignore", "\n".join([*exclude, name])), (name, content)]
    # An anonymous temporary file (0600, no name in the temp folder: gone with the
    # process, even a killed one), not the SDK's default named one: a context may
    # hold secrets (.env files, keys).
    archive: IO[bytes] = tempfile.TemporaryFile()
    try:
        sdk_build.create_archive(root=context, files=files, extra_files=extra,
                                 fileobj=archive)
    except BaseException:
        archive.close()
        raise
    archive.seek(0)
    return archive, name


# -- the progress stream -----------------------------------------------------------------------


class BuildProgress:
    """Decodes the classic builder's JSON messages, one :meth:`feed` call each.

    Text (``stream`` and ``status`` messages) is split into lines and handed to
    ``on_line``; ``Step n/m : INSTRUCTION`` lines set :attr:`step`. The image ID
    comes from the ``aux`` message (or the ``Successfully built`` line of older
    engines). An ``error`` message raises :class:`~composer.errors.BuildError`
    naming the service and the step.
    """

    def __init__(self, service: str, on_line: Callable[[str], None] | None = None) -> None:
        self.service = service
        self.on_line = on_line
        self.step: str = ""
        self.image_id: str = ""
        self._partial = ""

    def feed(self, message: Mapping[str, Any] | str) -> None:
        """Take one message of the stream."""
        if not isinstance(message, Mapping):
            self._text(str(message))
            return
        error = message.get("error") or (message.get("errorDetail") or {}).get("message")
        if error:
            self.flush()
            raise self.failure(str(error))
        aux = message.get("aux")
        if isinstance(aux, Mapping) and aux.get("ID"):
            self.image_id = str(aux["ID"])
        text = message.get("stream")
        if isinstance(text, str):
            self._text(text)
        status = message.get("status")
        if isinstance(status, str) and status:
            ident = message.get("id")
            # Layer-by-layer download progress would flood a log: only the changes of state.
            if not message.get("progressDetail"):
                self._line(f"{ident}: {status}" if ident else status)

    def failure(self, reason: str) -> BuildError:
        """The error for a build that failed for ``reason`` (the engine's words)."""
        where = f" at {self.step}" if self.step else ""
        return BuildError(f'service "{self.service}" failed to build{where}: '
                          f"{reason.strip()}")

    def flush(self) -> None:
        """Hand over a last line that did not end with a newline."""
        if self._partial:
            self._line(self._partial)
            self._partial = ""

    def _text(self, text: str) -> None:
        text = self._partial + text
        *lines, self._partial = text.split("\n")
        for line in lines:
            self._line(line.rstrip("\r"))

    def _line(self, line: str) -> None:
        found = _STEP.match(line)
        if found:
            self.step = f"step {found.group(1)}/{found.group(2)} ({found.group(3).strip()})"
        elif line.startswith("Successfully built ") and not self.image_id:
            self.image_id = line.split()[-1]
        if line.strip() and self.on_line is not None:
            self.on_line(line)


# -- the call ----------------------------------------------------------------------------------


def _args(values: Mapping[str, str | None]) -> dict[str, str]:
    return {k: v for k, v in values.items() if v is not None}


def _extra_hosts(hosts: Any, podman: bool) -> Any:
    """``extra_hosts`` as the SDK takes it: a mapping (sent as ``host:ip`` repeated),
    or for Podman the JSON list as one string."""
    if not hosts:
        return None
    if podman:
        return json.dumps([f"{host}:{ip}" for host, ip in dict(hosts).items()])
    return dict(hosts)


def _labels(labels: Mapping[str, str], podman: bool) -> Any:
    """The image's labels as the SDK sends them (one JSON value). For Podman a JSON
    list of ``key=value`` in key order: it makes one ``LABEL`` step per label, and
    from a JSON map (a Go map) in a random order each time, so a rebuild of
    unchanged sources missed the cache and made a new image (``up --build``
    recreated the service); a list keeps its order."""
    if not labels:
        return None
    if podman:
        return [f"{key}={value}" for key, value in sorted(labels.items())]
    return dict(labels)


def run_build(client: Any, request: BuildRequest,
              on_line: Callable[[str], None] | None = None, *, podman: bool = False) -> str:
    """Build ``request`` with ``client`` (a ``docker.APIClient``); returns the image ID.

    Blocking: run it in a worker thread. ``on_line`` receives each output line
    (from this thread). Raises :class:`~composer.errors.BuildError` for a
    failed step or a context that cannot be sent; errors of the SDK itself
    (engine unreachable, HTTP errors) propagate for the caller to map. ``podman``:
    the engine is Podman, whose compatible endpoint reads ``extrahosts`` as one JSON
    list (Docker: the parameter repeated; Podman 4.3.1 answers 400 to that).
    """
    import docker.errors

    archive, dockerfile = make_context(request)
    progress = BuildProgress(request.service, on_line)
    try:
        stream: Iterable[Any] = client.build(
            fileobj=archive, custom_context=True, tag=request.tag, dockerfile=dockerfile,
            quiet=False, nocache=request.no_cache, rm=True, forcerm=True,
            pull=request.pull, buildargs=_args(request.args) or None,
            labels=_labels(request.labels, podman), cache_from=list(request.cache_from) or None,
            target=request.target or None, network_mode=request.network or None,
            shmsize=request.shm_size or None,
            extra_hosts=_extra_hosts(request.extra_hosts, podman),
            platform=request.platform or None, isolation=request.isolation or None,
            container_limits={"memory": request.memory} if request.memory else None,
            decode=True, timeout=None,
        )
        for message in stream:
            progress.feed(message)
        progress.flush()
    except docker.errors.APIError as exc:
        explanation = exc.explanation or str(exc)
        if isinstance(explanation, bytes):
            explanation = explanation.decode("utf-8", "replace")
        raise progress.failure(str(explanation)) from None
    finally:
        archive.close()
    if not progress.image_id:
        raise progress.failure("the engine did not report the image it built")
    image_id = progress.image_id
    if not image_id.startswith("sha256:"):
        image_id = str(client.inspect_image(image_id).get("Id") or image_id)
    for extra in request.extra_tags:
        repository, _, tag = _split_tag(extra)
        if not client.tag(image_id, repository, tag=tag or "latest", force=True):
            raise EngineError(f'service "{request.service}": cannot tag the image as {extra}')
    return image_id


def _split_tag(reference: str) -> tuple[str, str, str]:
    """``repo[:tag]`` split as (repo, ":", tag); a port in a registry host is not a tag."""
    repository, sep, tag = reference.rpartition(":")
    if not sep or "/" in tag:
        return reference, "", ""
    return repository, sep, tag

