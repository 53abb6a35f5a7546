#!/bin/sh
# Make sure Podman is installed, works on this machine, and serves its
# Docker-compatible API on a socket the engine tests can use; one line of report.
#
#   scripts/engine/ensure-podman.sh            (socket: /run/podman/podman.sock)
#   scripts/engine/ensure-podman.sh --stop     (stop the service this script started)
#
# As root on Debian, installs podman and catatonit (`init: true`) when missing.
# Containers fail to start on this kind of machine with Podman's default
# ulimits: a drop-in /etc/containers/containers.conf.d/50-composer.conf sets
# `default_ulimits = []` unless a containers.conf already says something about
# them (an admin's file is never changed). Then starts `podman system service`
# on $COMPOSER_PODMAN_TEST_SOCKET (default /run/podman/podman.sock) unless
# something answers there, detached, its pid in <socket>.pid and its log in
# $COMPOSER_PODMAN_LOG (default /var/log/composer-podman.log). As a rootless
# user (ensure-rootless.sh prepares one) it installs nothing: give it a socket
# and a log of the user's. composer itself needs no socket (it starts a
# private service when none answers); the tests' fixtures talk to the engine
# through one. Quick and silent-but-one-line when everything is there.
set -eu

SOCKET=${COMPOSER_PODMAN_TEST_SOCKET:-/run/podman/podman.sock}
PIDFILE=$SOCKET.pid
LOG=${COMPOSER_PODMAN_LOG:-/var/log/composer-podman.log}

say() { echo "podman: $*"; }
fail() { echo "podman: $*" >&2; exit 1; }

answers() {
    # GET /_ping over the socket: curl when present, else python3.
    if command -v curl >/dev/null 2>&1; then
        curl -fsS --max-time 2 --unix-socket "$SOCKET" http://podman/_ping >/dev/null 2>&1
    else
        python3 - "$SOCKET" <<'PY' >/dev/null 2>&1
import socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(2); s.connect(sys.argv[1])
s.sendall(b"GET /_ping HTTP/1.0\r\nHost: p\r\n\r\n")
assert s.recv(64).split()[1] == b"200"
PY
    fi
}

if [ "${1:-}" = "--stop" ]; then
    if [ -f "$PIDFILE" ] && kill "$(cat "$PIDFILE")" 2>/dev/null; then
        rm -f "$PIDFILE"
        say "stopped the service on $SOCKET"
    fi
    exit 0
fi

installed=""
if ! command -v podman >/dev/null 2>&1 || ! command -v catatonit >/dev/null 2>&1; then
    [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
        || fail "podman (and catatonit) missing; install them (Debian: apt-get install podman catatonit)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q podman catatonit >/dev/null 2>&1 \
        || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q podman catatonit >/dev/null 2>&1; } \
        || fail "apt-get install podman catatonit failed"
    installed="installed $(podman --version | awk '{print $3}'); "
fi

configured=""
if ! grep -qs default_ulimits /etc/containers/containers.conf /etc/containers/containers.conf.d/*.conf \
        "${XDG_CONFIG_HOME:-${HOME:-/nonexistent}/.config}/containers/containers.conf"; then
    [ "$(id -u)" = 0 ] || fail "containers need default_ulimits = [] in a containers.conf here (run as root)"
    mkdir -p /etc/containers/containers.conf.d
    printf '[containers]\n# Set by composer'"'"'s scripts/engine/ensure-podman.sh: the default ulimits\n# cannot be applied on this machine, and containers fail to start.\ndefault_ulimits = []\n' \
        > /etc/containers/containers.conf.d/50-composer.conf
    configured="wrote containers.conf.d/50-composer.conf; "
fi

if answers; then
    say "${installed}${configured}$(podman --version | awk '{print $3}') answers at unix://$SOCKET"
    exit 0
fi
mkdir -p "$(dirname "$SOCKET")"
rm -f "$SOCKET"
# setsid + nohup: the service outlives this script (and make), until --stop.
env -u CONTAINER_HOST -u CONTAINER_CONNECTION setsid nohup \
    podman system service --time=0 "unix://$SOCKET" >>"$LOG" 2>&1 </dev/null &
echo $! > "$PIDFILE"
tries=0
until answers; do
    tries=$((tries + 1))
    [ "$tries" -le 150 ] || fail "podman system service did not answer at $SOCKET (log: $LOG)"
    sleep 0.2
done
say "${installed}${configured}started $(podman --version | awk '{print $3}') at unix://$SOCKET; log: $LOG"
