#!/bin/sh
# Test swarm nodes: Docker engines of their own, each in its own network
# namespace, joined in one swarm; one line of report per node.
#
#   scripts/engine/ensure-swarm.sh [NODES]   (default 1: a single-node swarm)
#   scripts/engine/ensure-swarm.sh --stop    (leave the swarm, stop every node)
#
# Node N (1, 2...) is a dockerd in the network namespace cswarm-N, on a veth
# to the host bridge cswarm0 (10.231.0.1/24) at 10.231.0.(10+N); its data root
# is /var/lib/composer-swarm/N, its socket /run/composer-swarm/N/docker.sock.
# Node 1 is the manager (`docker swarm init`), the others join it as workers.
# The machine's own dockerd (/var/run/docker.sock, the other tests' engine) is
# never put in swarm mode. Node 1 gets the test images from
# scripts/engine/ensure-images.sh (pulled, or built offline); the other nodes
# get them from node 1 with `docker save | docker load` (no registry here).
# As root (network namespaces, bridges); installs docker.io when dockerd is
# missing. Quick when the nodes already run.
set -eu

NODES=${1:-1}
BASE=/run/composer-swarm
DATA=/var/lib/composer-swarm
BRIDGE=cswarm0
NET=10.231.0
HERE=$(cd "$(dirname "$0")" && pwd)

say() { echo "swarm: $*"; }
fail() { echo "swarm: $*" >&2; exit 1; }

sock() { echo "$BASE/$1/docker.sock"; }
dk() { n=$1; shift; DOCKER_HOST="unix://$(sock "$n")" docker "$@"; }
answers() { [ -S "$(sock "$1")" ] && dk "$1" version --format '{{.Server.Version}}' >/dev/null 2>&1; }

# Unmount whatever is mounted at or under each directory, deepest first: a
# dockerd killed without its shutdown leaves its network namespaces (nsfs) in
# its exec root and its data root mounted on itself, and rm cannot remove a
# mount point.
unmount_under() {
    for dir in "$@"; do
        awk -v d="$dir" '$2 == d || index($2, d "/") == 1 { print $2 }' /proc/self/mounts \
            | sort -r | while read -r point; do
                umount "$point" 2>/dev/null || umount -l "$point" 2>/dev/null || true
            done
    done
}

stop_node() {
    n=$1
    if answers "$n"; then
        dk "$n" swarm leave --force >/dev/null 2>&1 || true
    fi
    if [ -s "$BASE/$n/docker.pid" ]; then
        pid=$(cat "$BASE/$n/docker.pid")
        kill "$pid" 2>/dev/null || true
        tries=0
        while kill -0 "$pid" 2>/dev/null && [ "$tries" -lt 150 ]; do
            sleep 0.2; tries=$((tries + 1))
        done
        kill -9 "$pid" 2>/dev/null || true
    fi
    ip netns del "cswarm-$n" 2>/dev/null || true
    ip link del "cswarm$n-h" 2>/dev/null || true
    unmount_under "$BASE/$n" "$DATA/$n"
    rm -rf "${BASE:?}/$n"
}

if [ "${1:-}" = "--stop" ]; then
    for dir in "$BASE"/*/; do
        [ -d "$dir" ] || continue
        n=$(basename "$dir")
        stop_node "$n"
        say "stopped node $n"
    done
    ip link del "$BRIDGE" 2>/dev/null || true
    exit 0
fi

[ "$(id -u)" = 0 ] || fail "test swarm nodes need root (network namespaces)"
if ! command -v dockerd >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q docker.io >/dev/null 2>&1 \
        || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q docker.io >/dev/null 2>&1; } \
        || fail "apt-get install docker.io failed"
fi

if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    ip link add "$BRIDGE" type bridge
    ip addr add "$NET.1/24" dev "$BRIDGE"
fi
ip link set "$BRIDGE" up
# Traffic between the nodes crosses the bridge: let it through whatever the
# host's FORWARD policy (Docker sets DROP).
iptables -C FORWARD -i "$BRIDGE" -o "$BRIDGE" -j ACCEPT 2>/dev/null \
    || iptables -I FORWARD -i "$BRIDGE" -o "$BRIDGE" -j ACCEPT
# And out to the machine's network as the host itself (its DNS answers a
# registry lookup at once, where an unrouted one would time out).
sysctl -qw net.ipv4.ip_forward=1
for rule in "FORWARD -i $BRIDGE ! -o $BRIDGE -j ACCEPT" \
            "FORWARD -o $BRIDGE -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"; do
    # shellcheck disable=SC2086
    iptables -C $rule 2>/dev/null || iptables -I $rule
done
iptables -t nat -C POSTROUTING -s "$NET.0/24" ! -o "$BRIDGE" -j MASQUERADE 2>/dev/null \
    || iptables -t nat -A POSTROUTING -s "$NET.0/24" ! -o "$BRIDGE" -j MASQUERADE

start_node() {
    n=$1
    addr="$NET.$((10 + n))"
    if answers "$n"; then
        return 0
    fi
    stop_node "$n"
    mkdir -p "$BASE/$n" "$DATA/$n"
    ip netns add "cswarm-$n"
    ip link add "cswarm$n-h" type veth peer name eth0 netns "cswarm-$n"
    ip link set "cswarm$n-h" master "$BRIDGE" up
    ip netns exec "cswarm-$n" ip addr add "$addr/24" dev eth0
    ip netns exec "cswarm-$n" ip link set eth0 up
    ip netns exec "cswarm-$n" ip link set lo up
    ip netns exec "cswarm-$n" ip route add default via "$NET.1"
    # Its own containerd namespace: several daemons may share the machine's containerd.
    # nsenter, not `ip netns exec`: that remounts /sys, hiding the cgroup mounts.
    # Its own UTS namespace too: the node's hostname is cswarm-N.
    nohup nsenter --net="/var/run/netns/cswarm-$n" unshare --uts sh -c \
        "hostname cswarm-$n && exec setsid dockerd \"\$@\"" dockerd \
        -H "unix://$(sock "$n")" --data-root "$DATA/$n" --exec-root "$BASE/$n/exec" \
        --pidfile "$BASE/$n/docker.pid" --containerd-namespace "cswarm$n" \
        --containerd-plugins-namespace "cswarm$n-plugins" \
        >>"$BASE/$n.log" 2>&1 </dev/null &
    tries=0
    until answers "$n"; do
        tries=$((tries + 1))
        [ "$tries" -le 300 ] || { tail -n 5 "$BASE/$n.log" >&2; fail "node $n did not answer"; }
        sleep 0.2
    done
}

n=1
while [ "$n" -le "$NODES" ]; do
    start_node "$n"
    n=$((n + 1))
done

state=$(dk 1 info --format '{{.Swarm.LocalNodeState}}')
if [ "$state" != active ]; then
    dk 1 swarm init --advertise-addr "$NET.11" >/dev/null
fi
DOCKER_HOST="unix://$(sock 1)" sh "$HERE/ensure-images.sh" >/dev/null
token=$(dk 1 swarm join-token -q worker)
manager=$(dk 1 info --format '{{.Swarm.NodeID}}')
n=2
while [ "$n" -le "$NODES" ]; do
    # A worker whose data holds another swarm (its manager's data was removed)
    # leaves that one first.
    if [ "$(dk "$n" info --format '{{.Swarm.LocalNodeState}}')" != active ] \
        || ! dk "$n" info --format '{{range .Swarm.RemoteManagers}}{{.NodeID}} {{end}}' \
            | grep -q "$manager"; then
        dk "$n" swarm leave --force >/dev/null 2>&1 || true
        dk "$n" swarm join --token "$token" --advertise-addr "$NET.$((10 + n))" "$NET.11:2377" \
            >/dev/null
    fi
    for image in $(dk 1 image ls --format '{{.Repository}}:{{.Tag}}' | grep -v '<none>'); do
        dk "$n" image inspect "$image" >/dev/null 2>&1 || dk 1 save "$image" | dk "$n" load -q >/dev/null
    done
    n=$((n + 1))
done
say "$NODES node(s) in the swarm, manager at unix://$(sock 1) ($(dk 1 version --format '{{.Server.Version}}'))"
