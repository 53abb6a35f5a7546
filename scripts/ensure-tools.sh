#!/bin/sh
# Tools the tests use beside the engine: Graphviz's `dot` (composer graph --format svg).
# Installed as root on Debian when missing; elsewhere the tests that need it skip,
# except under CI=true, where tests/e2e/test_graph_cmd.py fails instead.
set -eu
if command -v dot >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "tools: installing graphviz (for composer graph --format svg)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q graphviz >/dev/null 2>&1 || {
    apt-get update -q >/dev/null 2>&1 && \
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q graphviz >/dev/null 2>&1; } || \
    echo "tools: could not install graphviz; the SVG tests will skip" >&2
else
  echo "tools: no Graphviz dot; the SVG tests will skip (Debian: apt-get install graphviz)" >&2
fi
