#!/bin/sh
# Create the project's virtual environment if it is missing or broken.
# Usage: ensure-venv.sh PYTHON VENV_DIR
# Debian's own python3 ships without ensurepip; as root we add python3-venv
# rather than leave a fresh machine one manual step short.
set -eu

python=${1:-python3}
venv=${2:-.venv}

if "$venv/bin/python" -c 'import sys' >/dev/null 2>&1; then
    exit 0
fi

if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; then
    echo "composer needs Python 3.11 or newer; '$python' is $("$python" --version 2>/dev/null || echo "not found")" >&2
    exit 1
fi

rm -rf "$venv"
if ! "$python" -m venv "$venv" >/dev/null 2>&1; then
    rm -rf "$venv"
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        minor=$("$python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
        echo "installing python${minor}-venv (Debian's Python has no ensurepip)" >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "python${minor}-venv" >/dev/null \
            || { apt-get update -q >/dev/null && \
                 DEBIAN_FRONTEND=noninteractive apt-get install -y -q "python${minor}-venv" >/dev/null; }
    fi
    "$python" -m venv "$venv"
fi
echo "created $venv with $("$venv/bin/python" --version)"
