#!/bin/sh
# Make sure a Docker Engine answers, and say in one line what was done.
#
#   scripts/engine/ensure-engine.sh
#
# 1. DOCKER_HOST set: use it if it answers, else fail (it names the engine wanted).
# 2. The default socket answers: nothing to do.
# 3. Otherwise, as root on Debian: install docker.io if dockerd is missing
#    (apt-get update only when the first install attempt fails), start dockerd in
#    the background (log: $COMPOSER_DOCKERD_LOG, default /var/log/composer-dockerd.log)
#    and wait until it answers (at most $COMPOSER_ENGINE_WAIT seconds, default 60).
# Exits non-zero with a one-line reason when none of this is possible.
#
# For tests of this script: COMPOSER_ENGINE_SOCKET puts the engine on another
# socket and COMPOSER_DOCKERD_ARGS adds dockerd arguments (a second daemon needs
# its own --data-root, --exec-root, --pidfile and --bridge=none).
set -eu

SOCKET=${COMPOSER_ENGINE_SOCKET:-/var/run/docker.sock}
DEFAULT_HOST="unix://$SOCKET"
LOG=${COMPOSER_DOCKERD_LOG:-/var/log/composer-dockerd.log}
WAIT=${COMPOSER_ENGINE_WAIT:-60}

say() { echo "engine: $*"; }
fail() { echo "engine: $*" >&2; exit 1; }

# answers HOST: true when GET /_ping on HOST says OK (docker CLI, else curl, else python3).
answers() {
    host=$1
    if command -v docker >/dev/null 2>&1; then
        DOCKER_HOST=$host timeout 10 docker version --format '{{.Server.Version}}' \
            >/dev/null 2>&1 && return 0
    fi
    case $host in
        unix://*) path=${host#unix://}; [ -S "$path" ] || return 1 ;;
    esac
    if command -v curl >/dev/null 2>&1; then
        case $host in
            unix://*) curl -fsS -m 5 --unix-socket "${host#unix://}" http://localhost/_ping \
                          >/dev/null 2>&1 && return 0 ;;
            tcp://*) curl -fsS -m 5 "http://${host#tcp://}/_ping" >/dev/null 2>&1 && return 0 ;;
        esac
    fi
    if command -v python3 >/dev/null 2>&1; then
        python3 - "$host" <<'PY' >/dev/null 2>&1 && return 0
import socket, sys
host = sys.argv[1]
if host.startswith("unix://"):
    s = socket.socket(socket.AF_UNIX); s.connect(host[7:])
else:
    h, _, p = host.split("://", 1)[-1].partition(":"); s = socket.create_connection((h, int(p or 2375)), 5)
s.settimeout(5)
s.sendall(b"GET /_ping HTTP/1.0\r\nHost: localhost\r\n\r\n")
sys.exit(0 if s.recv(64).split(b" ")[1] == b"200" else 1)
PY
    fi
    return 1
}

version_of() {
    DOCKER_HOST=$1 docker version --format '{{.Server.Version}}' 2>/dev/null || echo "API"
}

if [ -n "${DOCKER_HOST:-}" ]; then
    if answers "$DOCKER_HOST"; then
        say "using $DOCKER_HOST ($(version_of "$DOCKER_HOST")), from DOCKER_HOST"
        exit 0
    fi
    fail "no engine answers at DOCKER_HOST=$DOCKER_HOST; start it there, or unset DOCKER_HOST to use a local dockerd"
fi

if answers "$DEFAULT_HOST"; then
    say "already running at $DEFAULT_HOST ($(version_of "$DEFAULT_HOST"))"
    exit 0
fi

if [ "$(id -u)" != 0 ]; then
    fail "no engine at $DEFAULT_HOST and not root: start dockerd (e.g. 'sudo systemctl start docker'), or set DOCKER_HOST"
fi

installed=""
if ! command -v dockerd >/dev/null 2>&1; then
    command -v apt-get >/dev/null 2>&1 \
        || fail "no engine at $DEFAULT_HOST and no dockerd; install Docker Engine (not a Debian system: apt-get missing)"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -q docker.io >/dev/null 2>&1; then
        apt-get update -q >/dev/null 2>&1 || true
        apt-get install -y -q docker.io >/dev/null 2>&1 \
            || fail "could not install docker.io with apt-get (no network or repository?)"
    fi
    installed="installed docker.io, "
fi

# A dockerd of ours already runs (maybe still starting): its pid file, else pgrep.
running() {
    [ -n "${COMPOSER_ENGINE_SOCKET:-}" ] && return 1
    if [ -s /var/run/docker.pid ] && kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
        return 0
    fi
    pgrep -x dockerd >/dev/null 2>&1
}

# dockerd may already be starting (or stuck): only start one when none runs.
if ! running; then
    mkdir -p "$(dirname "$LOG")"
    if [ -z "${COMPOSER_ENGINE_SOCKET:-}" ] && [ -d /run/systemd/system ] \
            && command -v systemctl >/dev/null 2>&1; then
        systemctl start docker >/dev/null 2>&1 || true
    fi
    if ! running; then
        # setsid: the daemon outlives this script and the terminal it ran in.
        # shellcheck disable=SC2086 # COMPOSER_DOCKERD_ARGS is a list of arguments
        setsid nohup dockerd -H "$DEFAULT_HOST" ${COMPOSER_DOCKERD_ARGS:-} \
            >>"$LOG" 2>&1 </dev/null &
    fi
fi

# Poll every half second, at most $WAIT seconds.
tries=$((WAIT * 2))
while [ "$tries" -gt 0 ]; do
    if answers "$DEFAULT_HOST"; then
        say "${installed}started dockerd at $DEFAULT_HOST ($(version_of "$DEFAULT_HOST")); log: $LOG"
        exit 0
    fi
    sleep 0.5
    tries=$((tries - 1))
done
tail -n 5 "$LOG" >&2 2>/dev/null || true
fail "dockerd did not answer at $DEFAULT_HOST within ${WAIT}s; see $LOG"
