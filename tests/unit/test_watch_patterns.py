"""``.dockerignore`` patterns as moby's ``patternmatcher`` reads them (what
``docker build`` and Docker Compose v2's watch use): the matcher, the ignore
file's reader, the patterns made absolute as v2's watch makes them, Go's
``filepath.Clean``.

Most tables restate cases of moby's own tests (``patternmatcher_test.go``,
``ignorefile_test.go``) and of Compose v2's ``dockerignore_test.go`` as
behaviour: a pattern list, a path, whether the path is matched. ``matches``
is moby's ``MatchesOrParentMatches``: a path is matched when it, or one of its
parent folders, is.
"""

from __future__ import annotations

import pytest

from composer.errors import ConfigError
from composer.plan.patterns import PatternMatcher, absolute_patterns, go_clean, read_ignore_text


def matched(patterns: list[str], path: str) -> bool:
    return PatternMatcher(patterns).matches(path)


# -- one pattern ------------------------------------------------------------------------------

# (pattern, path, matched)
WILDCARDS = [
    # "*": any run of characters but "/"
    ("*", "abc", True),
    ("*c", "abc", True),
    ("a*", "a", True),
    ("a*", "ab/c", True),  # "ab" matches: its parent folder counts
    ("a*/b", "abc/b", True),
    ("a*/b", "a/c/b", False),
    ("a*b", "a/b", False),
    ("a/*.txt", "a/file.txt", True),
    ("a/*.txt", "a/dir/file.txt", False),
    ("a*b*c*d*e*/f", "axbxcxdxexxx/f", True),
    ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", False),
    ("a*b?c*x", "abxbbxdbxebxczzx", True),
    ("a*b?c*x", "abxbbxdbxebxczzy", False),
    ("*x", "xxx", True),
    (".*", ".foo", True),
    (".*", "foo", False),
    ("*.go", ".", False),  # "." is nobody's file
    # "?": one character but "/" (a character, not a byte)
    ("abc?def", "abcZdef", True),
    ("abc?def", "abcdef", False),
    ("a?b", "a/b", False),
    ("a?b", "a☺b", True),
    ("a???b", "a☺b", False),
    # classes
    ("a[b-d]e", "ace", True),
    ("a[b-d]e", "ae", False),
    ("a[b-d]e", "aae", False),
    ("a[^b-d]e", "aze", True),
    ("ab[^c]", "abc", False),
    ("ab[^e-g]", "abc", True),
    ("a[^a]b", "a☺b", True),
    ("[a-ζ]*", "α", True),
    ("*[a-ζ]", "A", False),
    # "\": the next character as it is
    ("a\\*b", "a*b", True),
    ("a\\*b", "ab", False),
    ("a\\\\", "a\\", True),
    ("[\\]a]", "]", True),
    ("[\\-]", "-", True),
    ("[x\\-]", "-", True),
    ("[x\\-]", "z", False),
    ("[\\-x]", "x", True),
    # regular-expression characters mean themselves
    ("abc.def", "abc.def", True),
    ("abc.def", "abcZdef", False),
    ("a(b)c/def", "a(b)c/def", True),
    ("a(b)c/def", "a(b)c/xyz", False),
    ("a.|)$(}+{bc", "a.|)$(}+{bc", True),
    ("dist/*.whl", "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", True),
]


@pytest.mark.parametrize(("pattern", "path", "expected"), WILDCARDS)
def test_wildcards_classes_and_escapes(pattern: str, path: str, expected: bool) -> None:
    assert matched([pattern], path) is expected


DOUBLE_STAR = [
    # "**" alone, or "**/": everything
    ("**", "file", True),
    ("**", "dir/file", True),
    ("**/", "file", True),
    ("**/**", "dir/file", True),
    # leading "**/": any number of folders, none included
    ("**/dir", "dir", True),
    ("**/dir", "a/b/dir", True),
    ("**/dir", "dir/file", True),  # through the parent folder
    ("**/foo/bar", "foo/bar", True),
    ("**/foo/bar", "dir/dir2/foo/bar", True),
    ("**/.foo", ".foo", True),
    ("**/.foo", "bar.foo", False),
    ("**/*.txt", "file.txt", True),
    ("**/**/*.txt", "dir/dir/file.txt", True),
    ("**/**/*.txt2", "dir/dir/file.txt", False),
    ("**/file*.txt", "dir/dir/file.txt", True),
    ("**file", "file", True),
    ("**file", "dir/dir/file", True),
    # trailing "/**": everything under the folder, not the folder itself
    ("dir/**", "dir/file", True),
    ("dir/**", "dir/dir2/file", True),
    ("abc/**", "abc", False),
    ("a/*.txt**", "a/file.txt", True),
    # in the middle
    ("a/**/b", "a/b", True),
    ("a/**/b", "a/x/y/b", True),
    ("a/**/b", "a/x/b/c", True),
    ("a/**/b", "x/a/b", False),
    ("**/dir2/*", "dir/dir2/file", True),
    ("**/dir2/**", "dir/dir2/dir3/file", True),
    ("a**/*.txt", "a/dir/dir/file.txt", True),
]


@pytest.mark.parametrize(("pattern", "path", "expected"), DOUBLE_STAR)
def test_double_star(pattern: str, path: str, expected: bool) -> None:
    assert matched([pattern], path) is expected


PARENTS = [
    ("skip", "skip", True),
    ("skip", "skip/x/y", True),
    ("skip", "skipper/x", False),
    ("skip", "a/skip/x", False),  # a pattern is anchored at the root
    ("skip/", "skip/x", True),  # cleaned: "skip"
    ("/abs/dir", "/abs/dir/f", True),
    ("/abs/dir", "/abs/director", False),
    ("/abs/*/b", "/abs/x/b/c/d", True),
]


@pytest.mark.parametrize(("pattern", "path", "expected"), PARENTS)
def test_a_path_is_matched_when_one_of_its_parent_folders_is(
        pattern: str, path: str, expected: bool) -> None:
    assert matched([pattern], path) is expected


# -- several patterns ----------------------------------------------------------------------------

EXCLUSIONS = [
    (["*.go", "!fileutils.go"], "fileutils.go", False),
    # an exclusion before the inclusion does nothing
    (["!fileutils.go", "*.go"], "fileutils.go", True),
    (["docs", "!docs/README.md"], "docs/README.md", False),
    (["docs/", "!docs/README.md"], "docs/README.md", False),
    (["docs/*", "!docs/README.md"], "docs/README.md", False),
    (["docs", "!docs/README.md"], "docs/other.md", True),
    # an exclusion of a folder puts back what is under it...
    (["**", "!util/docker/web"], "util/docker/web/foo", False),
    # ...until a later inclusion takes it again
    (["**", "!util/docker/web", "util/docker/web/foo"], "util/docker/web/foo", True),
    (["**", "!dist/*.whl"], "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", False),
    # an exclusion alone matches nothing
    (["!keep"], "keep", False),
    (["!keep"], "other", False),
    ([], "/any/path/there", False),
]


@pytest.mark.parametrize(("patterns", "path", "expected"), EXCLUSIONS)
def test_exclusions_apply_in_order(patterns: list[str], path: str, expected: bool) -> None:
    assert matched(patterns, path) is expected


def test_patterns_are_trimmed_cleaned_and_empty_ones_dropped() -> None:
    pm = PatternMatcher(["  docs  ", "", "   ", "./a/../b", "dir/", "  !docs/README.md  "])
    assert pm.patterns == ("docs", "b", "dir", "!docs/README.md")
    assert pm.exclusions
    assert pm.matches("b/x") and pm.matches("dir/x") and not pm.matches("a")
    assert pm.matches("docs/x") and not pm.matches("docs/README.md")


def test_without_an_exclusion_the_matcher_says_so() -> None:
    pm = PatternMatcher(["docs", "config"])
    assert not pm.exclusions
    assert pm and not PatternMatcher(["", "  "])


# -- refused patterns --------------------------------------------------------------------------


@pytest.mark.parametrize("patterns", [["!"], ["docs", "  !  "]])
def test_a_lone_exclamation_mark_is_refused(patterns: list[str]) -> None:
    with pytest.raises(ConfigError, match='illegal exclusion pattern: "!"'):
        PatternMatcher(patterns)


@pytest.mark.parametrize("pattern", ["[", "[^", "[^bc", "a[", "[z-a]", "[Local-Only]/"])
def test_a_pattern_that_is_no_expression_is_refused_at_once(pattern: str) -> None:
    # moby refuses the first four in New (filepath.Match's syntax check); the reversed
    # ranges it accepts, then fails every match with ErrBadPattern (moby#52203): composer
    # refuses them at once, naming the pattern.
    with pytest.raises(ConfigError) as caught:
        PatternMatcher(["ok", pattern])
    assert repr(pattern) in str(caught.value)


@pytest.mark.parametrize("pattern", ["[]a]", "[-]", "[x-]", "[-x]", "\\", "a\\", "[a-b-c]"])
def test_patterns_go_refuses_as_malformed_are_refused(pattern: str) -> None:
    with pytest.raises(ConfigError):
        PatternMatcher([pattern])


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_a_posix_class_in_brackets_is_gos() -> None:
    pm = PatternMatcher(["[[:digit:]]*.log"])
    assert pm.matches("5.log")
    assert not pm.matches("d.log")


# -- the ignore file -------------------------------------------------------------------------


def test_read_ignore_text_as_moby_reads_an_ignore_file() -> None:
    text = ("test1\n/test2\n/a/file/here\n\nlastfile\n# this is a comment\n"
            "! /inverted/abs/path\n!\n! ")
    assert read_ignore_text(text) == [
        "test1", "test2", "a/file/here", "lastfile", "!inverted/abs/path", "!", "!"]


@pytest.mark.parametrize(("text", "expected"), [
    ("\ufeffnode_modules\n", ["node_modules"]),  # a BOM first
    ("a\r\nb\r\n", ["a", "b"]),
    ("  # not a comment\n", ["# not a comment"]),  # "#" only counts first on the line
    ("#comment\n\n   \n\tdocs \n", ["docs"]),
    ("./a/../b\n", ["b"]),  # cleaned
    ("/\n", ["/"]),  # the root alone keeps its "/"
    ("!/x\n", ["!x"]),
    ("//a//b/\n", ["a/b"]),
    ("", []),
])
def test_read_ignore_text_lines(text: str, expected: list[str]) -> None:
    assert read_ignore_text(text) == expected


# -- absolute patterns (v2's watch) ----------------------------------------------------------

ABSOLUTE = [
    # Compose v2's own cases (dockerignore_test.go)
    (["dir1/", "file.txt"], ["/repo/dir1", "/repo/file.txt"]),
    (["dir1/", "!file.txt"], ["/repo/dir1", "!/repo/file.txt"]),
    (["*", "!file.txt"], ["!/repo/file.txt"]),
    ([], []),
    (["!file.txt"], ["!/repo/file.txt"]),
    # more
    (["/etc/x", "!/etc/y"], ["/etc/x", "!/etc/y"]),  # absolute ones are kept
    (["  ./a/../b  ", "", "../up"], ["/repo/b", "/up"]),
    (["**/*.log"], ["/repo/**/*.log"]),
    # v2's quirk: a lone "*" drops every pattern that is not an exclusion
    (["*"], []),
    (["a", "*", "b"], []),
    (["*", "!keep", "other"], ["!/repo/keep"]),
    # ... only when it is exactly "*"
    ([" *"], ["/repo/*"]),
    (["*.txt"], ["/repo/*.txt"]),
]


@pytest.mark.parametrize(("patterns", "expected"), ABSOLUTE)
def test_absolute_patterns(patterns: list[str], expected: list[str]) -> None:
    assert absolute_patterns("/repo", patterns) == expected


def test_absolute_patterns_match_absolute_paths_under_their_root() -> None:
    pm = PatternMatcher(absolute_patterns("/repo/src", ["*.tmp", "cache", "!cache/keep"]))
    assert pm.matches("/repo/src/x.tmp")
    assert not pm.matches("/repo/src/sub/x.tmp")  # "*" does not cross "/"
    assert not pm.matches("/repo/x.tmp")
    assert pm.matches("/repo/src/cache/a/b")
    assert not pm.matches("/repo/src/cache/keep")


def test_a_lone_star_ignores_nothing_and_includes_nothing() -> None:
    # v2 (observed): include ["*"] syncs nothing, ignore ["*", "!keep.txt"] ignores nothing.
    assert not PatternMatcher(absolute_patterns("/r", ["*"])).matches("/r/f.txt")
    ignore = PatternMatcher(absolute_patterns("/r", ["*", "!keep.txt"]))
    assert not ignore.matches("/r/f.txt") and not ignore.matches("/r/keep.txt")


# -- go_clean ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("path", "expected"), [
    ("", "."),
    (".", "."),
    ("./", "."),
    ("a/..", "."),
    ("//a/./b/../c/", "/a/c"),
    ("/..", "/"),
    ("/../x", "/x"),
    ("../x", "../x"),
    ("a/../../x", "../x"),
    ("../../x/..", "../.."),
    ("a//b", "a/b"),
    ("/", "/"),
    ("!./a", "!./a"),  # "!." is a name like any other
])
def test_go_clean(path: str, expected: str) -> None:
    assert go_clean(path) == expected


# -- matches_entire_dir -----------------------------------------------------------------------

@pytest.mark.parametrize(("patterns", "path", "expected"), [
    (["/x"], "/x/a", True),
    (["/x"], "/y", False),  # not matched at all
    (["/x", "!/x/a/keep"], "/x/a", False),  # something under it is put back
    (["/x", "!/x/a/keep"], "/x/b", True),
    (["/x", "!/x/ab"], "/x/a", True),  # a sibling sharing a prefix
    (["/x", "!/x/a"], "/x/a", False),  # not even matched
])
def test_matches_entire_dir(patterns: list[str], path: str, expected: bool) -> None:
    assert PatternMatcher(patterns).matches_entire_dir(path) is expected


def test_matches_entire_dir_is_false_when_an_exclusion_names_the_folder_itself() -> None:
    assert not PatternMatcher(["!/x/a", "/x"]).matches_entire_dir("/x/a")
