#!/bin/sh
# Make sure a user can run rootless Podman here, with the test images in that
# user's own storage; one line of report.
#
#   scripts/engine/ensure-rootless.sh [USER]      (default: $COMPOSER_ROOTLESS_USER, else podrl)
#
# As root on Debian:
# - installs what rootless Podman needs when missing: podman and catatonit (as
#   ensure-podman.sh does), uidmap (newuidmap/newgidmap), slirp4netns (the
#   network) and fuse-overlayfs (the storage; without it Podman falls back to
#   vfs, which copies every image per container);
# - creates USER (no name with "composer" in it: a test looks for that word in
#   pytest's output, which shows paths) and gives it subordinate uid and gid
#   ranges (/etc/subuid, /etc/subgid) when it has none;
# - makes /dev/net/tun and /dev/fuse usable by the user (chmod 666, Debian's
#   usual mode; some machines have them 0600);
# - creates its runtime folder /run/user/UID (mode 700, the user's), which no
#   login session makes here: rootless Podman keeps its run root there, and
#   netavark its IPAM database;
# - writes ~USER/.config/containers/containers.conf with `default_ulimits = []`
#   (containers fail to start with Podman's default ulimits on this kind of
#   machine, see ensure-podman.sh) unless that file says something about them;
# - puts the images of images.txt into the user's storage: copied from root's
#   Podman storage (podman save | podman load) when root has them, then
#   ensure-images.sh run as the user (no registry needed: it builds busybox
#   offline from busybox-static).
# Then checks that `podman info` works as the user. Quick and
# silent-but-one-line when everything is there; fails with a one-line reason.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
user=${1:-${COMPOSER_ROOTLESS_USER:-podrl}}

say() { echo "rootless: $*"; }
fail() { echo "rootless: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || fail "run as root (it creates the user $user and sets up devices)"
case $user in
    *composer*) fail "the user's name must not contain 'composer' (a test looks for it in paths)" ;;
esac

done_=""
did() { done_="$done_$*; "; }

# 1. Packages.
need=""
command -v podman >/dev/null 2>&1 || need="$need podman"
command -v catatonit >/dev/null 2>&1 || [ -x /usr/libexec/podman/catatonit ] || need="$need catatonit"
command -v newuidmap >/dev/null 2>&1 || need="$need uidmap"
command -v slirp4netns >/dev/null 2>&1 || need="$need slirp4netns"
command -v fuse-overlayfs >/dev/null 2>&1 || need="$need fuse-overlayfs"
command -v rsync >/dev/null 2>&1 || need="$need rsync"  # run-rootless.sh copies the checkout
if [ -n "$need" ]; then
    command -v apt-get >/dev/null 2>&1 || fail "missing:$need (and no apt-get to install them)"
    export DEBIAN_FRONTEND=noninteractive
    # shellcheck disable=SC2086
    apt-get install -y -q $need >/dev/null 2>&1 \
        || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q $need >/dev/null 2>&1; } \
        || fail "apt-get install$need failed"
    did "installed$need"
fi

# 2. The user and its subordinate ids.
if ! id -u "$user" >/dev/null 2>&1; then
    useradd --create-home --shell /bin/sh "$user" || fail "useradd $user failed"
    did "created user $user"
fi
uid=$(id -u "$user")
gid=$(id -g "$user")
home=$(getent passwd "$user" | cut -d: -f6)
[ -d "$home" ] || { mkdir -p "$home" && chown "$uid:$gid" "$home"; }

# A free range of 65536 ids after every range already given (at least 100000).
next_range() {
    awk -F: 'BEGIN { top = 100000 } NF >= 3 && $2 + $3 > top { top = $2 + $3 } END { print top }' \
        /etc/subuid /etc/subgid 2>/dev/null || echo 100000
}
touch /etc/subuid /etc/subgid
subids=""
if ! grep -q "^$user:\|^$uid:" /etc/subuid; then
    start=$(next_range)
    usermod --add-subuids "$start-$((start + 65535))" "$user" || fail "usermod --add-subuids failed"
    subids="subuids"
fi
if ! grep -q "^$user:\|^$uid:" /etc/subgid; then
    start=$(next_range)
    usermod --add-subgids "$start-$((start + 65535))" "$user" || fail "usermod --add-subgids failed"
    subids="${subids:+$subids and }subgids"
fi
[ -z "$subids" ] || did "gave $user $subids"

# Runs a command as the user, in its home, with an environment of its own (none of
# root's DOCKER_HOST or CONTAINER_HOST).
as_user() {
    (cd "$home" && runuser -u "$user" -- env -i HOME="$home" USER="$user" LOGNAME="$user" \
        PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin LANG="${LANG:-C.UTF-8}" \
        XDG_RUNTIME_DIR="/run/user/$uid" "$@")
}

# 3. Devices: slirp4netns opens /dev/net/tun, fuse-overlayfs /dev/fuse, as the user.
for dev in /dev/net/tun /dev/fuse; do
    [ -c "$dev" ] || fail "$dev is missing (rootless networking and storage need it)"
    if ! as_user sh -c "test -r $dev && test -w $dev"; then
        chmod 666 "$dev" || fail "cannot chmod 666 $dev"
        did "chmod 666 $dev"
    fi
done

# 4. The runtime folder.
run=/run/user/$uid
if [ ! -d "$run" ] || [ "$(stat -c %u:%a "$run")" != "$uid:700" ]; then
    mkdir -p "$run"
    chown "$uid:$gid" "$run"
    chmod 700 "$run"
    did "made $run"
fi

# 5. The user's containers.conf.
conf=$home/.config/containers/containers.conf
if ! grep -qs default_ulimits "$conf"; then
    as_user mkdir -p "$home/.config/containers"
    if [ -s "$conf" ] && grep -q '^\[containers\]' "$conf"; then
        # Under the user's own [containers] table, keeping the rest as it is.
        as_user sed -i '/^\[containers\]/a default_ulimits = []' "$conf"
    else
        printf '[containers]\n# Set by composer'"'"'s scripts/engine/ensure-rootless.sh: the default ulimits\n# cannot be applied on this machine, and containers fail to start.\ndefault_ulimits = []\n' \
            | as_user sh -c "cat >> '$conf'"
    fi
    did "wrote $conf"
fi

# 6. The user's storage.conf: Podman 4's own choice for a rootless user here is
# vfs (a full copy of every image per container), though the kernel's overlay
# works without root; where it does not, fuse-overlayfs does it. Only before the
# user's storage is first made (a driver cannot change under existing storage).
storage=$home/.config/containers/storage.conf
if ! grep -qs '^[[:space:]]*driver' "$storage" && [ ! -e "$home/.local/share/containers/storage" ]; then
    probe=$(as_user mktemp -d)
    if [ "$(as_user podman --root "$probe/root" --runroot "$probe/run" --storage-driver overlay \
            info --format '{{.Store.GraphDriverName}}' 2>/dev/null)" = overlay ]; then
        how="the kernel's overlay"
        options=""
    else
        how="overlay through fuse-overlayfs"
        options='[storage.options.overlay]\nmount_program = "'$(command -v fuse-overlayfs)'"\n'
    fi
    # (Files the probe made under subordinate ids: removed inside its own store.)
    as_user podman --root "$probe/root" --runroot "$probe/run" --storage-driver overlay \
        unshare rm -rf "$probe" >/dev/null 2>&1 || true
    rm -rf "$probe"
    printf '[storage]\n# Set by composer'"'"'s scripts/engine/ensure-rootless.sh (not vfs).\ndriver = "overlay"\n'"$options" \
        | as_user sh -c "cat >> '$storage'"
    did "storage: $how"
fi

# 7. Rootless Podman works for the user.
as_user podman info >/dev/null 2>"$run/.ensure-rootless.err" \
    || fail "podman info fails as $user: $(tail -n 1 "$run/.ensure-rootless.err")"
rm -f "$run/.ensure-rootless.err"

# 8. Images: root's copies first (no registry needed), then ensure-images.sh as the user.
wanted=$(grep -v '^[[:space:]]*#' "$here/images.txt" | tr -s ' \t\n' ' ')
qualified() {
    case $1 in
        */*/*|localhost/*|*.*/*|*:*/*) echo "$1" ;;
        */*) echo "docker.io/$1" ;;
        *) echo "docker.io/library/$1" ;;
    esac
}
copied=""
for image in $wanted; do
    full=$(qualified "$image")
    as_user podman image exists "$full" && continue
    podman image exists "$full" 2>/dev/null || continue
    podman save -q "$full" | as_user podman load -q >/dev/null 2>&1 \
        && as_user podman image exists "$full" && copied="$copied $image"
done
[ -z "$copied" ] || did "copied$copied from root's storage"
# The script on stdin: the checkout may not be readable by the user.
# shellcheck disable=SC2086
images=$(as_user env COMPOSER_IMAGES_CLI=podman sh -s -- $wanted <"$here/ensure-images.sh" 2>&1) \
    || fail "images for $user: $images"
case $images in
    *"all present"*) ;;
    *) did "${images#images: }" ;;
esac

version=$(as_user podman version --format '{{.Client.Version}}' 2>/dev/null || echo "?")
cgroups=$(as_user podman info --format '{{.Host.CgroupsVersion}}' 2>/dev/null || echo "?")
say "${done_}$user (uid $uid) runs rootless Podman $version (cgroups $cgroups), runtime dir $run, images present"
