"""Dotenv parsing: the compose ``.env`` / ``env_file`` syntax as Compose v2 reads it.

The expected mappings in ``V2_FILES`` were printed by Docker Compose v2.40.3 for a
service with ``env_file: [e.env]`` (``$$`` in its output read back as ``$``), with the
process environment ``ENV``; v2 leaves out bare names that are unset.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from composer.config.dotenv import load_dotenv_file, parse_dotenv, parse_raw_env
from composer.errors import EnvFileError, Mark

ENV = {"LK": "lv", "EMPTY": "", "A": "envA"}

V2_FILES = [
    (
        'A=1\n'
        'export B=2\n'
        ' C = 3 \n'
        '#c\n'
        '\n'
        'D=4 # comment\n'
        'E=5# nocomment\n'
        'F="6 # q"\n'
        "G='7 $A'\n"
        'H="8 $A ${B}"\n'
        'I=\n'
        'J\n'
        'LK\n'
        'EMPTY\n'
        'K="a\\nb\\tc\\\\d\\"e\\$f"\n'
        "L='a\\nb'\n",
        {
            'A': '1',
            'B': '2',
            'C': '3',
            'D': '4',
            'E': '5# nocomment',
            'EMPTY': '',
            'F': '6 # q',
            'G': '7 $A',
            'H': '8 envA 2',
            'I': '',
            'K': 'a\nb\tc\\d"e$f',
            'L': 'a\\nb',
            'LK': 'lv',
        },
    ),
    (
        'A=1\n'
        'B=$A\n'
        'C=${LK}\n'
        'LK=filelk\n'
        'D=$LK\n'
        'E=${NOPE:-d}\n'
        'F=$X1\n'
        'X1=x\n'
        'G=$X1\n',
        {
            'A': '1',
            'B': 'envA',
            'C': 'lv',
            'D': 'lv',
            'E': 'd',
            'F': '',
            'G': 'x',
            'LK': 'filelk',
            'X1': 'x',
        },
    ),
    ('=x\n', {'': 'x'}),
    ('A-B.c[0]=1\n', {'A-B.c[0]': '1'}),
    ('1A=1\nB=2\n', {'1A': '1', 'B': '2'}),
    ('A:1\nB: 2\n', {'A': '1', 'B': '2'}),
    ('LK', {'': 'LK'}),
    ('X=1\nLK', {'': 'LK', 'X': '1'}),
    ('Z', {'': 'Z'}),
    (
        'export A1=1\n'
        'exportA2=2\n'
        'export  A3=3\n'
        'export=4\n'
        'export\n',
        {
            'A1': '1',
            'A3': '3',
            'export': '4',
            'exportA2': '2',
        },
    ),
    (
        'A1=1 #c\n'
        'A2=1\t#c\n'
        'A3=1 # c # d\n'
        'A4=   x  y   \n'
        'A5= #c\n'
        'A6=a#b\n'
        'A7=  "q"\n'
        'A8=\n',
        {
            'A1': '1',
            'A2': '1\t#c',
            'A3': '1',
            'A4': 'x  y',
            'A5': '#c',
            'A6': 'a#b',
            'A7': 'q',
            'A8': '',
        },
    ),
    ('A1="x" # c\nA2="x"y\nA3="x" B3=3\n', {'A1': 'x', 'A2': 'x', 'A3': 'x', 'B3': '3'}),
    (
        'A1="\\a\\b\\c\\f\\n\\r\\t\\v\\$\\"\\\\\\0101\\x41\\u004'
        '1\\\'\\0\\01\\012\\0777\\01234\\08"\n',
        {
            'A1': '\x07\x08\\c\x0c\n\r\t\x0b$"\\A\\x41\\u0041\\\'\\\\1\\12\\777S4\\8',
        },
    ),
    (
        "A1='a\\'b'\n"
        "A2='a\\nb'\n"
        "A3='$LK ${LK}'\n"
        "A4='a\\\\b'\n",
        {
            'A1': "a'b",
            'A2': 'a\\nb',
            'A3': '$LK ${LK}',
            'A4': 'a\\\\b',
        },
    ),
    ('É=1\nA.b-c[d]=2\n', {'A.b-c[d]': '2', 'É': '1'}),
    ('A1=1\r\nA2="x"\r\nA3\r\n', {'A1': '1', 'A2': 'x'}),
    (
        'A1=\\$LK\n'
        'A2=$$LK\n'
        'A3="$$LK"\n'
        'A4="\\$LK"\n'
        'A5=$LK\n',
        {
            'A1': '\\lv',
            'A2': '$LK',
            'A3': '$LK',
            'A4': '$LK',
            'A5': 'lv',
        },
    ),
    (
        'A="multi\n'
        'line\n'
        'value"\n'
        "B='multi\n"
        "single'\n",
        {
            'A': 'multi\nline\nvalue',
            'B': 'multi\nsingle',
        },
    ),
    ('\ufeffBOM=1\n', {'BOM': '1'}),
    ('A\tB=1\n', {'A\tB': '1'}),
    ('A=1\nA\n', {'A': 'envA'}),
    ('A=1\nA=2\n', {'A': '2'}),
    ('Q="a\\"b"\n', {'Q': 'a"b'}),
    ('Q="a\\\\"\n', {'Q': 'a\\'}),
    ('A=x"y"\n', {'A': 'x"y"'}),
    ("A= 'q' \n", {'A': 'q'}),
    ('A=""\n', {'A': ''}),
    ("A=''\n", {'A': ''}),
    ('  # indented comment\nA=1\n', {'A': '1'}),
    ('A=1 ## c\n', {'A': '1'}),
    ('A=${LK:-d} ${NOPE}\n', {'A': 'lv '}),
    ('A="${LK:+set}"\n', {'A': 'set'}),
    ("A='${NOPE}'\n", {'A': '${NOPE}'}),
    ('A=a b c\n', {'A': 'a b c'}),
    ('export\tA=1\n', {'A': '1'}),
    ('export', {'': 'export'}),
    ('A=1\n#\nB=2\n#last', {'A': '1', 'B': '2'}),
    ('A="x"#c\n', {'A': 'x'}),
    ('A="a\nb" # c\nB=2\n', {'A': 'a\nb', 'B': '2'}),
    ('A = "x"\n', {'A': 'x'}),
    ('A =x\n', {'A': 'x'}),
    ('A: "y"\n', {'A': 'y'}),
    ('A=\t1\t\n', {'A': '1'}),
    ('A="\\u00e9"\n', {'A': '\\u00e9'}),
    ('A=${LK}${LK}\n', {'A': 'lvlv'}),
    ('A=$LK$$\n', {'A': 'lv$'}),
    ('A=é\n', {'A': 'é'}),
    ('A="\\\n"\n', {'A': '\\\n'}),
]


@pytest.mark.parametrize(("text", "expected"), V2_FILES)
def test_file_matches_v2(text: str, expected: dict[str, str]) -> None:
    got = parse_dotenv(text, "e.env", ENV.get)
    assert {k: v for k, v in got.items() if v is not None} == expected


def test_bare_unset_name_is_none() -> None:
    assert parse_dotenv("J\nLK\n", "e.env", ENV.get) == {"J": None, "LK": "lv"}
    # ...but never hides a value the file gave earlier.
    assert parse_dotenv("J=1\nJ\n", "e.env", ENV.get) == {"J": "1"}


def test_lookup_wins_over_earlier_keys() -> None:
    # v2 resolves ${A} through the environment first, the file's own keys second.
    got = parse_dotenv("A=1\nB=$A\nC=${OWN}\nOWN=o\nD=${OWN}\n", "e.env", ENV.get)
    assert got == {"A": "1", "B": "envA", "C": "", "OWN": "o", "D": "o"}


def test_without_lookup_earlier_keys_resolve() -> None:
    assert parse_dotenv('A=1\nB="${A}2"\nC=$B\n', "e.env") == {"A": "1", "B": "12", "C": "12"}


def test_unset_variables_warn() -> None:
    warnings: list[str] = []
    got = parse_dotenv('A=$NOPE\nB="${NOPE2}"\nC=${NOPE3:-x}\nD=\'$NOPE4\'\n', "e.env",
                       ENV.get, warn=warnings.append)
    assert got == {"A": "", "B": "", "C": "x", "D": "$NOPE4"}
    assert warnings == [
        'The "NOPE" variable is not set. Defaulting to a blank string.',
        'The "NOPE2" variable is not set. Defaulting to a blank string.',
    ]


@pytest.mark.parametrize(("text", "message"), [
    ("A B=1\n", "e.env:1:1: key cannot contain a space"),
    ("A$=1\n", 'e.env:1:2: unexpected character "$" in variable name "A$=1"'),
    ("A,B=1\n", 'e.env:1:2: unexpected character "," in variable name "A,B=1"'),
    ("X=1\nY=\"a\nb\"\nZ=\u00e9\n  Q@=1\n",
     'e.env:5:4: unexpected character "@" in variable name "Q@=1"'),
    ('A="unterminated\nB=2\n', 'e.env:1:3: unterminated quoted value "unterminated'),
    ('X=1\n\n\nA="unterminated\nB=2\n', 'e.env:4:3: unterminated quoted value "unterminated'),
    ("A='open\n", "e.env:1:3: unterminated quoted value 'open"),
    ("A=${B\n", 'e.env:1:3: Invalid template: "${B"'),
    ("X=1\nA.B=1\nC=${A.B}\n", 'e.env:3:3: Invalid template: "${A.B}"'),
    ("A=${B:?oops}\n", "e.env:1:3: required variable B is missing a value: oops"),
    ('A="x ${B:?oops}"\n', "e.env:1:3: required variable B is missing a value: oops"),
    ("export ", "e.env:1:8: zero length string"),
])
def test_malformed_files_name_file_and_line(text: str, message: str) -> None:
    with pytest.raises(EnvFileError) as info:
        parse_dotenv(text, "e.env", ENV.get)
    assert str(info.value) == message
    assert isinstance(info.value.mark, Mark)


def test_keys_may_start_with_a_digit() -> None:
    # v2.40 keeps them, in the project .env as in env_file.
    assert parse_dotenv("1A=x\nB=2\n 2C=y\n", ".env") == {"1A": "x", "B": "2", "2C": "y"}


# ------------------------------------------------------------------ files


def test_missing_file_is_worded_as_v2(tmp_path: Path) -> None:
    path = str(tmp_path / ".env")
    with pytest.raises(EnvFileError) as info:
        load_dotenv_file(path)
    assert str(info.value) == (
        f"env file {path} not found: stat {path}: no such file or directory"
    )


def test_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(EnvFileError) as info:
        load_dotenv_file(str(tmp_path))
    assert str(info.value) == f"failed to read {tmp_path}: read {tmp_path}: is a directory"


def test_file_with_bom_and_bad_utf8(tmp_path: Path) -> None:
    path = tmp_path / "e.env"
    path.write_bytes(b"\xef\xbb\xbfA=1\nB=\xff\xfe\n")
    assert load_dotenv_file(str(path)) == {"A": "1", "B": "\ufffd\ufffd"}


def test_file_errors_carry_the_path(tmp_path: Path) -> None:
    path = tmp_path / "e.env"
    path.write_text("OK=1\nBAD KEY=1\n")
    with pytest.raises(EnvFileError) as info:
        load_dotenv_file(str(path))
    assert info.value.mark == Mark(str(path), 2, 1)


def test_load_passes_lookup_and_warn(tmp_path: Path) -> None:
    path = tmp_path / "e.env"
    path.write_text("A=${LK}-$NOPE\nLK\n")
    warnings: list[str] = []
    assert load_dotenv_file(str(path), ENV.get, warn=warnings.append) == {
        "A": "lv-", "LK": "lv"}
    assert warnings == ['The "NOPE" variable is not set. Defaulting to a blank string.']


# ------------------------------------------------------------------ format: raw


def test_raw_format_matches_v2() -> None:
    text = ' B=2\n# c\n  #c\nC="q" # x\nLK\nNOPE\nD=$LK\n\ufeffE=1\nF=a=b\nG=x\r\n'
    assert parse_raw_env(text, "r.env", ENV.get) == {
        "B": "2", "C": '"q" # x', "LK": "lv", "D": "$LK", "\ufeffE": "1", "F": "a=b",
        "G": "x",
    }
    assert parse_raw_env("\ufeffA=1 \n", "r.env") == {"A": "1 "}


@pytest.mark.parametrize(("text", "message"), [
    ("A=1\n  B = 2\n", "r.env:2:1: variable 'B ' contains whitespaces"),
    ("A\tB\n", "r.env:1:1: variable 'A\tB' contains whitespaces"),
    ("=1\n", "r.env:1:1: no variable name on line '=1'"),
])
def test_raw_format_errors(text: str, message: str) -> None:
    with pytest.raises(EnvFileError) as info:
        parse_raw_env(text, "r.env")
    assert str(info.value) == message


def test_load_raw_and_unknown_formats(tmp_path: Path) -> None:
    path = tmp_path / "r.env"
    path.write_bytes(b"A='{\"k\": 1}'\n")
    assert load_dotenv_file(str(path), format="raw") == {"A": "'{\"k\": 1}'"}
    assert load_dotenv_file(str(path)) == {"A": '{"k": 1}'}
    with pytest.raises(EnvFileError) as info:
        load_dotenv_file(str(path), format="weird")
    assert 'unsupported env_file format "weird"' in str(info.value)
    path.write_bytes(b"A=1\nB=\xff\n")
    with pytest.raises(EnvFileError) as info:
        load_dotenv_file(str(path), format="raw")
    assert info.value.mark == Mark(str(path), 2, 1)


# ------------------------------------------------------------------ corpus


def _unset(name: str) -> str | None:
    return None


CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"


def test_corpus_env_files_parse() -> None:
    if not CORPUS.is_dir():
        pytest.skip("reference corpus not available")
    files = [p for p in CORPUS.rglob("*") if p.is_file()
             and (p.name.startswith(".env") or p.suffix == ".env")]
    assert files
    for path in files:
        load_dotenv_file(str(path), _unset)
    comments = CORPUS / "compose-v2/pkg/e2e/testdata/TestCommentsInEnvFile/.env"
    if comments.is_file():
        assert load_dotenv_file(str(comments)) == {"COMMENT": "1234#5", "NO_COMMENT": "1234#5"}
