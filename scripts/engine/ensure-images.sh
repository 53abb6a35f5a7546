#!/bin/sh
# Make sure the images the samples and tests use exist on the engine; one line of report.
#
#   scripts/engine/ensure-images.sh [IMAGE...]     (default: the names in images.txt)
#
# For each missing image: `docker pull`, bounded by $COMPOSER_PULL_TIMEOUT seconds
# (default 20). Names still missing that are busybox images are then built
# offline, FROM scratch, out of Debian's busybox-static: /bin/busybox and its
# applets as symlinks in /bin, /etc/passwd and /etc/group (root, nobody and the
# usual system groups), /root, /home, /tmp (mode 1777), CMD ["sh"]; the one
# image is tagged with every missing name. Quick and silent-but-one-line when
# everything is there. Needs the docker CLI and a reachable engine
# (ensure-engine.sh); DOCKER_HOST is honoured. With COMPOSER_IMAGES_CLI=podman the
# images go to Podman's storage instead, through the podman CLI (no socket
# needed), and a missing image is first loaded from Docker's when a Docker engine
# answers and has it.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
PULL_TIMEOUT=${COMPOSER_PULL_TIMEOUT:-20}

say() { echo "images: $*"; }
fail() { echo "images: $*" >&2; exit 1; }

CLI=${COMPOSER_IMAGES_CLI:-docker}
case $CLI in
    docker) command -v docker >/dev/null 2>&1 \
                || fail "the docker CLI is missing (Debian: apt-get install docker.io)" ;;
    podman) command -v podman >/dev/null 2>&1 \
                || fail "podman is missing (run scripts/engine/ensure-podman.sh)" ;;
    *) fail "COMPOSER_IMAGES_CLI must be docker or podman, not $CLI" ;;
esac

if [ "$#" -gt 0 ]; then
    wanted=$*
else
    wanted=$(grep -v '^[[:space:]]*#' "$here/images.txt" | tr -s ' \t\n' ' ')
fi

# Podman names an image it imports without a registry localhost/NAME; Docker's
# docker.io/library/NAME is what a pull would have given (and what `busybox`
# resolves to on both engines).
qualified() {
    case $1 in
        */*/*|localhost/*|*.*/*|*:*/*) echo "$1" ;;
        */*) echo "docker.io/$1" ;;
        *) echo "docker.io/library/$1" ;;
    esac
}
# Present under the name a pull gives (on Podman: qualified, not localhost/NAME).
present() {
    if [ "$CLI" = podman ]; then
        podman image inspect "$(qualified "$1")" >/dev/null 2>&1
    else
        docker image inspect "$1" >/dev/null 2>&1
    fi
}

if [ "$CLI" = docker ]; then
    docker version --format '{{.Server.Version}}' >/dev/null 2>&1 \
        || fail "no engine answers at ${DOCKER_HOST:-unix:///var/run/docker.sock} (run scripts/engine/ensure-engine.sh)"
else
    podman info >/dev/null 2>&1 || fail "podman does not work here (podman info fails)"
fi

missing=""
for image in $wanted; do
    present "$image" || missing="$missing $image"
done
if [ -z "$missing" ]; then
    say "all present ($(echo $wanted | tr ' ' ','))"
    exit 0
fi

# A docker-archive Podman loads is named localhost/NAME too: renamed as pulled.
requalify() {
    full=$(qualified "$1")
    [ "$full" = "$1" ] && return 0
    podman image exists "localhost/$1" || return 0
    podman tag "localhost/$1" "$full" && podman untag "localhost/$1" "localhost/$1"
}

pulled=""
still=""
for image in $missing; do
    if [ "$CLI" = podman ] && command -v docker >/dev/null 2>&1 \
            && docker image inspect "$image" >/dev/null 2>&1 \
            && docker save "$image" | podman load -q >/dev/null 2>&1 \
            && requalify "$image" && present "$image"; then
        pulled="$pulled $image(from-docker)"
    elif timeout "$PULL_TIMEOUT" "$CLI" pull -q "$image" >/dev/null 2>&1 && present "$image"; then
        pulled="$pulled $image"
    else
        still="$still $image"
    fi
done
if [ -z "$still" ]; then
    say "pulled$pulled"
    exit 0
fi

for image in $still; do
    case ${image%%:*} in
        busybox|*/busybox) ;;
        *) fail "cannot pull $image and cannot build it offline (only busybox images are built)" ;;
    esac
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A static busybox: the installed busybox-static, else its .deb unpacked here
# (the host keeps its own busybox), else installed as root.
is_static() { [ -x "$1" ] && ! ldd "$1" >/dev/null 2>&1; }
busybox=""
if dpkg -s busybox-static >/dev/null 2>&1 && is_static /bin/busybox; then
    busybox=/bin/busybox
elif command -v apt-get >/dev/null 2>&1; then
    if ! (cd "$work" && apt-get download busybox-static >/dev/null 2>&1); then
        [ "$(id -u)" = 0 ] && apt-get update -q >/dev/null 2>&1 || true
        (cd "$work" && apt-get download busybox-static >/dev/null 2>&1) || true
    fi
    deb=$(ls "$work"/busybox-static_*.deb 2>/dev/null | head -n 1 || true)
    if [ -n "$deb" ]; then
        dpkg-deb -x "$deb" "$work/deb"
        is_static "$work/deb/bin/busybox" && busybox=$work/deb/bin/busybox
    fi
    if [ -z "$busybox" ] && [ "$(id -u)" = 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q busybox-static >/dev/null 2>&1 \
            && is_static /bin/busybox && busybox=/bin/busybox
    fi
fi
[ -n "$busybox" ] || fail "cannot pull$still and cannot get Debian's busybox-static to build it offline"

root=$work/rootfs
mkdir -p "$root/bin" "$root/etc" "$root/root" "$root/home" "$root/tmp" "$root/var" \
    "$root/usr/bin" "$root/usr/sbin" "$root/sbin"
chmod 1777 "$root/tmp"
chmod 700 "$root/root"
cp "$busybox" "$root/bin/busybox"
for applet in $("$busybox" --list); do
    [ "$applet" = busybox ] || ln -sf /bin/busybox "$root/bin/$applet"
done
cat >"$root/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
PASSWD
cat >"$root/etc/group" <<'GROUP'
root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
wheel:x:10:
audio:x:29:
www-data:x:33:
video:x:44:
users:x:100:
nogroup:x:65534:
GROUP
version=$("$busybox" 2>/dev/null | head -n 1 | awk '{print $2}')
first=""
for image in $still; do
    [ "$CLI" = podman ] && image=$(qualified "$image")
    if [ -z "$first" ]; then
        # `docker import` of the root filesystem is FROM scratch with one layer,
        # and needs no builder (BuildKit or legacy) on the engine.
        tar -C "$root" -cf - . | "$CLI" import \
            --change 'CMD ["sh"]' \
            --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
            - "$image" >/dev/null 2>"$work/import.log" \
            || fail "importing $image: $(tail -n 1 "$work/import.log")"
        first=$image
    else
        "$CLI" tag "$first" "$image"
    fi
done
say "${pulled:+pulled$pulled; }built$still offline from Debian's busybox-static ${version:-}"
