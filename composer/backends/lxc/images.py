"""The image store of the LXC backend: OCI images unpacked into root filesystems.

LXC has no image store of its own that knows OCI images, so composer keeps one.
An image is imported once (``skopeo copy`` into a private OCI layout, then
``umoci unpack``) and kept as an unpacked root filesystem that containers use
read-only, as the lower layer of an overlay. Blocking code: the backend calls it
from worker threads.

Where an image comes from (:meth:`ImageStore.ensure`), in order:

* the store itself (by ``name:tag``, by ID or by a unique ID prefix);
* for a transport reference, only that transport:
  ``oci-archive:/path/image.tar[:tag]``, ``docker-archive:/path/image.tar[:name:tag]``
  or ``oci:/path/layout[:tag]`` (a local OCI layout folder), passed to skopeo as
  written; the store records the reference exactly as written;
* else the local Docker Engine (``DOCKER_HOST`` when it is a ``unix://`` socket,
  then ``/var/run/docker.sock``), only when it answers; the engine is only read;
* else the local Podman store (``containers-storage``), when ``podman`` exists.

Nothing is ever pulled from a registry. Layout of ``root``::

    index.json              {"version": 1, "tags": {"busybox:latest": "sha256:..."}}
    images/<hex>/rootfs/    the unpacked root filesystem (owned as in the image)
    images/<hex>/image.json {"id", "created", "size", "source", "config": <OCI image config>}
    tmp/                    work folders of imports (same filesystem: renames are atomic)
    .lock                   flock'ed while the store changes

The ID of an image is the ``sha256:`` digest of its config as the engine it came
from holds it (what ``docker images`` / ``podman images`` show); for images from
an archive or a layout, of the OCI config in it; for :meth:`ImageStore.import_rootfs`,
of the config written for it. Two references to one ID share one root filesystem.
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import hashlib
import http.client
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import field
from typing import Any
from urllib.parse import quote

from composer.errors import ConflictError, EngineError, NotFoundError
from composer.frozen import frozen

__all__ = ["DEFAULT_ROOT", "TRANSPORTS", "ImageStore", "LocalImage", "normalize_reference"]

DEFAULT_ROOT = "/var/lib/composer-lxc/images"
DEFAULT_DOCKER_SOCKET = "/var/run/docker.sock"

#: skopeo transports a reference may name explicitly (the image is then taken from
#: there only).
TRANSPORTS = ("oci-archive:", "docker-archive:", "oci:")

_ID = re.compile(r"(?:sha256:)?([0-9a-f]{4,64})")
_FULL_ID = re.compile(r"(?:sha256:)?[0-9a-f]{64}")
_SHORT_ID = re.compile(r"(?:sha256:)?[0-9a-f]{12,64}")
_NAME = re.compile(
    r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"  # first component, or a registry host
    r"(?::[0-9]+)?"
    r"(?:/[a-zA-Z0-9]+(?:(?:[._]|__|-+)[a-zA-Z0-9]+)*)*")
_TAG = re.compile(r"[\w][\w.-]{0,127}")
_DIGEST = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[0-9a-fA-F]{32,}")

#: ``list[str]`` (``ImageStore.list`` hides the builtin in the class body).
_Strings = list[str]

_TOOL_TIMEOUT = 1800.0  # seconds: a copy or an unpack of a large image


@frozen
class LocalImage:
    """One image of the store, as asked for."""

    reference: str  # as asked, normalised like docker (busybox -> busybox:latest)
    id: str  # "sha256:<hex>"
    rootfs: str  # absolute path of the unpacked root filesystem (read-only use)
    config: Mapping[str, Any]  # the OCI image config's "config": Env, Cmd, Entrypoint...
    created: str  # RFC 3339
    size: int  # bytes of the rootfs (approximate)
    os: str = "linux"
    architecture: str = ""
    #: Every reference of the store naming this image (sorted).
    tags: tuple[str, ...] = field(default=())


def normalize_reference(reference: str) -> str:
    """``busybox`` -> ``busybox:latest``, ``docker.io/library/busybox:1`` -> ``busybox:1``;
    transport references (``oci-archive:...``) and IDs are kept as written. A
    reference that is not one raises ``EngineError`` (docker's words)."""
    ref = reference.strip()
    if ref.startswith(TRANSPORTS):
        return ref
    if ref.startswith("sha256:"):
        if _ID.fullmatch(ref):
            return ref
        raise EngineError(f"invalid reference format: {reference}")
    name, digest = ref, ""
    if "@" in ref:
        name, _, digest = ref.partition("@")
        if not _DIGEST.fullmatch(digest):
            raise EngineError(f"invalid reference format: {reference}")
    tag = ""
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        name, tag = name[:colon], name[colon + 1:]
        if not _TAG.fullmatch(tag):
            raise EngineError(f"invalid reference format: {reference}")
    if not name or not _NAME.fullmatch(name):
        raise EngineError(f"invalid reference format: {reference}")
    for prefix in ("docker.io/library/", "index.docker.io/library/"):
        if name.startswith(prefix) and "/" not in name[len(prefix):]:
            name = name[len(prefix):]
            break
    else:
        for prefix in ("docker.io/", "index.docker.io/"):
            if name.startswith(prefix):
                name = name[len(prefix):]
                break
    if digest:
        return f"{name}:{tag}@{digest}" if tag else f"{name}@{digest}"
    return f"{name}:{tag or 'latest'}"


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _one_line(text: str) -> str:
    """The last meaningful line of a tool's error output."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return "no output"
    line = lines[-1]
    match = re.search(r'msg="(.*)"', line)  # logrus: time=... level=fatal msg="..."
    return match.group(1).replace('\\"', '"') if match else line


def _tree_size(folder: str) -> int:
    """Bytes of the regular files under ``folder`` (hard links counted once)."""
    total = 0
    seen: set[tuple[int, int]] = set()
    for parent, dirs, files in os.walk(folder):
        for name in files + dirs:
            try:
                st = os.lstat(os.path.join(parent, name))
            except OSError:
                continue
            if st.st_nlink > 1:
                key = (st.st_dev, st.st_ino)
                if key in seen:
                    continue
                seen.add(key)
            total += st.st_size
    return total


def _arch() -> str:
    machine = platform.machine().lower()
    return {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386",
            "i386": "386"}.get(machine, machine)


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self._path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


def _docker_get(sock: str, path: str, timeout: float = 5.0) -> tuple[int, bytes]:
    """GET ``path`` of the Docker Engine API on the unix socket ``sock``."""
    conn = _UnixHTTPConnection(sock, timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def _docker_sockets() -> list[str]:
    """The unix sockets where a local Docker Engine may answer, in order."""
    out: list[str] = []
    host = os.environ.get("DOCKER_HOST", "")
    if host.startswith("unix://"):
        out.append(host[len("unix://"):])
    if DEFAULT_DOCKER_SOCKET not in out:
        out.append(DEFAULT_DOCKER_SOCKET)
    return out


def _docker_answering() -> str | None:
    """The first socket of :func:`_docker_sockets` where an engine answers ``/_ping``."""
    for sock in _docker_sockets():
        if not os.path.exists(sock):
            continue
        try:
            status, _ = _docker_get(sock, "/_ping", timeout=2.0)
        except (OSError, http.client.HTTPException):
            continue
        if status == 200:
            return sock
    return None


class ImageStore:
    """OCI images unpacked under ``root`` (see the module docstring)."""

    def __init__(self, root: str = DEFAULT_ROOT) -> None:
        self.root = os.path.abspath(root)
        self._index_path = os.path.join(self.root, "index.json")
        self._images = os.path.join(self.root, "images")
        self._tmp = os.path.join(self.root, "tmp")

    # -- reading (no lock: the index and image.json are replaced atomically)

    def lookup(self, reference: str) -> LocalImage | None:
        """The image ``reference`` names in the store: a reference (``name:tag``), an
        ID (``sha256:<hex>``) or an ID prefix of at least 4 hex digits (a prefix
        that matches several images: None)."""
        asked = reference.strip()
        try:
            ref = normalize_reference(asked)
        except EngineError:
            ref = ""
        tags = self._read_index()
        if ref and ref in tags:
            image = self._load(tags[ref], ref, tags)
            if image is not None:
                return image
        image_id = self._match_id(asked)
        if image_id is None:
            return None
        return self._load(image_id, asked, tags)

    def list(self) -> list[LocalImage]:
        """One entry per reference (sorted), then one per image no reference names
        (``reference`` "", docker's ``<none>:<none>``)."""
        tags = self._read_index()
        out: list[LocalImage] = []
        named: set[str] = set()
        for ref in sorted(tags):
            image = self._load(tags[ref], ref, tags)
            if image is not None:
                out.append(image)
                named.add(image.id)
        for image_id in self._ids():
            if image_id not in named:
                image = self._load(image_id, "", tags)
                if image is not None:
                    out.append(image)
        return out

    # -- changing

    def ensure(self, reference: str) -> LocalImage:
        """The image ``reference`` names, imported into the store the first time (see
        the module docstring for where it is looked for); ``NotFoundError``
        (``No such image: REF ...``) when it is nowhere."""
        found = self.lookup(reference)
        if found is not None:
            return found
        ref = normalize_reference(reference)
        with self._locked():
            found = self.lookup(reference)  # another process may have imported it
            if found is not None:
                return found
            return self._import(reference.strip(), ref)

    def tag(self, image_id: str, reference: str) -> None:
        """Make ``reference`` name the image ``image_id`` names (an ID, an ID prefix or
        a reference of the store); a reference naming another image moves (that
        image is removed when nothing names it any more)."""
        ref = normalize_reference(reference)
        with self._locked():
            image = self.lookup(image_id)
            if image is None:
                raise NotFoundError(f"No such image: {image_id}", status=404, kind="image",
                                    name=image_id)
            tags = self._read_index()
            previous = tags.get(ref)
            tags[ref] = image.id
            self._write_index(tags)
            if previous is not None and previous != image.id \
                    and previous not in tags.values():
                self._delete(previous)

    def remove(self, reference: str, *, force: bool = False) -> None:
        """Remove the reference ``reference``; the unpacked image with it when no
        reference is left. By ID: the image, when at most one reference names it
        (else ``ConflictError``, as docker, unless ``force``: every reference goes).
        The store does not know which containers use an image: the caller checks
        that none does before removing the last reference."""
        asked = reference.strip()
        with self._locked():
            tags = self._read_index()
            try:
                ref = normalize_reference(asked)
            except EngineError:
                ref = ""
            if ref and ref in tags:
                image_id = tags.pop(ref)
            else:
                match = self._match_id(asked)
                if match is None:
                    raise NotFoundError(f"No such image: {asked}", status=404, kind="image",
                                        name=asked)
                image_id = match
                names = sorted(r for r, i in tags.items() if i == image_id)
                if len(names) > 1 and not force:
                    raise ConflictError(
                        f"conflict: unable to delete {image_id[7:19]} (must be forced) - "
                        f"image is referenced in multiple repositories", status=409)
                for name in names:
                    del tags[name]
            self._write_index(tags)
            if image_id not in tags.values():
                self._delete(image_id)

    def import_rootfs(self, reference: str, folder: str,
                      config: Mapping[str, Any] | None = None) -> LocalImage:
        """"Boot from a directory": the root filesystem ``folder`` as the image
        ``reference`` (copied into the store with ``cp -a``, so later changes to the
        folder do not reach the image; imported again on each call). ``config`` is
        the OCI config's ``config`` part (Env, Cmd, WorkingDir...)."""
        source = os.path.abspath(folder)
        if not os.path.isdir(source):
            raise EngineError(f"cannot import {folder} as {reference}: not a directory")
        ref = normalize_reference(reference)
        created = _now()
        oci_config: dict[str, Any] = {
            "created": created,
            "architecture": _arch(),
            "os": "linux",
            "config": dict(config or {}),
            "rootfs": {"type": "layers", "diff_ids": []},
            "history": [{"created": created, "created_by": f"composer: rootfs {source}"}],
        }
        blob = json.dumps(oci_config, sort_keys=True, separators=(",", ":")).encode()
        image_id = "sha256:" + hashlib.sha256(blob).hexdigest()
        with self._locked():
            work = self._workdir()
            try:
                rootfs = os.path.join(work, "rootfs")
                os.mkdir(rootfs)
                self._run(["cp", "-a", "--reflink=auto", "--", source + "/.", rootfs],
                          f"copying {source}")
                self._commit(work, rootfs, image_id, oci_config, f"dir:{source}")
            finally:
                shutil.rmtree(work, ignore_errors=True)
            self._retag(ref, image_id)
            image = self.lookup(ref)
        if image is None:  # pragma: no cover - just written under the lock
            raise EngineError(f"importing {folder} as {reference}: the image vanished")
        return image

    # -- importing

    def _import(self, asked: str, ref: str) -> LocalImage:
        """Import ``asked`` (normalised: ``ref``) from the first source that has it;
        under the lock."""
        looked: _Strings = [f"the store {self.root}"]
        record = not (_SHORT_ID.fullmatch(asked) or asked.startswith("sha256:"))
        name = ref if record else asked
        image_id: str | None
        if asked.startswith(TRANSPORTS):
            image_id = self._import_source(asked, asked, None)
        else:
            image_id = self._from_docker(name, looked)
            if image_id is None:
                image_id = self._from_podman(name, looked)
            if image_id is None:
                where = ", ".join(looked[:-1]) + " nor " + looked[-1] if len(looked) > 1 \
                    else looked[0]
                raise NotFoundError(
                    f"No such image: {name} (not in {where}; images are never pulled "
                    f"for LXC)", status=404, kind="image", name=name)
        if record:
            self._retag(ref, image_id)
        image = self._load(image_id, name, self._read_index())
        if image is None:  # pragma: no cover - just written under the lock
            raise EngineError(f"importing {asked}: the image vanished from {self.root}")
        return image

    def _from_docker(self, ref: str, looked: _Strings) -> str | None:
        sock = _docker_answering()
        if sock is None:
            looked.append("a Docker Engine (none answers at "
                          + " or ".join(_docker_sockets()) + ")")
            return None
        looked.append(f"the Docker Engine at unix://{sock}")
        try:
            status, body = _docker_get(sock, f"/images/{quote(ref, safe='/:@')}/json")
        except (OSError, http.client.HTTPException) as exc:
            raise EngineError(f"inspecting {ref} on the Docker Engine at unix://{sock}: "
                              f"{exc}") from exc
        if status == 404:
            return None
        if status != 200:
            raise EngineError(f"inspecting {ref} on the Docker Engine at unix://{sock}: "
                              f"HTTP {status} {_one_line(body.decode(errors='replace'))}")
        try:
            engine_id = str(json.loads(body)["Id"])
        except (ValueError, KeyError, TypeError) as exc:
            raise EngineError(f"inspecting {ref} on the Docker Engine at unix://{sock}: "
                              f"unexpected answer") from exc
        # By ID: what was inspected is what is copied, even if the tag moves meanwhile.
        source = f"docker-daemon:{engine_id}"
        return self._import_source(source, ref, engine_id,
                                   ["--src-daemon-host", f"unix://{sock}"])

    def _from_podman(self, ref: str, looked: _Strings) -> str | None:
        podman = shutil.which("podman")
        if podman is None:
            looked.append("Podman's storage (podman is not installed)")
            return None
        looked.append("Podman's storage")
        try:
            done = subprocess.run([podman, "image", "inspect", "--format", "{{.Id}}", ref],
                                  capture_output=True, text=True, timeout=60,
                                  stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise EngineError(f"podman image inspect {ref}: {exc}") from exc
        hexid = done.stdout.strip()
        if done.returncode != 0 or not _FULL_ID.fullmatch(hexid):
            return None
        hexid = hexid.removeprefix("sha256:")
        return self._import_source(f"containers-storage:{hexid}", ref, f"sha256:{hexid}")

    def _import_source(self, source: str, ref: str, engine_id: str | None,
                       skopeo_args: _Strings | None = None) -> str:
        """Copy ``source`` (a skopeo image name) into a layout and unpack it, unless the
        store has its image already; its ID (``engine_id`` when the engine named it)."""
        if engine_id is not None and self._has(engine_id):
            return engine_id
        skopeo = self._tool("skopeo")
        umoci = self._tool("umoci")
        work = self._workdir()
        try:
            layout = os.path.join(work, "layout")
            try:
                self._run([skopeo, "copy", "--quiet", *(skopeo_args or []),
                           source, f"oci:{layout}:image"], f"skopeo copy {source}")
            except EngineError as exc:
                if source.startswith(TRANSPORTS) and self._missing_source(source):
                    raise NotFoundError(f"No such image: {ref} (no such file: "
                                        f"{self._source_path(source)})", status=404,
                                        kind="image", name=ref) from exc
                raise
            oci_config, oci_digest = self._layout_config(layout)
            image_id = engine_id or oci_digest
            if self._has(image_id):
                return image_id
            bundle = os.path.join(work, "bundle")
            command = [umoci, "unpack"]
            if os.geteuid() != 0:
                command.append("--rootless")
            self._run([*command, "--image", f"{layout}:image", bundle], f"umoci unpack {ref}")
            self._commit(work, os.path.join(bundle, "rootfs"), image_id, oci_config, source)
            return image_id
        finally:
            shutil.rmtree(work, ignore_errors=True)

    @staticmethod
    def _source_path(source: str) -> str:
        rest = source.split(":", 1)[1]
        return rest.split(":", 1)[0]

    def _missing_source(self, source: str) -> bool:
        return not os.path.exists(self._source_path(source))

    @staticmethod
    def _layout_config(layout: str) -> tuple[dict[str, Any], str]:
        """The image config (and its digest) of the image tagged ``image`` in the OCI
        layout ``layout``."""

        def blob(digest: str) -> bytes:
            algorithm, _, hexdigest = digest.partition(":")
            with open(os.path.join(layout, "blobs", algorithm, hexdigest), "rb") as f:
                return f.read()

        try:
            with open(os.path.join(layout, "index.json"), "rb") as f:
                index = json.load(f)
            manifests = [m for m in index.get("manifests", [])
                         if m.get("annotations", {}).get("org.opencontainers.image.ref.name")
                         == "image"] or index.get("manifests", [])
            manifest = json.loads(blob(manifests[0]["digest"]))
            digest = str(manifest["config"]["digest"])
            config = json.loads(blob(digest))
        except (OSError, ValueError, KeyError, IndexError, TypeError) as exc:
            raise EngineError(f"reading the image config of the OCI layout {layout}: "
                              f"{exc}") from exc
        if not isinstance(config, dict):
            raise EngineError(f"the image config of the OCI layout {layout} is not an object")
        return config, digest

    def _commit(self, work: str, rootfs: str, image_id: str, oci_config: Mapping[str, Any],
                source: str) -> None:
        """Move ``rootfs`` (under ``work``) into the store as ``image_id``; under the lock."""
        if self._has(image_id):
            return
        final = self._image_dir(image_id)
        staged = os.path.join(work, "image")
        os.mkdir(staged)
        os.rename(rootfs, os.path.join(staged, "rootfs"))
        os.chmod(staged, 0o755)
        meta = {
            "id": image_id,
            "created": str(oci_config.get("created") or _now()),
            "size": _tree_size(os.path.join(staged, "rootfs")),
            "source": source,
            "imported": _now(),
            "config": dict(oci_config),
        }
        with open(os.path.join(staged, "image.json"), "w", encoding="utf-8") as f:
            json.dump(meta, f, indent=1, sort_keys=True)
        os.makedirs(self._images, exist_ok=True)
        if os.path.lexists(final):  # a leftover without image.json: an import that died
            self._trash(final)
        os.rename(staged, final)

    # -- the store's files

    def _tool(self, name: str) -> str:
        found = shutil.which(name)
        if found is None:
            raise EngineError(f"{name} is not installed (Debian: apt-get install {name}; "
                              f"scripts/engine/ensure-lxc.sh installs it)")
        return found

    @staticmethod
    def _run(command: _Strings, what: str) -> None:
        try:
            done = subprocess.run(command, capture_output=True, text=True,
                                  timeout=_TOOL_TIMEOUT, stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise EngineError(f"{what}: {exc}") from exc
        if done.returncode != 0:
            raise EngineError(f"{what}: {_one_line(done.stderr or done.stdout)}")

    def _image_dir(self, image_id: str) -> str:
        return os.path.join(self._images, image_id.removeprefix("sha256:"))

    def _has(self, image_id: str) -> bool:
        return os.path.isfile(os.path.join(self._image_dir(image_id), "image.json"))

    def _ids(self) -> _Strings:
        try:
            names = sorted(os.listdir(self._images))
        except FileNotFoundError:
            return []
        return [f"sha256:{n}" for n in names
                if _FULL_ID.fullmatch(n) and self._has(f"sha256:{n}")]

    def _match_id(self, asked: str) -> str | None:
        """The one image ID ``asked`` (an ID or a prefix of one) names, or None."""
        match = _ID.fullmatch(asked.strip())
        if match is None:
            return None
        prefix = match.group(1)
        hits = [i for i in self._ids() if i[7:].startswith(prefix)]
        return hits[0] if len(hits) == 1 else None

    def _load(self, image_id: str, reference: str, tags: Mapping[str, str]) -> LocalImage | None:
        folder = self._image_dir(image_id)
        try:
            with open(os.path.join(folder, "image.json"), encoding="utf-8") as f:
                meta = json.load(f)
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise EngineError(f"reading {folder}/image.json: {exc}") from exc
        oci = meta.get("config") or {}
        return LocalImage(
            reference=reference,
            id=image_id,
            rootfs=os.path.join(folder, "rootfs"),
            config=oci.get("config") or {},
            created=str(meta.get("created") or ""),
            size=int(meta.get("size") or 0),
            os=str(oci.get("os") or "linux"),
            architecture=str(oci.get("architecture") or ""),
            tags=tuple(sorted(r for r, i in tags.items() if i == image_id)),
        )

    def _read_index(self) -> dict[str, str]:
        try:
            with open(self._index_path, encoding="utf-8") as f:
                data = json.load(f)
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise EngineError(f"reading {self._index_path}: {exc}") from exc
        tags = data.get("tags") if isinstance(data, dict) else None
        if not isinstance(tags, dict):
            raise EngineError(f"reading {self._index_path}: no \"tags\" object")
        return {str(k): str(v) for k, v in tags.items()}

    def _write_index(self, tags: Mapping[str, str]) -> None:
        os.makedirs(self.root, exist_ok=True)
        fd, path = tempfile.mkstemp(prefix=".index.", dir=self.root)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump({"version": 1, "tags": dict(sorted(tags.items()))}, f, indent=1)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(path, 0o644)
            os.replace(path, self._index_path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(path)
            raise

    def _retag(self, ref: str, image_id: str) -> None:
        """Point ``ref`` at ``image_id``; the image it named before goes when nothing
        names it any more. Under the lock."""
        tags = self._read_index()
        previous = tags.get(ref)
        tags[ref] = image_id
        self._write_index(tags)
        if previous is not None and previous != image_id and previous not in tags.values():
            self._delete(previous)

    def _delete(self, image_id: str) -> None:
        folder = self._image_dir(image_id)
        if os.path.lexists(folder):
            self._trash(folder)

    def _trash(self, folder: str) -> None:
        """Move ``folder`` out of sight at once, then delete it."""
        os.makedirs(self._tmp, exist_ok=True)
        doomed = os.path.join(self._tmp, f"trash-{uuid.uuid4().hex}")
        os.rename(folder, doomed)
        shutil.rmtree(doomed, ignore_errors=True)

    def _workdir(self) -> str:
        os.makedirs(self._tmp, exist_ok=True)
        return tempfile.mkdtemp(prefix="import-", dir=self._tmp)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """The store's lock (``flock`` on ``root/.lock``), across processes and threads.
        Work folders left in ``tmp/`` are from imports that died: they go."""
        try:
            os.makedirs(self.root, exist_ok=True)
            fd = os.open(os.path.join(self.root, ".lock"), os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise EngineError(f"cannot use the image store {self.root}: {exc}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            with contextlib.suppress(FileNotFoundError):
                for name in os.listdir(self._tmp):
                    shutil.rmtree(os.path.join(self._tmp, name), ignore_errors=True)
            yield
        finally:
            os.close(fd)
