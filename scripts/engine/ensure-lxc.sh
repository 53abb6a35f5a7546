#!/bin/sh
# Make sure LXC and the tools of composer's LXC backend are installed; one line of report.
#
#   scripts/engine/ensure-lxc.sh            (install what is missing, make /var/lib/composer-lxc)
#   scripts/engine/ensure-lxc.sh --stop     (stop composer's running LXC containers)
#
# As root on Debian, installs (apt-get, only when missing) lxc, lxc-dev (to build
# the `lxc` Python binding), skopeo and umoci (images: copied from a local engine
# or an archive into an OCI layout, then unpacked), busybox-static (the test
# images are built from it) and iptables (published ports). Makes sure
# /var/lib/composer-lxc exists (images/ and containers/ are made by composer).
# When $VENV names a virtualenv where `import lxc` fails, pip-installs the `lxc`
# binding there. --stop removes nothing persistent: it stops (lxc-stop -k) every
# running container under composer's lxcpath, $COMPOSER_LXC_PATH (default
# /var/lib/composer-lxc/containers). Quick and silent-but-one-line when
# everything is there.
set -eu

ROOT=/var/lib/composer-lxc
LXCPATH=${COMPOSER_LXC_PATH:-$ROOT/containers}
PACKAGES="lxc lxc-dev skopeo umoci busybox-static iptables"

say() { echo "lxc: $*"; }
fail() { echo "lxc: $*" >&2; exit 1; }

if [ "${1:-}" = "--stop" ]; then
    stopped=""
    if [ -d "$LXCPATH" ] && command -v lxc-ls >/dev/null 2>&1; then
        for name in $(lxc-ls -P "$LXCPATH" --running 2>/dev/null); do
            lxc-stop -k -P "$LXCPATH" -n "$name" >/dev/null 2>&1 \
                || fail "lxc-stop -k -P $LXCPATH -n $name failed"
            stopped="$stopped $name"
        done
    fi
    if [ -n "$stopped" ]; then
        say "stopped$stopped (in $LXCPATH)"
    else
        say "nothing running in $LXCPATH"
    fi
    exit 0
fi

# A package counts as installed when dpkg says so (lxc-dev and busybox-static
# have no command of their own to look for).
installed_pkg() { dpkg-query -W -f '${Status}' "$1" 2>/dev/null | grep -q "ok installed"; }

missing=""
if command -v dpkg-query >/dev/null 2>&1; then
    for pkg in $PACKAGES; do
        installed_pkg "$pkg" || missing="$missing $pkg"
    done
else
    for cmd in lxc-start skopeo umoci iptables; do
        command -v "$cmd" >/dev/null 2>&1 || missing="$missing $cmd"
    done
fi

installed=""
if [ -n "$missing" ]; then
    [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
        || fail "missing:$missing; install them (Debian: apt-get install$missing)"
    export DEBIAN_FRONTEND=noninteractive
    # shellcheck disable=SC2086  # one word per package
    apt-get install -y -q $missing >/dev/null 2>&1 \
        || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q $missing >/dev/null 2>&1; } \
        || fail "apt-get install$missing failed"
    installed="installed$missing; "
fi

for cmd in lxc-start skopeo umoci; do
    command -v "$cmd" >/dev/null 2>&1 || fail "$cmd is missing after installing$missing"
done

if [ ! -d "$ROOT" ]; then
    [ "$(id -u)" = 0 ] || fail "$ROOT is missing (run as root to make it)"
    mkdir -p "$ROOT"
    chmod 0711 "$ROOT"
fi

if [ -n "${VENV:-}" ]; then
    [ -x "$VENV/bin/python" ] || fail "VENV=$VENV is not a virtualenv (no bin/python)"
    if ! "$VENV/bin/python" -c "import lxc" >/dev/null 2>&1; then
        "$VENV/bin/python" -m pip install -q lxc >/dev/null 2>&1 \
            || fail "pip install lxc into $VENV failed (needs lxc-dev, a C compiler and python3-dev)"
        "$VENV/bin/python" -c "import lxc" >/dev/null 2>&1 \
            || fail "import lxc fails in $VENV after pip install lxc"
        installed="${installed}pip-installed lxc into $VENV; "
    fi
fi

# The test image, busybox:latest, in the LXC image store: imported from a local
# Docker or Podman store when one has it, else made offline from busybox-static
# (no registry is needed, none is asked).
if [ -n "${VENV:-}" ]; then
    "$VENV/bin/python" - "$ROOT/images" <<'PYTHON' || fail "could not provide busybox:latest"
import os, shutil, subprocess, sys, tempfile
from composer.backends.lxc.images import ImageStore
from composer.errors import NotFoundError

store = ImageStore(sys.argv[1])
if store.lookup("busybox:latest") is None:
    try:
        store.ensure("busybox:latest")
    except NotFoundError:
        with tempfile.TemporaryDirectory() as root:
            for sub in ("bin", "etc", "root", "tmp", "var", "proc", "sys", "dev"):
                os.makedirs(os.path.join(root, sub))
            os.chmod(os.path.join(root, "tmp"), 0o1777)
            shutil.copy2("/bin/busybox", os.path.join(root, "bin", "busybox"))
            applets = subprocess.run(["/bin/busybox", "--list"], capture_output=True,
                                     text=True, check=True).stdout.split()
            for applet in applets:
                if applet != "busybox":
                    os.symlink("busybox", os.path.join(root, "bin", applet))
            with open(os.path.join(root, "etc", "passwd"), "w") as handle:
                handle.write("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n")
            with open(os.path.join(root, "etc", "group"), "w") as handle:
                handle.write("root:x:0:\nnogroup:x:65534:\n")
            store.import_rootfs("busybox:latest", root, {
                "Cmd": ["sh"], "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]})
PYTHON
fi

lxc_version=$(lxc-start --version 2>/dev/null | head -n 1)
skopeo_version=$(skopeo --version 2>/dev/null | awk '{print $3}')
umoci_version=$(umoci --version 2>/dev/null | awk '{print $3}' | sed 's/+.*//')
say "${installed}${lxc_version:-?} ready (skopeo ${skopeo_version:-?}, umoci ${umoci_version:-?})"
