"""The LXC backend's image store (composer.backends.lxc.images), on a fresh store.

The test image is built offline, with no engine, from Debian's busybox-static:
``umoci init``/``new``/``unpack``, the files added to the bundle, ``umoci repack``
and ``umoci config``; then imported as ``oci:LAYOUT:TAG`` (a local OCI layout) and
``oci-archive:FILE`` (the layout as a tar file). One test imports ``busybox:latest``
from the local Docker Engine when one answers and has it (read only).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from composer.backends.lxc import images
from composer.backends.lxc.images import ImageStore, LocalImage, normalize_reference
from composer.errors import ConflictError, EngineError, NotFoundError

TOOLS = ("skopeo", "umoci")

pytestmark = [
    pytest.mark.lxc,
    pytest.mark.skipif(any(shutil.which(t) is None for t in TOOLS),
                       reason="skopeo and umoci are needed (Debian: apt-get install skopeo umoci)"),
]

BUSYBOX = "/bin/busybox"
APPLETS = ("sh", "ls", "cat", "echo", "sleep", "id", "true")
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def run(*command: str | os.PathLike[str]) -> None:
    done = subprocess.run([str(c) for c in command], capture_output=True, text=True)
    assert done.returncode == 0, f"{command}: {done.stderr.strip()}"


def static_busybox() -> str:
    if not os.access(BUSYBOX, os.X_OK):
        pytest.skip("busybox-static is needed (Debian: apt-get install busybox-static)")
    linked = subprocess.run(["ldd", BUSYBOX], capture_output=True)
    if linked.returncode == 0:
        pytest.skip(f"{BUSYBOX} is not static (Debian: apt-get install busybox-static)")
    return BUSYBOX


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """An OCI layout ``L`` holding ``L:t``, and the same as an oci-archive file."""
    busybox = static_busybox()
    work = tmp_path_factory.mktemp("oci")
    layout, bundle = work / "layout", work / "bundle"
    rootless = [] if os.geteuid() == 0 else ["--rootless"]
    run("umoci", "init", "--layout", layout)
    run("umoci", "new", "--image", f"{layout}:t")
    run("umoci", "unpack", *rootless, "--image", f"{layout}:t", bundle)
    rootfs = bundle / "rootfs"
    for folder in ("bin", "etc", "root", "tmp"):
        (rootfs / folder).mkdir(exist_ok=True)
    (rootfs / "tmp").chmod(0o1777)
    shutil.copy2(busybox, rootfs / "bin" / "busybox")
    for applet in APPLETS:
        (rootfs / "bin" / applet).symlink_to("/bin/busybox")
    (rootfs / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n"
                                           "nobody:x:65534:65534:nobody:/home:/bin/false\n")
    (rootfs / "etc" / "group").write_text("root:x:0:\nnogroup:x:65534:\n")
    run("umoci", "repack", "--image", f"{layout}:t", bundle)
    run("umoci", "config", "--image", f"{layout}:t", "--config.cmd", "sh",
        "--config.env", f"PATH={PATH}", "--config.env", "GREETING=hello",
        "--config.workingdir", "/tmp", "--config.label", "org.example.kind=test",
        "--config.exposedports", "8080/tcp", "--config.stopsignal", "SIGTERM")
    run("umoci", "gc", "--layout", layout)
    archive = work / "image.tar"
    run("tar", "-C", layout, "-cf", archive, ".")
    index = json.loads((layout / "index.json").read_text())
    manifest_digest = index["manifests"][0]["digest"].split(":", 1)[1]
    manifest = json.loads((layout / "blobs" / "sha256" / manifest_digest).read_text())
    yield {"layout": str(layout), "archive": str(archive),
           "config_digest": manifest["config"]["digest"]}


@pytest.fixture
def store(tmp_path: Path) -> ImageStore:
    return ImageStore(str(tmp_path / "store"))


def image_dirs(store: ImageStore) -> list[str]:
    folder = Path(store.root) / "images"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def check_busybox_image(image: LocalImage) -> None:
    root = Path(image.rootfs)
    assert root.is_absolute()
    assert os.access(root / "bin" / "busybox", os.X_OK)
    assert os.readlink(root / "bin" / "sh") == "/bin/busybox"
    assert stat.S_IMODE((root / "tmp").stat().st_mode) == 0o1777
    assert (root / "etc" / "passwd").read_text().startswith("root:x:0:0:")
    assert (root / "etc" / "group").exists()
    assert image.size >= (root / "bin" / "busybox").stat().st_size


def test_normalize_reference() -> None:
    assert normalize_reference("busybox") == "busybox:latest"
    assert normalize_reference("docker.io/library/busybox:1.36") == "busybox:1.36"
    assert normalize_reference("docker.io/me/app") == "me/app:latest"
    assert normalize_reference("localhost:5000/app") == "localhost:5000/app:latest"
    assert normalize_reference("ghcr.io/o/r:v1") == "ghcr.io/o/r:v1"
    digest = "sha256:" + "a" * 64
    assert normalize_reference(f"busybox@{digest}") == f"busybox@{digest}"
    assert normalize_reference("oci-archive:/x/y.tar") == "oci-archive:/x/y.tar"
    with pytest.raises(EngineError, match="invalid reference format"):
        normalize_reference("Bad Name")


def test_ensure_oci_archive(store: ImageStore, built: dict[str, str]) -> None:
    reference = f"oci-archive:{built['archive']}"
    image = store.ensure(reference)
    assert image.reference == reference
    # oci -> oci keeps the config blob: the ID is its digest, as the layout says.
    assert image.id == built["config_digest"]
    check_busybox_image(image)
    assert image.config["Cmd"] == ["sh"]
    assert f"PATH={PATH}" in image.config["Env"]
    assert "GREETING=hello" in image.config["Env"]
    assert image.config["WorkingDir"] == "/tmp"
    assert image.config["Labels"] == {"org.example.kind": "test"}
    assert "8080/tcp" in image.config["ExposedPorts"]
    assert image.config["StopSignal"] == "SIGTERM"
    assert image.created.endswith("Z") and "T" in image.created
    assert image.architecture and image.os == "linux"
    assert image.tags == (reference,)
    # The ID is the digest of the config the store keeps.
    blob = Path(built["layout"]) / "blobs" / "sha256" / image.id.split(":", 1)[1]
    assert "sha256:" + hashlib.sha256(blob.read_bytes()).hexdigest() == image.id
    # The index maps the reference to the ID.
    index = json.loads((Path(store.root) / "index.json").read_text())
    assert index["tags"] == {reference: image.id}
    assert os.listdir(Path(store.root) / "tmp") == []


def test_second_ensure_is_cached_and_tags_share_one_rootfs(
        store: ImageStore, built: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    archive = f"oci-archive:{built['archive']}"
    first = store.ensure(archive)
    marker = Path(first.rootfs) / "marker"
    marker.write_text("same rootfs")  # a test's mark: an unpack again would lose it

    def no_tools(command: list[str], what: str) -> None:
        raise AssertionError(f"ran {command} for a cached image")

    monkeypatch.setattr(ImageStore, "_run", staticmethod(no_tools))
    again = store.ensure(archive)
    assert again == first
    monkeypatch.undo()

    # The layout holds the same image: copied, found by its ID, not unpacked again.
    layout_ref = f"oci:{built['layout']}:t"
    other = store.ensure(layout_ref)
    assert other.id == first.id and other.rootfs == first.rootfs
    assert marker.read_text() == "same rootfs"
    assert other.reference == layout_ref
    assert other.tags == tuple(sorted((archive, layout_ref)))
    assert image_dirs(store) == [first.id.split(":", 1)[1]]
    # A second store object on the same folder (another process) sees the same.
    seen = ImageStore(store.root).lookup(layout_ref)
    assert seen is not None and seen.id == first.id


def test_concurrent_ensure_imports_once(store: ImageStore, built: dict[str, str]) -> None:
    reference = f"oci-archive:{built['archive']}"
    results: list[LocalImage] = []
    errors: list[BaseException] = []

    def go() -> None:
        try:
            results.append(ImageStore(store.root).ensure(reference))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=go) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len({r.id for r in results}) == 1 and len(results) == 3
    assert len(image_dirs(store)) == 1


def test_tag_lookup_list_remove(store: ImageStore, built: dict[str, str]) -> None:
    archive = f"oci-archive:{built['archive']}"
    image = store.ensure(archive)
    hexid = image.id.split(":", 1)[1]

    store.tag(hexid[:12], "docker.io/library/mybox")
    store.tag(image.id, "mybox:2")
    mybox = store.lookup("mybox")
    assert mybox is not None and mybox.reference == "mybox:latest" and mybox.id == image.id
    assert mybox.rootfs == image.rootfs
    assert mybox.tags == tuple(sorted((archive, "mybox:latest", "mybox:2")))

    for asked in (image.id, f"sha256:{hexid[:8]}", hexid[:12], hexid):
        found = store.lookup(asked)
        assert found is not None and found.id == image.id and found.reference == asked
    assert store.lookup("sha256:" + "0" * 64) is None
    assert store.lookup("nothere") is None

    listed = store.list()
    assert [i.reference for i in listed] == sorted((archive, "mybox:latest", "mybox:2"))
    assert {i.id for i in listed} == {image.id}

    with pytest.raises(NotFoundError, match=r"^No such image: sha256:0000$"):
        store.tag("sha256:0000", "x")
    with pytest.raises(NotFoundError, match=r"^No such image: nothere$"):
        store.remove("nothere")
    with pytest.raises(ConflictError, match="referenced in multiple repositories"):
        store.remove(hexid[:12])

    store.remove("mybox")  # a tag: the image stays for the others
    assert store.lookup("mybox") is None
    assert store.lookup("mybox:2") is not None
    assert os.path.isdir(image.rootfs)
    store.remove("mybox:2")
    assert os.path.isdir(image.rootfs)
    store.remove(archive)  # the last one: the unpacked image goes
    assert not os.path.exists(image.rootfs)
    assert store.lookup(image.id) is None
    assert store.list() == []
    assert image_dirs(store) == []

    again = store.ensure(archive)
    store.tag(again.id, "one")
    store.remove(again.id, force=True)
    assert store.list() == [] and image_dirs(store) == []


def test_import_rootfs(store: ImageStore, tmp_path: Path) -> None:
    folder = tmp_path / "myroot"
    (folder / "bin").mkdir(parents=True)
    (folder / "etc").mkdir()
    (folder / "etc" / "hostname").write_text("box\n")
    (folder / "bin" / "tool").write_text("#!/bin/sh\necho hi\n")
    (folder / "bin" / "tool").chmod(0o755)
    (folder / "bin" / "link").symlink_to("tool")

    image = store.import_rootfs("myroot", str(folder), {"Cmd": ["/bin/tool"], "Env": ["A=1"]})
    assert image.reference == "myroot:latest"
    assert image.id.startswith("sha256:") and len(image.id) == 71
    assert image.config == {"Cmd": ["/bin/tool"], "Env": ["A=1"]}
    root = Path(image.rootfs)
    assert root != folder and root.is_relative_to(store.root)
    assert (root / "etc" / "hostname").read_text() == "box\n"
    assert os.access(root / "bin" / "tool", os.X_OK)
    assert os.readlink(root / "bin" / "link") == "tool"
    assert image.size > 0

    (folder / "etc" / "hostname").write_text("changed\n")  # a copy: the image keeps its own
    assert (root / "etc" / "hostname").read_text() == "box\n"
    assert store.ensure("myroot") == image  # in the store: no engine asked

    # Imported again: a new image under the name; the old one (unnamed) goes.
    second = store.import_rootfs("myroot", str(folder))
    assert second.id != image.id and second.config == {}
    assert (Path(second.rootfs) / "etc" / "hostname").read_text() == "changed\n"
    assert not os.path.exists(image.rootfs)
    assert image_dirs(store) == [second.id.split(":", 1)[1]]

    with pytest.raises(EngineError, match="not a directory"):
        store.import_rootfs("nope", str(tmp_path / "missing"))


def test_missing_images_are_not_found(store: ImageStore, tmp_path: Path) -> None:
    missing = tmp_path / "missing.tar"
    with pytest.raises(NotFoundError, match=rf"^No such image: oci-archive:{missing} "):
        store.ensure(f"oci-archive:{missing}")
    name = "composer-lxc-test-never-there:1"
    with pytest.raises(NotFoundError) as caught:
        store.ensure(name)
    message = str(caught.value)
    assert message.startswith(f"No such image: {name} (not in the store {store.root}")
    assert "\n" not in message and "never pulled" in message
    assert store.list() == []


def docker_has_busybox() -> tuple[str, str] | None:
    """(socket, image ID) of busybox:latest on a local Docker Engine, read only."""
    sock = images._docker_answering()
    if sock is None:
        return None
    status, body = images._docker_get(sock, "/images/busybox:latest/json")
    if status != 200:
        return None
    return sock, str(json.loads(body)["Id"])


def test_ensure_from_docker_engine(store: ImageStore) -> None:
    found = docker_has_busybox()
    if found is None:
        pytest.skip("no Docker Engine with busybox:latest answers here")
    _, engine_id = found
    image = store.ensure("busybox")
    assert image.reference == "busybox:latest"
    assert image.id == engine_id  # the ID docker shows
    assert os.access(Path(image.rootfs) / "bin" / "busybox", os.X_OK)
    assert (Path(image.rootfs) / "bin" / "sh").exists() or \
        (Path(image.rootfs) / "bin" / "sh").is_symlink()
    assert image.config.get("Cmd") == ["sh"]
    assert store.ensure("docker.io/library/busybox:latest").rootfs == image.rootfs
    assert store.lookup(engine_id[7:19]) is not None
