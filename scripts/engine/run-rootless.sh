#!/bin/sh
# Run a command of this checkout as a rootless Podman user, against a rootless
# `podman system service` started for it and stopped afterwards.
#
#   scripts/engine/run-rootless.sh USER COMMAND [ARG...]
#   (make test-podman-rootless: USER=podrl, COMMAND=python -m pytest ...)
#
# As root, after ensure-rootless.sh USER. The user cannot write this checkout
# (nor, under /root, read it): it is copied to ~USER/checkout (rsync; the
# .gitignore'd files are left out, and the copy's own .venv is kept between runs),
# where the user makes its own venv with the project's Makefile (`make install`:
# scripts/ensure-venv.sh, then pip). Then, as the user, with an environment of its
# own (HOME, XDG_RUNTIME_DIR=/run/user/UID, PATH with the venv's bin first; CI
# and pip's and the proxies' settings passed on, nothing else of root's):
# ensure-podman.sh starts the service on $XDG_RUNTIME_DIR/podman-tests/podman.sock
# (log: ~USER/podman-service.log), COMMAND runs in the copy with
# DOCKER_HOST=unix://<that socket> and COMPOSER_TEST_ENGINE=podman, and the
# service is stopped whatever COMMAND did. Exits with COMMAND's status.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

fail() { echo "rootless: $*" >&2; exit 1; }

[ "$#" -ge 2 ] || fail "usage: run-rootless.sh USER COMMAND [ARG...]"
user=$1
shift
[ "$(id -u)" = 0 ] || fail "run as root (it runs the command as $user)"
id -u "$user" >/dev/null 2>&1 || fail "no user $user (run scripts/engine/ensure-rootless.sh $user)"
command -v rsync >/dev/null 2>&1 || fail "rsync is missing (Debian: apt-get install rsync)"
uid=$(id -u "$user")
home=$(getent passwd "$user" | cut -d: -f6)
run=/run/user/$uid
[ -d "$run" ] || fail "no $run (run scripts/engine/ensure-rootless.sh $user)"
copy=$home/checkout

# The copy: what git would keep (no venv, caches, build output), owned by the user.
rsync -a --delete --chown="$user:$(id -gn "$user")" --exclude=/.git --exclude=/.hypothesis \
    --filter=':- .gitignore' "$repo/" "$copy/"

# What is passed on from root's environment: CI (tests fail instead of skipping
# there), pip's settings and the proxies (the user's venv is installed from them).
passed=$(env | grep -E '^(CI|PIP_[A-Z_]*|https?_proxy|HTTPS?_PROXY|no_proxy|NO_PROXY)=' || true)

# Not Podman's usual rootless socket ($XDG_RUNTIME_DIR/podman/podman.sock): composer
# finds that one by itself, and tests/podman need a user with no service running
# (composer then starts a private one).
socket=$run/podman-tests/podman.sock
# The user's part: the venv, the service, the command, the service stopped.
# shellcheck disable=SC2016
script='
set -u
cd "$COPY"
make --no-print-directory install >/dev/null || { echo "rootless: make install failed" >&2; exit 1; }
export COMPOSER_PODMAN_TEST_SOCKET="$SOCKET" COMPOSER_PODMAN_LOG="$HOME/podman-service.log"
sh scripts/engine/ensure-podman.sh || exit 1
trap "sh scripts/engine/ensure-podman.sh --stop" EXIT
trap "exit 130" INT TERM
status=0
env PATH="$COPY/.venv/bin:$PATH" DOCKER_HOST="unix://$SOCKET" COMPOSER_TEST_ENGINE=podman \
    "$@" || status=$?
exit "$status"
'
cd "$home"
# shellcheck disable=SC2086
IFS='
'
exec runuser -u "$user" -- env -i HOME="$home" USER="$user" LOGNAME="$user" \
    PATH=/usr/local/bin:/usr/bin:/bin LANG="${LANG:-C.UTF-8}" TERM="${TERM:-dumb}" \
    XDG_RUNTIME_DIR="$run" COPY="$copy" SOCKET="$socket" $passed \
    sh -c "$script" sh "$@"
