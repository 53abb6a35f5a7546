"""``composer config``'s flags beyond the project itself: ``--variables``,
``--environment``, ``--models``, ``--no-path-resolution``, ``--no-consistency``,
``--no-env-resolution``, ``--dry-run``, and how ``-q`` and ``--format`` combine with them.

The expected texts were printed by Docker Compose v2.40.3 from the same files (its
``--variables`` table rows come in random order: they are sorted here, as we print
them); tests/e2e/test_config_flags_v2.py runs v2 itself where it is installed.
"""

from __future__ import annotations

import json
import os
from functools import cmp_to_key
from pathlib import Path

import pytest

from composer.cli.main import main
from composer.config.variables import Variable, extract_variables
from composer.config.yamlout import yaml_v3_compare

VARS = {
    "compose.yaml": """\
name: vars
services:
  web:
    image: ${IMG:-nginx}:${TAG?tag is required}
    command: ["${V:-a}", "$V", "x${W}y${W2:-z}", "$$NOT", "${N1:-${N2:-${N3}}}", "${P:+${Q2}}"]
    environment:
      FOO: ${FOO:-${BAR:-deep}}
      Q: ${Q:?must set ${MSG}}
      V10: $V10
      V9: ${V9-nine}
    labels:
      "${KEYVAR}": "v"
      z: "${BR-a}}tail${AFTER}"
    x-deep: [["${NESTED}"]]
""",
}
PATHS = {
    "compose.yaml": """\
name: paths
include:
  - path: ./inc/compose.yaml
    env_file: ./inc/inc.env
services:
  web:
    build:
      context: ./app
      dockerfile: Dockerfile.dev
      additional_contexts:
        extra: ../other
    env_file:
      - ./web.env
      - path: ./opt.env
        required: false
    label_file: ./labels.txt
    volumes:
      - ./data:/data
      - ~/cache:/cache
      - named:/n
      - type: bind
        source: ../up
        target: /up
    secrets: [s1]
    configs: [c1]
    develop:
      watch:
        - path: ./src
          action: sync
          target: /src
  ext:
    extends:
      file: ./sub/base.yaml
      service: base
  ctxonly:
    build: .
  noctx:
    build:
      dockerfile: Other
secrets:
  s1:
    file: ./secret.txt
configs:
  c1:
    file: ./conf.txt
volumes:
  named:
    driver: local
    driver_opts:
      type: none
      o: bind
      device: ./dev
""",
    "web.env": "A=1\n",
    "labels.txt": "L=1\n",
    "sub/base.yaml": """\
services:
  base:
    image: busybox
    build: ./ctx
    volumes: ["./basevol:/bv"]
    env_file: ./base.env
""",
    "sub/base.env": "B=2\n",
    "inc/compose.yaml": """\
services:
  incsvc:
    image: busybox
    build: ./ictx
    volumes: ["./ivol:/iv"]
    env_file: ./i.env
    environment:
      IV: ${INCVAR:-none}
""",
    "inc/i.env": "C=3\n",
    "inc/inc.env": "INCVAR=fromfile\n",
}
LOOSE = {
    "compose.yaml": """\
name: loose
services:
  a:
    image: x
    networks: [nope]
    volumes: ["vol:/v"]
    secrets: [sec]
    configs: [cfg]
    depends_on: [ghost, b]
    container_name: same
  b:
    image: x
    container_name: same
    depends_on: [a]
    network_mode: service:ghost2
""",
}
ENVIRONMENT = {
    "compose.yaml": """\
name: envp
services:
  web:
    image: busybox:${TAG}
    environment:
      S: ${SHARED}
""",
    ".env": "TAG=1.2\nDOTENV_ONLY=yes\nSHARED=fromfile\nMULTI=\"two\\nlines\"\n",
}
ENVIRON = {"SHARED": "fromenv", "ZED": "1", "A_B": "x", "A": "y"}
MODELS = {
    "compose.yaml": """\
name: models
services:
  s:
    image: busybox
    models: [m2, m1]
models:
  m2:
    model: ai/x
  m1:
    model: ai/y
  unused:
    model: ai/z
""",
}


VARIABLES_TABLE = (
    'NAME                REQUIRED            DEFAULT VALUE       ALTERNATE VALUE\n'
    'AFTER               false                                   \n'
    'BAR                 false               deep                \n'
    'BR                  false               a                   \n'
    'FOO                 false               ${BAR:-deep}        \n'
    'IMG                 false               nginx               \n'
    'N1                  false               ${N2:-${N3}}        \n'
    'N2                  false               ${N3}               \n'
    'N3                  false                                   \n'
    'NESTED              false                                   \n'
    'P                   false                                   ${Q2}\n'
    'Q                   true                                    \n'
    'Q2                  false                                   \n'
    'TAG                 true                                    \n'
    'V                   false                                   \n'
    'V10                 false                                   \n'
    'V9                  false               nine                \n'
    'W                   false                                   \n'
    'W2                  false               z                   \n'
)

VARIABLES_JSON = """\
{
    "AFTER": {
        "Name": "AFTER",
        "DefaultValue": "",
        "PresenceValue": "",
        "Required": false
    },
    "BAR": {
        "Name": "BAR",
        "DefaultValue": "deep",
        "PresenceValue": "",
        "Required": false
    },
    "BR": {
        "Name": "BR",
        "DefaultValue": "a",
        "PresenceValue": "",
        "Required": false
    },
    "FOO": {
        "Name": "FOO",
        "DefaultValue": "${BAR:-deep}",
        "PresenceValue": "",
        "Required": false
    },
    "IMG": {
        "Name": "IMG",
        "DefaultValue": "nginx",
        "PresenceValue": "",
        "Required": false
    },
    "N1": {
        "Name": "N1",
        "DefaultValue": "${N2:-${N3}}",
        "PresenceValue": "",
        "Required": false
    },
    "N2": {
        "Name": "N2",
        "DefaultValue": "${N3}",
        "PresenceValue": "",
        "Required": false
    },
    "N3": {
        "Name": "N3",
        "DefaultValue": "",
        "PresenceValue": "",
        "Required": false
    },
    "NESTED": {
        "Name": "NESTED",
        "DefaultValue": "",
        "PresenceValue": "",
        "Required": false
    },
    "P": {
        "Name": "P",
        "DefaultValue": "",
        "PresenceValue": "${Q2}",
        "Required": false
    },
    "Q": {
        "Name": "Q",
        "DefaultValue": "",
        "PresenceValue": "",
        "Required": true
    },
    "Q2": {
        "Name": "Q2",
        "DefaultValue": "",
        "PresenceValue": "",
        "Required": false
    },
    "TAG": {
        "Name": "TAG",
        "DefaultValue": "",
        "PresenceValue": "",
        "Required": true
    },
    "V": {
        "Name": "V",
        "DefaultValue": "",
        "PresenceValue": "",
        "Required": false
    },
    "V10": {
        "Name": "V10",
        "DefaultValue": "",
        "PresenceValue": "",
        "Required": false
    },
    "V9": {
        "Name": "V9",
        "DefaultValue": "nine",
        "PresenceValue": "",
        "Required": false
    },
    "W": {
        "Name": "W",
        "DefaultValue": "",
        "PresenceValue": "",
        "Required": false
    },
    "W2": {
        "Name": "W2",
        "DefaultValue": "z",
        "PresenceValue": "",
        "Required": false
    }
}

"""

VARIABLES_YAML = """\
AFTER:
    name: AFTER
    defaultvalue: ""
    presencevalue: ""
    required: false
BAR:
    name: BAR
    defaultvalue: deep
    presencevalue: ""
    required: false
BR:
    name: BR
    defaultvalue: a
    presencevalue: ""
    required: false
FOO:
    name: FOO
    defaultvalue: ${BAR:-deep}
    presencevalue: ""
    required: false
IMG:
    name: IMG
    defaultvalue: nginx
    presencevalue: ""
    required: false
N1:
    name: N1
    defaultvalue: ${N2:-${N3}}
    presencevalue: ""
    required: false
N2:
    name: N2
    defaultvalue: ${N3}
    presencevalue: ""
    required: false
N3:
    name: N3
    defaultvalue: ""
    presencevalue: ""
    required: false
NESTED:
    name: NESTED
    defaultvalue: ""
    presencevalue: ""
    required: false
P:
    name: P
    defaultvalue: ""
    presencevalue: ${Q2}
    required: false
Q:
    name: Q
    defaultvalue: ""
    presencevalue: ""
    required: true
Q2:
    name: Q2
    defaultvalue: ""
    presencevalue: ""
    required: false
TAG:
    name: TAG
    defaultvalue: ""
    presencevalue: ""
    required: true
V:
    name: V
    defaultvalue: ""
    presencevalue: ""
    required: false
V9:
    name: V9
    defaultvalue: nine
    presencevalue: ""
    required: false
V10:
    name: V10
    defaultvalue: ""
    presencevalue: ""
    required: false
W:
    name: W
    defaultvalue: ""
    presencevalue: ""
    required: false
W2:
    name: W2
    defaultvalue: z
    presencevalue: ""
    required: false
"""

PATHS_YAML = """\
name: paths
services:
  ctxonly:
    build:
      context: .
      dockerfile: Dockerfile
    networks:
      default: null
  ext:
    build:
      context: sub/ctx
      dockerfile: Dockerfile
    environment:
      B: "2"
    image: busybox
    networks:
      default: null
    volumes:
      - type: bind
        source: sub/basevol
        target: /bv
        bind:
          create_host_path: true
  incsvc:
    build:
      context: inc/ictx
      dockerfile: Dockerfile
    environment:
      C: "3"
      IV: fromfile
    image: busybox
    networks:
      default: null
    volumes:
      - type: bind
        source: inc/ivol
        target: /iv
        bind:
          create_host_path: true
  noctx:
    build:
      context: .
      dockerfile: Other
    networks:
      default: null
  web:
    build:
      context: ./app
      dockerfile: Dockerfile.dev
      additional_contexts:
        extra: ../other
    develop:
      watch:
        - path: ./src
          action: sync
          target: /src
    configs:
      - source: c1
    environment:
      A: "1"
    labels:
      L: "1"
    networks:
      default: null
    secrets:
      - source: s1
        target: /run/secrets/s1
    volumes:
      - type: bind
        source: ./data
        target: /data
        bind:
          create_host_path: true
      - type: bind
        source: ~/cache
        target: /cache
        bind:
          create_host_path: true
      - type: volume
        source: named
        target: /n
        volume: {}
      - type: bind
        source: ../up
        target: /up
networks:
  default:
    name: paths_default
volumes:
  named:
    name: paths_named
    driver: local
    driver_opts:
      device: ./dev
      o: bind
      type: none
secrets:
  s1:
    name: paths_s1
    file: ./secret.txt
configs:
  c1:
    name: paths_c1
    file: ./conf.txt
"""

PATHS_JSON = """\
{
  "configs": {
    "c1": {
      "name": "paths_c1",
      "file": "./conf.txt"
    }
  },
  "name": "paths",
  "networks": {
    "default": {
      "name": "paths_default",
      "ipam": {}
    }
  },
  "secrets": {
    "s1": {
      "name": "paths_s1",
      "file": "./secret.txt"
    }
  },
  "services": {
    "ctxonly": {
      "build": {
        "context": ".",
        "dockerfile": "Dockerfile"
      },
      "command": null,
      "entrypoint": null,
      "networks": {
        "default": null
      }
    },
    "ext": {
      "build": {
        "context": "sub/ctx",
        "dockerfile": "Dockerfile"
      },
      "command": null,
      "entrypoint": null,
      "environment": {
        "B": "2"
      },
      "image": "busybox",
      "networks": {
        "default": null
      },
      "volumes": [
        {
          "type": "bind",
          "source": "sub/basevol",
          "target": "/bv",
          "bind": {
            "create_host_path": true
          }
        }
      ]
    },
    "incsvc": {
      "build": {
        "context": "inc/ictx",
        "dockerfile": "Dockerfile"
      },
      "command": null,
      "entrypoint": null,
      "environment": {
        "C": "3",
        "IV": "fromfile"
      },
      "image": "busybox",
      "networks": {
        "default": null
      },
      "volumes": [
        {
          "type": "bind",
          "source": "inc/ivol",
          "target": "/iv",
          "bind": {
            "create_host_path": true
          }
        }
      ]
    },
    "noctx": {
      "build": {
        "context": ".",
        "dockerfile": "Other"
      },
      "command": null,
      "entrypoint": null,
      "networks": {
        "default": null
      }
    },
    "web": {
      "build": {
        "context": "./app",
        "dockerfile": "Dockerfile.dev",
        "additional_contexts": {
          "extra": "../other"
        }
      },
      "develop": {
        "watch": [
          {
            "path": "./src",
            "action": "sync",
            "target": "/src",
            "exec": {
              "command": null
            }
          }
        ]
      },
      "command": null,
      "configs": [
        {
          "source": "c1"
        }
      ],
      "entrypoint": null,
      "environment": {
        "A": "1"
      },
      "labels": {
        "L": "1"
      },
      "networks": {
        "default": null
      },
      "secrets": [
        {
          "source": "s1",
          "target": "/run/secrets/s1"
        }
      ],
      "volumes": [
        {
          "type": "bind",
          "source": "./data",
          "target": "/data",
          "bind": {
            "create_host_path": true
          }
        },
        {
          "type": "bind",
          "source": "~/cache",
          "target": "/cache",
          "bind": {
            "create_host_path": true
          }
        },
        {
          "type": "volume",
          "source": "named",
          "target": "/n",
          "volume": {}
        },
        {
          "type": "bind",
          "source": "../up",
          "target": "/up"
        }
      ]
    }
  },
  "volumes": {
    "named": {
      "name": "paths_named",
      "driver": "local",
      "driver_opts": {
        "device": "./dev",
        "o": "bind",
        "type": "none"
      }
    }
  }
}"""

LOOSE_YAML = """\
name: loose
services:
  a:
    configs:
      - source: cfg
    container_name: same
    depends_on:
      b:
        condition: service_started
        required: true
      ghost:
        condition: service_started
        required: true
    image: x
    networks:
      nope: null
    secrets:
      - source: sec
        target: /run/secrets/sec
    volumes:
      - type: volume
        source: vol
        target: /v
        volume: {}
  b:
    container_name: same
    depends_on:
      a:
        condition: service_started
        required: true
      ghost2:
        condition: service_started
        restart: true
        required: true
    image: x
    network_mode: service:ghost2
"""

ENVIRONMENT_OUT = """\
A=y
A_B=x
COMPOSE_PROJECT_NAME=envp
DOTENV_ONLY=yes
MULTI=two
lines
PWD=@PWD@
SHARED=fromenv
TAG=1.2
ZED=1
"""


def make(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An empty process environment (v2's outputs were made with ``env -i``), in tmp_path."""
    for name in list(os.environ):
        monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", "/home/user")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    rc = main(list(args))
    out, err = capsys.readouterr()
    return rc, out, err


# -- --variables --------------------------------------------------------------------------


@pytest.mark.parametrize(("fmt", "expected"), [
    (None, VARIABLES_TABLE), ("table", VARIABLES_TABLE), ("PRETTY", VARIABLES_TABLE),
    ("json", VARIABLES_JSON), ("JSON", VARIABLES_JSON), ("{{json.}}", VARIABLES_JSON),
    ("yaml", VARIABLES_YAML),
])
def test_variables_print_as_v2(clean_env: Path, capsys: pytest.CaptureFixture[str],
                               fmt: str | None, expected: str) -> None:
    make(clean_env, VARS)
    fmt_args = [] if fmt is None else ["--format", fmt]
    # Nothing is interpolated: TAG and Q are required and unset, and that is fine.
    assert run(capsys, "config", "--variables", *fmt_args) == (0, expected, "")


def test_variables_format_v2_does_not_know(clean_env: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    make(clean_env, VARS)
    rc, out, err = run(capsys, "config", "--variables", "--format", "YAML")
    assert (rc, out) == (2, "")  # v2 exits 1; composer's usage errors exit 2
    assert err == 'composer: format value "YAML" could not be parsed: parsing failed\n'


def test_variables_of_a_file_without_any(clean_env: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    make(clean_env, {"compose.yaml": "services:\n  a:\n    image: x\n"})
    assert run(capsys, "config", "--variables", "--format", "json") == (0, "{}\n\n", "")
    assert run(capsys, "config", "--variables", "--format", "yaml") == (0, "{}\n", "")
    assert run(capsys, "config", "--variables")[1] == (
        "NAME                REQUIRED            DEFAULT VALUE       ALTERNATE VALUE\n")


def test_variable_extraction_rules() -> None:
    model = {
        "services": {"web": {
            "labels": {"${KEY}": "$$ESCAPED ${KEPT-x}"},  # keys are never scanned
            "command": ["${LAST:-first}", "$LAST"],        # the last use wins whole
            "image": "${R:?${NOT_SCANNED}}",               # a required message is not
            "x-bad": "${",                                 # invalid: a nameless variable
            "x-num": 3,
        }},
    }
    assert extract_variables(model) == {
        "KEPT": Variable("KEPT", default="x"),
        "LAST": Variable("LAST"),
        "R": Variable("R", required=True),
        "": Variable(""),
    }


def test_yaml_v3_key_order() -> None:
    keys = ["V10", "V9", "V2", "A_B", "AB", "A1", "a", "_X", "V09", "V9A", ""]
    # What yaml.v3 (v2's YAML encoder) printed for these variable names.
    assert sorted(keys, key=cmp_to_key(yaml_v3_compare)) == [
        "", "_X", "A_B", "A1", "AB", "V2", "V9", "V9A", "V09", "V10", "a"]


# -- --environment ------------------------------------------------------------------------


def test_environment_is_the_interpolation_environment(
        clean_env: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    make(clean_env, ENVIRONMENT)
    monkeypatch.delenv("HOME")
    monkeypatch.delenv("PYTEST_CURRENT_TEST", raising=False)
    for name, value in ENVIRON.items():
        monkeypatch.setenv(name, value)
    expected = ENVIRONMENT_OUT.replace("@PWD@", os.getcwd())  # v2 sets $PWD when unset
    assert run(capsys, "config", "--environment") == (0, expected, "")


def test_environment_fails_as_the_project_does(clean_env: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    make(clean_env, {"compose.yaml": "services:\n  a:\n    image: ${TAG:?no tag}\n"})
    rc, out, err = run(capsys, "config", "--environment")
    assert (rc, out) == (15, "")
    assert "required variable TAG is missing a value: no tag" in err


# -- --no-path-resolution -------------------------------------------------------------------


@pytest.mark.parametrize(("fmt", "expected"), [("yaml", PATHS_YAML), ("json", PATHS_JSON)])
def test_no_path_resolution(clean_env: Path, capsys: pytest.CaptureFixture[str],
                            fmt: str, expected: str) -> None:
    make(clean_env, PATHS)
    # The project's paths stay as written; those of included and extended files are
    # rebased onto the project folder; a build without context builds ".".
    assert run(capsys, "config", "--no-path-resolution", "--format", fmt) == (0, expected, "")


def test_no_path_resolution_reads_env_files_from_the_current_folder(
        clean_env: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    make(clean_env / "p", PATHS)
    rc, out, err = run(capsys, "-f", "p/compose.yaml", "config", "--no-path-resolution")
    assert (rc, out) == (15, "")  # as v2: the relative env file is not in this folder
    assert "not found" in err
    rc, out, err = run(capsys, "-f", "p/compose.yaml", "config")
    assert rc == 0 and f"context: {clean_env}/p/app\n" in out


# -- --no-consistency ---------------------------------------------------------------------


def test_no_consistency_prints_what_would_be_refused(
        clean_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make(clean_env, LOOSE)
    rc, out, err = run(capsys, "config")
    assert (rc, out) == (15, "") and "undefined" in err
    assert run(capsys, "config", "--no-consistency") == (0, LOOSE_YAML, "")


def test_container_names_must_differ(clean_env: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    make(clean_env, {"compose.yaml": (
        "services:\n  a:\n    image: x\n    container_name: same\n"
        "  b:\n    image: x\n    container_name: same\n")})
    rc, out, err = run(capsys, "config", "-q")
    assert (rc, out) == (15, "")
    assert err == (f"composer: {clean_env}/compose.yaml:7:21: services.b.container_name: "
                   'container name "same" is already in use by service a\n')
    assert run(capsys, "config", "--services") == (0, "a\nb\n", "")  # listings don't check
    assert run(capsys, "config", "-q", "--no-consistency") == (0, "", "")


# -- listings, -q, --format -----------------------------------------------------------------


def test_models_lists_the_models_services_use(clean_env: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    make(clean_env, MODELS)
    rc, out, err = run(capsys, "config", "--models")
    # v2 walks a Go map: its order varies from run to run.
    assert (rc, sorted(out.splitlines()), err) == (0, ["ai/x", "ai/y"], "")
    make(clean_env, {"compose.yaml": "services:\n  a:\n    image: x\n"})
    assert run(capsys, "config", "--models") == (0, "", "")


def test_listings_do_not_read_env_files(clean_env: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    make(clean_env, {"compose.yaml": (
        "services:\n  a:\n    image: x\n    env_file: /does/not/exist.env\n")})
    assert run(capsys, "config", "--services") == (0, "a\n", "")
    assert run(capsys, "config", "--images") == (0, "x\n", "")
    assert run(capsys, "config")[0] == 15


def test_quiet_silences_what_v2_prints_on_its_standard_output(
        clean_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make(clean_env, MODELS)
    # v2's listings write to the terminal it held before -q redirected stdout.
    assert run(capsys, "config", "-q", "--services") == (0, "s\n", "")
    assert run(capsys, "config", "-q", "--variables")[1].startswith("NAME ")
    assert run(capsys, "config", "-q", "--variables", "--format", "json")[1] == "{}\n\n"
    assert run(capsys, "config", "-q", "--variables", "--format", "yaml") == (0, "", "")
    assert run(capsys, "config", "-q", "--environment") == (0, "", "")


def test_flag_precedence_is_v2s(clean_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make(clean_env, MODELS)
    assert run(capsys, "config", "--images", "--models")[1] in ("ai/x\nai/y\n", "ai/y\nai/x\n")
    assert run(capsys, "config", "--networks", "--models")[1] == "default\n"
    assert run(capsys, "config", "--profiles", "--hash", "*")[1].startswith("s ")
    assert run(capsys, "config", "--environment", "--variables")[1].startswith("NAME ")


def test_unknown_project_format_is_a_usage_error(
        clean_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make(clean_env, MODELS)
    # v2's message (v2 exits 1 once the project is loaded; usage errors exit 2 here).
    assert run(capsys, "config", "--format", "table") == (
        2, "", 'composer: unsupported format "table"\n')
    assert run(capsys, "config", "--environment", "--format", "table")[0] == 0
    assert run(capsys, "config", "--format", "json", "--services") == (0, "s\n", "")


def test_no_env_resolution_and_dry_run_change_nothing(
        clean_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make(clean_env, PATHS)
    plain = run(capsys, "config", "--format", "json")
    assert plain[0] == 0 and json.loads(plain[1])["services"]["web"]["environment"] == {"A": "1"}
    assert run(capsys, "config", "--format", "json", "--no-env-resolution") == plain
    assert run(capsys, "config", "--format", "json", "--dry-run") == plain
    assert run(capsys, "--dry-run", "config", "--format", "json") == plain
    rc, out, _ = run(capsys, "version", "--dry-run")
    assert rc == 0 and out.startswith("composer version ")


def test_image_digest_flags_are_not_offered(clean_env: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    make(clean_env, MODELS)
    for flag in ("--resolve-image-digests", "--lock-image-digests"):
        with pytest.raises(SystemExit) as exc:
            main(["config", flag])
        assert exc.value.code == 2
        assert f"unrecognized arguments: {flag}" in capsys.readouterr().err


# -- what v2's YAML has and its JSON leaves out ------------------------------------------------

YAML_ONLY = """\
name: yamlonly
services:
  a:
    image: x
    x-svc: 1
    build:
      context: /ctx
      x-b: 2
      ssh:
        - default
        - k2=/keys/id
    develop:
      watch:
        - path: /src
          action: sync
          target: /s
          x-w: 3
    models: [m1]
models:
  m1:
    model: ai/y
    context_size: 10
  unused:
    model: ai/z
"""

YAML_ONLY_OUT = """\
name: yamlonly
services:
  a:
    build:
      context: /ctx
      dockerfile: Dockerfile
      ssh:
        - default
        - 'k2: /keys/id'
      x-b: 2
    develop:
      watch:
        - path: /src
          action: sync
          target: /s
          x-w: 3
    image: x
    models:
      m1: null
    networks:
      default: null
    x-svc: 1
networks:
  default:
    name: yamlonly_default
models:
  m1:
    model: ai/y
    context_size: 10
"""


def test_yaml_keeps_models_ssh_keys_and_extensions(clean_env: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    make(clean_env, {"compose.yaml": YAML_ONLY})
    assert run(capsys, "config") == (0, YAML_ONLY_OUT, "")
    rc, out, _ = run(capsys, "config", "--format", "json")
    data = json.loads(out)
    assert rc == 0 and "models" not in data  # v2's JSON has no top-level models
    assert "x-b" not in data["services"]["a"]["build"]


def test_yaml_orders_map_keys_as_yaml_v3(clean_env: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    make(clean_env, {"compose.yaml": (
        "name: order\nservices:\n  a:\n    image: x\n    environment:\n"
        "      V10: a\n      V9: b\n      A_B: c\n      A1: d\n      AB: e\n")})
    env = "    environment:\n      A_B: c\n      A1: d\n      AB: e\n      V9: b\n      V10: a\n"
    service = f"  a:\n{env}    image: x\n    networks:\n      default: null\n"
    network = "networks:\n  default:\n    name: order_default\n"
    # What v2 printed: digits compare as numbers, "_" before letters.
    assert run(capsys, "config") == (0, f"name: order\nservices:\n{service}{network}", "")
    assert run(capsys, "config", "--no-interpolate") == (
        0, f"name: order\n{network}services:\n{service}", "")
    # JSON keeps Go's encoding/json order (bytewise).
    out = run(capsys, "config", "--format", "json")[1]
    assert list(json.loads(out)["services"]["a"]["environment"]) == ["A1", "AB", "A_B", "V10", "V9"]
