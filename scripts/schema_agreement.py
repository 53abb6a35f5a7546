"""Compare composer's schema verdicts with the official schema's and Docker Compose v2's.

For every compose file of the reference corpus (``manifest.tsv``):

* ``official``: our verdict on the file as ``yaml.safe_load`` reads it, without
  interpolation (the manifest's method), against the ``schema_valid`` column;
* ``v2``: our verdict after interpolation with the manifest's fixed environment (and
  the folder's ``.env``), against Docker Compose v2.40.3's: refused by its schema
  (``validating <file>: ...``) or got past it (``ok``, or an error v2 only raises after
  its schema check). Files v2 refused before its schema check are left out.

Usage: ``python scripts/schema_agreement.py [--corpus DIR]``; exits 1 on an unexpected
disagreement (those in :data:`INTENDED` are reported but expected).
"""

from __future__ import annotations

import argparse
import csv
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from composer.config import interpolation, schema
from composer.errors import ComposerError

DEFAULT_CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"

# The environment the manifest's v2 verdicts were produced with.
MANIFEST_ENV = {
    "HOME": "/home/user",
    "HOSTNAME_VALUE": "myhost",
    "HOST_PORT": "8001",
    "LABEL_VALUE": "myvalue",
    "IMAGE": "busybox",
    "VOLUME_NAME": "vol",
    "BAR": "bar",
    "FOO": "foo",
}

# v2 messages raised only after its schema check passed.
V2_AFTER_SCHEMA = (
    "has neither an image nor a build context",
    "MUST include service.platform",
    "env file ",
    "error calling MarshalJSON",
)

# (comparison, corpus path) -> why our verdict differs on purpose.
INTENDED: dict[tuple[str, str], str] = {
    ("official", "compose-v2/pkg/e2e/testdata/TestLocalComposeConfigNoConsistency/compose.yaml"):
        "a null service model entry: v2's embedded schema allows it, the official one not",
}


@dataclass(frozen=True)
class Disagreement:
    """One file on which our verdict differs from a reference verdict."""

    against: str  # "official" or "v2"
    path: str
    ours: bool
    theirs: bool

    @property
    def reason(self) -> str | None:
        return INTENDED.get((self.against, self.path))


@dataclass
class Comparison:
    """Counts per reference, and the disagreements."""

    files: dict[str, int]
    agree: dict[str, int]
    disagreements: list[Disagreement]


def _v2_schema_verdict(row: dict[str, str]) -> bool | None:
    """True if v2 got past its schema check, False if its schema refused, None if unknown."""
    if row["v2_config"] == "ok":
        return True
    v2_notes = [part for part in row["note"].split(" | ") if part.startswith("v2: ")]
    message = v2_notes[-1][4:] if v2_notes else ""
    if message.startswith("validating "):
        return False
    if any(marker in message for marker in V2_AFTER_SCHEMA):
        return True
    return None


def _environment(folder: Path) -> dict[str, str]:
    env: dict[str, str] = {}
    dotenv = folder / ".env"
    if dotenv.is_file():
        from composer.config import dotenv as dotenv_mod

        try:
            values = dotenv_mod.load_dotenv_file(str(dotenv), MANIFEST_ENV.get)
        except ComposerError:
            values = {}
        env.update({k: v for k, v in values.items() if v is not None})
    env.update(MANIFEST_ENV)
    return env


def _interpolated_verdict(data: Any, folder: Path) -> bool | None:
    env = _environment(folder)
    try:
        data = interpolation.interpolate(data, env.get)
    except ComposerError:
        return None
    return schema.is_valid(data)


def compare(corpus: Path) -> Comparison:
    """Run both comparisons over the corpus at ``corpus``."""
    files = {"official": 0, "v2": 0}
    agree = {"official": 0, "v2": 0}
    found: list[Disagreement] = []
    with open(corpus / "manifest.tsv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    for row in rows:
        path = corpus / row["path"]
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
        ours = schema.is_valid(data)
        official = row["schema_valid"] == "true"
        files["official"] += 1
        if ours == official:
            agree["official"] += 1
        else:
            found.append(Disagreement("official", row["path"], ours, official))
        v2 = _v2_schema_verdict(row)
        if v2 is None:
            continue
        ours_interpolated = _interpolated_verdict(data, path.parent)
        if ours_interpolated is None:
            continue
        files["v2"] += 1
        if ours_interpolated == v2:
            agree["v2"] += 1
        else:
            found.append(Disagreement("v2", row["path"], ours_interpolated, v2))
    return Comparison(files, agree, found)


def _verdict(valid: bool) -> str:
    return "valid" if valid else "invalid"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    args = parser.parse_args(argv)
    if not (args.corpus / "manifest.tsv").is_file():
        print(f"no corpus at {args.corpus}", file=sys.stderr)
        return 2
    result = compare(args.corpus)
    print(f"{'reference':<34} {'files':>5} {'agree':>5} {'disagree':>8}")
    labels = {
        "official": "official schema (no interpolation)",
        "v2": "Docker Compose v2.40.3 (schema)",
    }
    for key, label in labels.items():
        n, ok = result.files[key], result.agree[key]
        print(f"{label:<34} {n:>5} {ok:>5} {n - ok:>8}")
    unexpected = 0
    for d in result.disagreements:
        note = f"intended: {d.reason}" if d.reason else "UNEXPECTED"
        unexpected += d.reason is None
        print(f"  {d.against}: {d.path}: ours {_verdict(d.ours)}, "
              f"theirs {_verdict(d.theirs)} ({note})")
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
