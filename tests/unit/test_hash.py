"""The config hash must equal Docker Compose v2's ``config --hash`` for the same service.

``CASES`` were recorded from v2.40.3 (``config --format json`` for the service,
``config --hash '*'`` for the digest) on ``CASES_YAML``, with ``FOO=foo BAR=bar``;
the service dicts hold real values (v2 prints every ``$`` doubled). The oracle
tests re-run the binary on that file and on every corpus file when it is present.
"""

from __future__ import annotations

import copy
import csv
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from corpus import CORPUS, CORPUS_ENVIRON

from composer.config.loader import LoadOptions, load_project
from composer.model.hash import (
    network_config_hash,
    service_config_hash,
    service_hash_payload,
    volume_config_hash,
)
from composer.model.project import ServiceConfig

CASES_YAML = r"""
name: hashcases
services:
  minimal:
    image: nginx:1.27
  commands:
    image: busybox
    command: sh -c 'echo "hi <there> & bye"'
    entrypoint: ["/bin/tini", "--"]
    working_dir: /app
    user: "1000:1000"
  env:
    image: busybox
    environment:
      PLAIN: value
      EMPTY: ""
      UNSET:
      HTML: "<b>&amp;</b>"
      UNICODE: "héllo wörld ✓ \u2028 end"
      DOLLAR: "$$HOME and $${X}"
      CTRL: "tab\there\nnewline \x01 \x7f"
  ports:
    image: nginx
    ports:
      - "8080:80"
      - "127.0.0.1:5000-5001:5000-5001/udp"
      - target: 443
        published: "8443"
        protocol: tcp
        mode: host
        app_protocol: https
      - "9000"
    expose: ["3000", 4000]
  volumes:
    image: postgres:16
    volumes:
      - /srv/data:/var/lib/postgresql/data:ro,z
      - pgdata:/var/run
      - type: tmpfs
        target: /tmp
        tmpfs: {size: 64m, mode: 01777}
      - type: volume
        source: pgdata
        target: /backup
        volume: {nocopy: true, subpath: sub}
      - type: bind
        source: /etc/hosts
        target: /etc/hosts2
        read_only: true
        bind: {create_host_path: false, propagation: rshared}
  health:
    image: redis
    healthcheck:
      test: ["CMD", "redis-cli", "ping"]
      interval: 1m30s
      timeout: 500ms
      retries: 5
      start_period: 1h2m3s
      start_interval: 1.5s
    stop_grace_period: 2m
    stop_signal: SIGQUIT
  nohealth:
    image: redis
    healthcheck:
      disable: true
  deploy:
    image: app
    deploy:
      mode: replicated
      replicas: 3
      labels: {tier: web}
      resources:
        limits: {cpus: "0.3333333333", memory: 512m, pids: 64}
        reservations: {cpus: "0.25", memory: 128M}
      restart_policy: {condition: on-failure, delay: 5s, max_attempts: 3, window: 120s}
      update_config: {parallelism: 2, delay: 10s, order: start-first, max_failure_ratio: 0.1}
  resources:
    image: app
    cpus: 1.5
    cpu_shares: 512
    mem_limit: 1g
    mem_reservation: 256m
    memswap_limit: 2g
    shm_size: 64m
    pids_limit: 100
    oom_score_adj: -500
    ulimits:
      nofile: {soft: 20000, hard: 40000}
      nproc: 65535
  hosts:
    image: app
    hostname: web1
    domainname: example.com
    extra_hosts: ["somehost:162.242.195.82", "otherhost=50.31.209.229", "v6host=::1"]
    dns: [8.8.8.8, 1.1.1.1]
    dns_search: example.com
    mac_address: 02:42:ac:11:00:02
  labels:
    image: app
    labels:
      com.example.description: "Accounting webapp"
      com.example.empty: ""
      "z.order": "last"
      "a.order": "first"
    annotations: {com.example.note: "x"}
  secrets:
    image: app
    secrets:
      - db_password
      - source: api_key
        target: /run/keys/api
        uid: "103"
        gid: "103"
        mode: 0440
    configs:
      - source: app_config
        target: /etc/app.conf
        mode: 0444
  logging:
    image: app
    logging:
      driver: syslog
      options: {syslog-address: "tcp://192.168.0.42:123", tag: "{{.Name}}"}
  networks:
    image: app
    networks:
      front:
        aliases: [web, www]
        ipv4_address: 172.16.238.10
        priority: 100
      back:
  ignored:
    image: app
    build: {context: /srv/app, args: {A: "1"}}
    pull_policy: build
    scale: 2
    depends_on:
      minimal: {condition: service_started}
  plain_app:
    image: app
  security:
    image: app
    cap_add: [NET_ADMIN, SYS_TIME]
    cap_drop: [ALL]
    security_opt: ["no-new-privileges:true"]
    privileged: true
    read_only: true
    init: true
    tty: true
    stdin_open: true
    sysctls: {net.core.somaxconn: 1024, net.ipv4.tcp_syncookies: 0}
    tmpfs: [/run, /tmp:size=64m]
    devices: ["/dev/ttyUSB0:/dev/ttyUSB0"]
    group_add: [mail]
    ipc: shareable
    pid: host
    restart: unless-stopped
    runtime: runc
  falsy:
    image: app
    init: false
    attach: false
    read_only: false
    command: []
    entrypoint: ""
  gpus:
    image: app
    gpus:
      - driver: nvidia
        count: 2
        capabilities: [gpu, utility]
    platform: linux/arm64
    container_name: the-gpu-one
  develop:
    image: app
    develop:
      watch:
        - path: /srv/src
          action: sync
          target: /app/src
          ignore: [node_modules/]
        - path: /srv/package.json
          action: rebuild
    post_start:
      - command: ["echo", "started"]
        user: root
    pre_stop:
      - command: echo stopping
networks:
  front:
    ipam:
      config: [{subnet: 172.16.238.0/24}]
  back:
volumes:
  pgdata:
secrets:
  db_password: {environment: FOO}
  api_key: {environment: BAR}
configs:
  app_config: {content: "x=1"}
"""

CASES: dict[str, tuple[dict[str, Any], str]] = {
    "commands": (
        {
            "command": ["sh", "-c", "echo \"hi <there> & bye\""],
            "entrypoint": ["/bin/tini", "--"],
            "image": "busybox",
            "networks": {"default": None},
            "user": "1000:1000",
            "working_dir": "/app",
        },
        "801ceca7d577b54331c1dfd1cdec7edf08a0aa46655c68db94118a0f78a7acbf",
    ),
    "deploy": (
        {
            "command": None,
            "deploy": {
                "mode": "replicated",
                "replicas": 3,
                "labels": {"tier": "web"},
                "update_config": {
                    "parallelism": 2,
                    "delay": "10s",
                    "max_failure_ratio": 0.1,
                    "order": "start-first",
                },
                "resources": {
                    "limits": {"cpus": 0.33333334, "memory": "536870912", "pids": 64},
                    "reservations": {"cpus": 0.25, "memory": "134217728"},
                },
                "restart_policy": {
                    "condition": "on-failure",
                    "delay": "5s",
                    "max_attempts": 3,
                    "window": "2m0s",
                },
                "placement": {},
            },
            "entrypoint": None,
            "image": "app",
            "networks": {"default": None},
        },
        "4e80431b59f83295d06c93ab0b7dccd2c9728273d87f49e153ce06a18ab6f2b1",
    ),
    "develop": (
        {
            "develop": {
                "watch": [
                    {
                        "path": "/srv/src",
                        "action": "sync",
                        "target": "/app/src",
                        "exec": {"command": None},
                        "ignore": ["node_modules/"],
                    },
                    {
                        "path": "/srv/package.json",
                        "action": "rebuild",
                        "exec": {"command": None},
                    },
                ],
            },
            "command": None,
            "entrypoint": None,
            "image": "app",
            "networks": {"default": None},
            "post_start": [{"command": ["echo", "started"], "user": "root"}],
            "pre_stop": [{"command": ["echo", "stopping"]}],
        },
        "19b3ce281fa6bd01830bae1c77037da8ff744b4fb1b033db69b3800a2331d3d6",
    ),
    "env": (
        {
            "command": None,
            "entrypoint": None,
            "environment": {
                "CTRL": "tab\there\nnewline \u0001 \u007f",
                "DOLLAR": "$HOME and ${X}",
                "EMPTY": "",
                "HTML": "<b>&amp;</b>",
                "PLAIN": "value",
                "UNICODE": "h\u00e9llo w\u00f6rld \u2713 \u2028 end",
                "UNSET": None,
            },
            "image": "busybox",
            "networks": {"default": None},
        },
        "910e662f4bfd2317be551d4e51fd30077bfce5de8c72866f46b62640db496f7a",
    ),
    "falsy": (
        {
            "attach": False,
            "command": [],
            "entrypoint": [],
            "image": "app",
            "init": False,
            "networks": {"default": None},
        },
        "bf37906bd32faa1f608fd91c0a6bf4185e66b6dd5c7de82df0d0ad4eb8959b30",
    ),
    "gpus": (
        {
            "command": None,
            "container_name": "the-gpu-one",
            "entrypoint": None,
            "gpus": [{"capabilities": ["gpu", "utility"], "driver": "nvidia", "count": 2}],
            "image": "app",
            "networks": {"default": None},
            "platform": "linux/arm64",
        },
        "74c4868423ad487fda006b1ad9770e8ac141b214e7f807a927d2d9c972e1070d",
    ),
    "health": (
        {
            "command": None,
            "entrypoint": None,
            "healthcheck": {
                "test": ["CMD", "redis-cli", "ping"],
                "timeout": "500ms",
                "interval": "1m30s",
                "retries": 5,
                "start_period": "1h2m3s",
                "start_interval": "1.5s",
            },
            "image": "redis",
            "networks": {"default": None},
            "stop_grace_period": "2m0s",
            "stop_signal": "SIGQUIT",
        },
        "ef9e0c23ceb450ceafe658a2ccb71ed9f9ffd41bc63bc65295d199690edc58d6",
    ),
    "hosts": (
        {
            "command": None,
            "dns": ["8.8.8.8", "1.1.1.1"],
            "dns_search": ["example.com"],
            "domainname": "example.com",
            "entrypoint": None,
            "extra_hosts": ["otherhost=50.31.209.229", "somehost=162.242.195.82", "v6host=::1"],
            "hostname": "web1",
            "image": "app",
            "mac_address": "02:42:ac:11:00:02",
            "networks": {"default": None},
        },
        "e22912bac728951b037c3c55d9dcec83cd933f08669ad73e40aabfaff9a4746e",
    ),
    "ignored": (
        {
            "build": {"context": "/srv/app", "dockerfile": "Dockerfile", "args": {"A": "1"}},
            "command": None,
            "depends_on": {"minimal": {"condition": "service_started", "required": True}},
            "entrypoint": None,
            "image": "app",
            "networks": {"default": None},
            "pull_policy": "build",
            "scale": 2,
        },
        "cad27c0f73f1ae23d644a4139b0c1e3cc457be5ed0609845c4e1643f50da1a1f",
    ),
    "labels": (
        {
            "annotations": {"com.example.note": "x"},
            "command": None,
            "entrypoint": None,
            "image": "app",
            "labels": {
                "a.order": "first",
                "com.example.description": "Accounting webapp",
                "com.example.empty": "",
                "z.order": "last",
            },
            "networks": {"default": None},
        },
        "f0307a20e1136b2ce6775bfd211b1be36a2fb14f6201b0bb58a51df2110d7197",
    ),
    "logging": (
        {
            "command": None,
            "entrypoint": None,
            "image": "app",
            "logging": {
                "driver": "syslog",
                "options": {"syslog-address": "tcp://192.168.0.42:123", "tag": "{{.Name}}"},
            },
            "networks": {"default": None},
        },
        "fd6770665a494075f8f3d1f16d476d24abcf8848da180e45d8c4972692e9c132",
    ),
    "minimal": (
        {
            "command": None,
            "entrypoint": None,
            "image": "nginx:1.27",
            "networks": {"default": None},
        },
        "35cb49ef2b427e33199ec130fd4fa2219dfb5858c58ba793400d99b97e093e4c",
    ),
    "networks": (
        {
            "command": None,
            "entrypoint": None,
            "image": "app",
            "networks": {
                "back": None,
                "front": {
                    "aliases": ["web", "www"],
                    "ipv4_address": "172.16.238.10",
                    "priority": 100,
                },
            },
        },
        "23cab6be305b498d1ce2025f6c79e9960ad03a60845538438dc9cc4e52bc9d3a",
    ),
    "nohealth": (
        {
            "command": None,
            "entrypoint": None,
            "healthcheck": {"disable": True},
            "image": "redis",
            "networks": {"default": None},
        },
        "817fb85ae9f4045da43b85fc4532c2a03e2af4ab03e45cf054bff8f7ddd40bfe",
    ),
    "plain_app": (
        {
            "command": None,
            "entrypoint": None,
            "image": "app",
            "networks": {"default": None},
        },
        "cad27c0f73f1ae23d644a4139b0c1e3cc457be5ed0609845c4e1643f50da1a1f",
    ),
    "ports": (
        {
            "command": None,
            "entrypoint": None,
            "expose": ["3000", "4000"],
            "image": "nginx",
            "networks": {"default": None},
            "ports": [
                {"mode": "ingress", "target": 80, "published": "8080", "protocol": "tcp"},
                {
                    "mode": "ingress",
                    "host_ip": "127.0.0.1",
                    "target": 5000,
                    "published": "5000",
                    "protocol": "udp",
                },
                {
                    "mode": "ingress",
                    "host_ip": "127.0.0.1",
                    "target": 5001,
                    "published": "5001",
                    "protocol": "udp",
                },
                {
                    "mode": "host",
                    "target": 443,
                    "published": "8443",
                    "protocol": "tcp",
                    "app_protocol": "https",
                },
                {"mode": "ingress", "target": 9000, "protocol": "tcp"},
            ],
        },
        "e2a6e81be7b253b6c79c30a8c3ced85beccbb2a69c29e6ad6e97234dd3437a85",
    ),
    "resources": (
        {
            "cpus": 1.5,
            "cpu_shares": 512,
            "command": None,
            "entrypoint": None,
            "image": "app",
            "mem_limit": "1073741824",
            "mem_reservation": "268435456",
            "memswap_limit": "2147483648",
            "networks": {"default": None},
            "oom_score_adj": -500,
            "pids_limit": 100,
            "shm_size": "67108864",
            "ulimits": {"nofile": {"soft": 20000, "hard": 40000}, "nproc": 65535},
        },
        "1afc8995cea0959de9002bf4dd05b6fecd83ad2c832689671013040e9f8ee538",
    ),
    "secrets": (
        {
            "command": None,
            "configs": [{"source": "app_config", "target": "/etc/app.conf", "mode": "0444"}],
            "entrypoint": None,
            "image": "app",
            "networks": {"default": None},
            "secrets": [
                {"source": "db_password", "target": "/run/secrets/db_password"},
                {
                    "source": "api_key",
                    "target": "/run/keys/api",
                    "uid": "103",
                    "gid": "103",
                    "mode": "0440",
                },
            ],
        },
        "798526b6d3c943bc48ca057ee5c150cac767e76825b815b139d4cb64662a8579",
    ),
    "security": (
        {
            "cap_add": ["NET_ADMIN", "SYS_TIME"],
            "cap_drop": ["ALL"],
            "command": None,
            "devices": [{"source": "/dev/ttyUSB0", "target": "/dev/ttyUSB0", "permissions": "rwm"}],
            "entrypoint": None,
            "group_add": ["mail"],
            "image": "app",
            "init": True,
            "ipc": "shareable",
            "networks": {"default": None},
            "pid": "host",
            "privileged": True,
            "read_only": True,
            "restart": "unless-stopped",
            "runtime": "runc",
            "security_opt": ["no-new-privileges:true"],
            "stdin_open": True,
            "sysctls": {"net.core.somaxconn": "1024", "net.ipv4.tcp_syncookies": "0"},
            "tmpfs": ["/run", "/tmp:size=64m"],
            "tty": True,
        },
        "4b87b9f10c93f8a9dcf1d4aa1842fec78c1ffd193588bf356521c696aa3dc0b5",
    ),
    "volumes": (
        {
            "command": None,
            "entrypoint": None,
            "image": "postgres:16",
            "networks": {"default": None},
            "volumes": [
                {
                    "type": "bind",
                    "source": "/srv/data",
                    "target": "/var/lib/postgresql/data",
                    "read_only": True,
                    "bind": {"selinux": "z", "create_host_path": True},
                },
                {
                    "type": "volume",
                    "source": "pgdata",
                    "target": "/var/run",
                    "volume": {},
                },
                {
                    "type": "tmpfs",
                    "target": "/tmp",
                    "tmpfs": {"size": "67108864", "mode": 1023},
                },
                {
                    "type": "volume",
                    "source": "pgdata",
                    "target": "/backup",
                    "volume": {"nocopy": True, "subpath": "sub"},
                },
                {
                    "type": "bind",
                    "source": "/etc/hosts",
                    "target": "/etc/hosts2",
                    "read_only": True,
                    "bind": {"propagation": "rshared"},
                },
            ],
        },
        "2513c6b39a663fc7056080a55f0d3c5ce75121150558cf754b043a9b06e6d452",
    ),
    "envfile": (
        {
            "command": None,
            "entrypoint": None,
            "environment": {"DECLARED": "yes"},
            "env_file": [
                {"path": "/nonexistent/app.env", "required": True},
                {"path": "/nonexistent/optional.env", "required": False},
                {"path": "/nonexistent/raw.env", "required": True, "format": "raw"},
            ],
            "image": "app",
            "networks": {"default": None},
        },
        "a7f15a890ac8871e30b4f265e156eeced6be37d466a1d629178a8e7918f82037",
    ),
}


# Every attribute v2 prints (recorded from a maximal service), so that compose-go's
# field order is checked between every pair of neighbours.
KITCHEN_SINK: dict[str, Any] = {
    "annotations": {"com.a": "1"},
    "attach": False,
    "build": {
        "context": "/srv/max",
        "dockerfile": "Dockerfile",
        "entitlements": ["network.host"],
        "args": {"A": "1"},
        "provenance": "true",
        "sbom": "true",
        "ssh": ["default"],
        "labels": {"l": "v"},
        "cache_from": ["a"],
        "cache_to": ["b"],
        "no_cache": True,
        "additional_contexts": {"c": "/tmp"},
        "pull": True,
        "extra_hosts": ["h=1.2.3.4"],
        "isolation": "default",
        "network": "host",
        "target": "t",
        "secrets": [{"source": "s1"}],
        "shm_size": "67108864",
        "tags": ["x:y"],
        "ulimits": {"nofile": 10},
        "platforms": ["linux/amd64"],
        "privileged": True,
    },
    "develop": {
        "watch": [
            {
                "path": "/srv/max/src",
                "action": "sync+exec",
                "target": "/src",
                "exec": {"command": ["ls"]},
                "include": ["y"],
                "ignore": ["x"],
                "initial_sync": True,
            },
        ],
    },
    "blkio_config": {
        "weight": 300,
        "weight_device": [{"Path": "/dev/sda", "Weight": 400}],
        "device_read_bps": [{"Path": "/dev/sda", "Rate": "1048576"}],
        "device_read_iops": [{"Path": "/dev/sda", "Rate": "120"}],
        "device_write_bps": [{"Path": "/dev/sda", "Rate": "1048576"}],
        "device_write_iops": [{"Path": "/dev/sda", "Rate": "30"}],
    },
    "cap_add": ["ALL"],
    "cap_drop": ["NET_ADMIN"],
    "cgroup_parent": "cp",
    "cgroup": "host",
    "cpu_count": 2,
    "cpu_percent": 50,
    "cpu_period": 100000,
    "cpu_quota": 50000,
    "cpu_rt_period": 1000,
    "cpu_rt_runtime": 900,
    "cpus": 1.5,
    "cpuset": "0-1",
    "cpu_shares": 512,
    "command": ["a", "b"],
    "configs": [{"source": "c1", "target": "/c1", "uid": "1", "gid": "2", "mode": "0440"}],
    "container_name": "fullc",
    "credential_spec": {"config": "cs"},
    "depends_on": {"other": {"condition": "service_healthy", "restart": True, "required": False}},
    "deploy": {
        "mode": "replicated",
        "replicas": 1,
        "labels": {"d": "e"},
        "update_config": {
            "parallelism": 2,
            "delay": "10s",
            "failure_action": "pause",
            "monitor": "1m0s",
            "max_failure_ratio": 0.5,
            "order": "start-first",
        },
        "rollback_config": {
            "parallelism": 1,
            "delay": "1s",
            "failure_action": "continue",
            "monitor": "2s",
            "max_failure_ratio": 0.25,
            "order": "stop-first",
        },
        "resources": {
            "limits": {"cpus": 1.5, "memory": "1073741824", "pids": 100},
            "reservations": {
                "cpus": 0.25,
                "memory": "20971520",
                "devices": [
                    {
                        "capabilities": ["gpu"],
                        "driver": "nvidia",
                        "device_ids": ["0"],
                        "options": {"o": "p"},
                    },
                ],
                "generic_resources": [{"discrete_resource_spec": {"kind": "ssd", "value": 2}}],
            },
        },
        "restart_policy": {
            "condition": "on-failure", "delay": "5s", "max_attempts": 3, "window": "2m0s",
        },
        "placement": {
            "constraints": ["node.role==manager"],
            "preferences": [{"spread": "node.labels.zone"}],
            "max_replicas_per_node": 2,
        },
        "endpoint_mode": "vip",
    },
    "device_cgroup_rules": ["c 1:3 mr"],
    "devices": [{"source": "/dev/ttyUSB0", "target": "/dev/ttyUSB0", "permissions": "rwm"}],
    "dns": ["8.8.8.8"],
    "dns_opt": ["use-vc"],
    "dns_search": ["example.com"],
    "domainname": "foo.com",
    "entrypoint": ["/bin/sh", "-c"],
    "environment": {"E": "1", "F": None},
    "expose": ["3000", "4000"],
    "external_links": ["redis:r"],
    "extra_hosts": ["other=5.6.7.8", "other=::1", "somehost=1.2.3.4"],
    "group_add": ["mail"],
    "gpus": [{"driver": "nvidia", "count": 1}],
    "hostname": "h",
    "healthcheck": {
        "test": ["CMD-SHELL", "curl x"],
        "timeout": "3s",
        "interval": "30s",
        "retries": 3,
        "start_period": "40s",
        "start_interval": "5s",
    },
    "image": "busybox",
    "init": True,
    "ipc": "shareable",
    "isolation": "default",
    "labels": {"a<b": "&", "lab": "v"},
    "links": ["other:o"],
    "logging": {"driver": "json-file", "options": {"max-size": "1m"}},
    "mem_limit": "1073741824",
    "mem_reservation": "20971520",
    "memswap_limit": "2147483648",
    "mem_swappiness": "60",
    "mac_address": "02:42:ac:11:65:43",
    "models": {"m1": {"endpoint_var": "EP", "model_var": "MV"}},
    "networks": {
        "front": {
            "aliases": ["al"],
            "driver_opts": {"k": "v"},
            "gw_priority": 1,
            "interface_name": "eth9",
            "ipv4_address": "172.16.238.10",
            "ipv6_address": "2001:3984:3989::10",
            "link_local_ips": ["169.254.1.1"],
            "mac_address": "02:42:ac:11:65:44",
            "priority": 100,
        },
    },
    "oom_kill_disable": True,
    "oom_score_adj": 500,
    "pid": "host",
    "pids_limit": 100,
    "platform": "linux/amd64",
    "ports": [
        {
            "name": "web",
            "mode": "host",
            "host_ip": "127.0.0.1",
            "target": 80,
            "published": "8080",
            "protocol": "tcp",
            "app_protocol": "http",
        },
    ],
    "privileged": True,
    "pull_policy": "always",
    "read_only": True,
    "restart": "always",
    "runtime": "runc",
    "scale": 1,
    "secrets": [{"source": "s1", "target": "/run/s1", "uid": "0", "gid": "0", "mode": "0400"}],
    "security_opt": ["label:user:USER"],
    "shm_size": "67108864",
    "stdin_open": True,
    "stop_grace_period": "1m30s",
    "stop_signal": "SIGUSR1",
    "storage_opt": {"size": "1G"},
    "sysctls": {"net.core.somaxconn": "1024"},
    "tmpfs": ["/run"],
    "tty": True,
    "ulimits": {"nofile": {"soft": 20000, "hard": 40000}, "nproc": 65535},
    "use_api_socket": True,
    "user": "1000",
    "userns_mode": "host",
    "uts": "host",
    "volumes": [
        {
            "type": "volume",
            "source": "data",
            "target": "/data",
            "read_only": True,
            "consistency": "cached",
            "volume": {"labels": {"x": "y"}, "nocopy": True, "subpath": "sub"},
        },
        {
            "type": "bind",
            "source": "/srv/max/b",
            "target": "/b",
            "bind": {"selinux": "z", "propagation": "rprivate", "recursive": "readonly"},
        },
        {"type": "tmpfs", "target": "/t", "tmpfs": {"size": "10485760", "mode": 493}},
        {"type": "image", "source": "alpine", "target": "/i", "image": {"subpath": "x"}},
    ],
    "volumes_from": ["other:ro"],
    "working_dir": "/w",
    "post_start": [
        {
            "command": ["a"],
            "user": "root",
            "privileged": True,
            "working_dir": "/x",
            "environment": {"A": "b"},
        },
    ],
    "pre_stop": [{"command": ["b"]}],
}
KITCHEN_SINK_HASH = "8930a281d02a40cf836a42e263a717150f8aa54040007be01ddd5853402eb936"


def test_hash_of_a_service_with_every_attribute() -> None:
    assert service_config_hash(KITCHEN_SINK) == KITCHEN_SINK_HASH
    assert service_config_hash(ServiceConfig.from_dict(KITCHEN_SINK)) == KITCHEN_SINK_HASH


# Hashed as v2 does for `config --hash`: environment without env-file values,
# env_file kept. v2 prints no such service, so the oracle test skips it.
NOT_PRINTED = {"envfile"}


@pytest.mark.parametrize("name", sorted(CASES))
def test_hash_equals_v2(name: str) -> None:
    service, expected = CASES[name]
    assert service_config_hash(service) == expected


def test_key_order_of_the_input_does_not_matter() -> None:
    service, expected = CASES["deploy"]

    def reorder(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: reorder(value[k]) for k in sorted(value, reverse=True)}
        if isinstance(value, list):
            return [reorder(v) for v in value]
        return value

    assert service_config_hash(reorder(service)) == expected


def test_printed_form_with_doubled_dollars() -> None:
    service, expected = CASES["env"]
    printed = json.loads(json.dumps(service).replace("$", "$$"))
    assert service_config_hash(printed, dollars_escaped=True) == expected
    assert service_config_hash(printed) != expected


def test_go_string_escaping_in_payload() -> None:
    payload = service_hash_payload(CASES["env"][0])
    assert '"HTML":"\\u003cb\\u003e\\u0026amp;\\u003c/b\\u003e"' in payload
    assert "\\u2028" in payload and "\\u0001" in payload and "\\t" in payload
    assert "\u00e9" in payload  # other non-ASCII stays raw UTF-8, as in Go


def test_float64_cpus_print_as_float32() -> None:
    service, expected = copy.deepcopy(CASES["deploy"])
    service["deploy"]["resources"]["limits"]["cpus"] = 0.3333333333
    assert service_config_hash(service) == expected
    service["deploy"]["resources"]["limits"]["cpus"] = 0.34
    assert service_config_hash(service) != expected


def _ratio_service(ratio: float) -> dict[str, Any]:
    return {"command": None, "entrypoint": None, "image": "x", "networks": {"default": None},
            "deploy": {"update_config": {"max_failure_ratio": ratio},
                       "resources": {}, "placement": {}}}


@pytest.mark.parametrize(("service", "expected"), [
    # Go prints float32s shortest, in exponent form below 1e-6 (v2: 1e-7, 123456790).
    (_ratio_service(1e-07), "fd1a614abcdf72674abf325ef70d379738fd5215cbd230eb65b956236fb221b8"),
    (_ratio_service(123456789.0),
     "ca10f165629049d751cdaf52157a2ff7019d8b5fd2b52d34562cfea38823cab3"),
    (_ratio_service(1.5e-06), "e80c5f296436bd821f422d32dca542deb6bf3c5f3c8cf814f4e43bbbd516e279"),
    ({"command": None, "cpus": 2.0, "entrypoint": None, "image": "x",
      "networks": {"default": None}},
     "fb18c924202d96c2bb6841275570e71f67e71eec972d8cb33aad5c7d40431be9"),
])
def test_float_formatting_matches_go(service: dict[str, Any], expected: str) -> None:
    assert service_config_hash(service) == expected


def test_typed_values_hash_like_their_canonical_strings() -> None:
    service, expected = copy.deepcopy(CASES["resources"])
    service["mem_limit"] = 1 << 30
    service["shm_size"] = 64 << 20
    assert service_config_hash(service) == expected
    health, health_hash = copy.deepcopy(CASES["health"])
    health["healthcheck"]["interval"] = 90_000_000_000
    health["stop_grace_period"] = 120_000_000_000
    assert service_config_hash(health) == health_hash


def test_model_object_hashes_like_its_dict() -> None:
    for name, (service, expected) in CASES.items():
        assert service_config_hash(ServiceConfig.from_dict(service, name)) == expected, name


def test_fields_that_do_not_change_the_container_are_ignored() -> None:
    base, expected = CASES["plain_app"]
    extended = copy.deepcopy(base)
    extended.update({
        "build": {"context": "/elsewhere", "dockerfile": "Dockerfile.dev"},
        "pull_policy": "always",
        "scale": 4,
        "profiles": ["debug"],
        "depends_on": {"db": {"condition": "service_healthy", "required": True}},
        "x-notes": {"anything": 1},
    })
    assert service_config_hash(extended) == expected
    replicas_only = copy.deepcopy(CASES["deploy"][0])
    replicas_only["deploy"]["replicas"] = 9
    assert service_config_hash(replicas_only) == CASES["deploy"][1]


MUTATIONS: dict[str, tuple[str, Any]] = {
    "image": ("minimal", lambda s: s.update(image="nginx:1.28")),
    "command": ("commands", lambda s: s["command"].append("-x")),
    "entrypoint cleared": ("commands", lambda s: s.update(entrypoint=None)),
    "environment value": ("env", lambda s: s["environment"].update(PLAIN="other")),
    "environment null -> empty": ("env", lambda s: s["environment"].update(UNSET="")),
    "published port": ("ports", lambda s: s["ports"][0].update(published="8081")),
    "volume read_only": ("volumes", lambda s: s["volumes"][1].update(read_only=True)),
    "healthcheck interval": ("health", lambda s: s["healthcheck"].update(interval="1m31s")),
    "memory limit": ("deploy",
                     lambda s: s["deploy"]["resources"]["limits"].update(memory="1")),
    "network alias": ("networks", lambda s: s["networks"]["front"]["aliases"].append("x")),
    "label": ("labels", lambda s: s["labels"].update({"new": "1"})),
    "cap_add": ("security", lambda s: s["cap_add"].append("SYS_ADMIN")),
    "restart": ("security", lambda s: s.update(restart="always")),
    "init false -> absent": ("falsy", lambda s: s.pop("init")),
    "unknown key": ("minimal", lambda s: s.update(future_key=True)),
}


@pytest.mark.parametrize("what", sorted(MUTATIONS))
def test_container_relevant_change_changes_the_hash(what: str) -> None:
    name, mutate = MUTATIONS[what]
    service, expected = copy.deepcopy(CASES[name])
    mutate(service)
    assert service_config_hash(service) != expected


# --- oracle: the v2 binary itself ------------------------------------------

def _v2_hashes(binary: str, folder: Path, file_name: str, env: dict[str, str],
               run: Any) -> dict[str, str]:
    result = run([binary], ["-f", file_name, "config", "--hash", "*"], cwd=folder, env=env)
    assert result.returncode == 0, result.stderr
    return dict(line.split(" ", 1) for line in result.stdout.splitlines() if line.strip())


@pytest.mark.oracle
def test_recorded_cases_match_the_binary(v2_binary: str, run_command: Any,
                                         tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(CASES_YAML, encoding="utf-8")
    env = {"FOO": "foo", "BAR": "bar"}
    hashes = _v2_hashes(v2_binary, tmp_path, "compose.yaml", env, run_command)
    printed = run_command([v2_binary], ["config", "--format", "json"], cwd=tmp_path, env=env)
    services = json.loads(printed.stdout)["services"]
    for name, (_, expected) in CASES.items():
        if name in NOT_PRINTED:
            continue
        assert hashes[name] == expected, name
        assert service_config_hash(services[name], dollars_escaped=True) == expected, name


def _corpus_rows() -> list[dict[str, str]]:
    manifest = CORPUS / "manifest.tsv"
    if not manifest.is_file():
        return []
    with manifest.open(encoding="utf-8", newline="") as fh:
        return [r for r in csv.DictReader(fh, delimiter="\t") if r["v2_config"] == "ok"]


CORPUS_ROWS = _corpus_rows()


def _declares_env_file(compose_file: Path, service: str) -> bool:
    """True unless the file plainly shows ``service`` without env_file or extends."""
    try:
        data = yaml.safe_load(compose_file.read_text(encoding="utf-8"))
        declared = (data.get("services") or {})[service]
    except Exception:  # include:, odd YAML: cannot tell, so leave it out
        return True
    return not isinstance(declared, dict) or "env_file" in declared or "extends" in declared


@pytest.mark.oracle
@pytest.mark.skipif(not CORPUS_ROWS, reason=f"reference corpus not found at {CORPUS}")
@pytest.mark.parametrize("row", CORPUS_ROWS, ids=[r["path"] for r in CORPUS_ROWS])
def test_corpus_hashes_match_the_binary(row: dict[str, str], v2_binary: str,
                                        run_command: Any) -> None:
    path = CORPUS / row["path"]
    hashes = _v2_hashes(v2_binary, path.parent, path.name, CORPUS_ENVIRON, run_command)
    text = (CORPUS / "v2-config" / f"{row['path']}.json").read_text(encoding="utf-8")
    printed = json.loads(text.replace("@DIR@", str(path.parent)))
    for name, service in printed["services"].items():
        if _declares_env_file(path, name):
            continue  # v2 hashes env_file unresolved; the printed form has it resolved
        assert service_config_hash(service, dollars_escaped=True) == hashes[name], name


@pytest.mark.skipif(not CORPUS_ROWS, reason=f"reference corpus not found at {CORPUS}")
@pytest.mark.parametrize("row", CORPUS_ROWS, ids=[r["path"] for r in CORPUS_ROWS])
def test_corpus_hash_of_the_model_is_the_hash_of_the_loaded_dict(row: dict[str, str]) -> None:
    """The typed ServiceConfig alone gives v2's hash: the same as the loaded dict's,
    for every service of every corpus file (x- keys in the model change nothing)."""
    path = CORPUS / row["path"]
    project = load_project(LoadOptions(files=[path.name], cwd=str(path.parent),
                                       environ=dict(CORPUS_ENVIRON), warn=lambda _: None))
    model = project.model
    assert list(model.services) == list(project.data["services"])
    for name, service in project.data["services"].items():
        typed = model.services[name]
        assert service_config_hash(typed) == service_config_hash(service), name
        assert service_hash_payload(typed) == service_hash_payload(service), name
    for name, network in (project.data.get("networks") or {}).items():
        assert network_config_hash(model.networks[name]) == network_config_hash(network)
    for name, volume in (project.data.get("volumes") or {}).items():
        assert volume_config_hash(model.volumes[name]) == volume_config_hash(volume)
