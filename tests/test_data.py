"""Loading matrices: the bad-input corpus, unusual valid files, the data folder and named data sets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import em_core
from em_core.data import (
    BUILTIN,
    COURSE_FILES,
    Dataset,
    available_datasets,
    data_dir,
    dataset_from_bytes,
    load_dataset,
    load_matrix,
    parse_matrix,
)
from em_core.errors import DataError
from em_core.validation import check_k
from tests.badfiles import BadCase, bad_cases, valid_cases

REPO = Path(__file__).resolve().parents[1]

BAD = bad_cases()
VALID = valid_cases()


def load_like_a_user(case: BadCase) -> Dataset:
    """What the CLI and the dashboard do with an upload: parse, check the gold file, check K."""
    dataset = dataset_from_bytes(case.content, case.filename, case.gold, case.gold_filename)
    check_k(case.k, dataset.X.shape[0], dataset.name)
    return dataset


def write_case(folder: Path, case) -> tuple[Path, Path | None]:
    path = folder / case.filename
    path.write_bytes(case.content)
    gold = None
    if case.gold is not None:
        gold = folder / case.gold_filename
        gold.write_bytes(case.gold)
    return path, gold


@pytest.fixture
def empty_data_dir(tmp_path, monkeypatch) -> Path:
    """EM_DATA_DIR pointing at a folder without any course file."""
    folder = tmp_path / "no-course-files"
    folder.mkdir()
    monkeypatch.setenv("EM_DATA_DIR", str(folder))
    return folder


# ---------------------------------------------------------------- the corpus


def test_corpus_is_large_and_its_names_unique():
    names = [case.name for case in BAD] + [case.name for case in VALID]
    assert len(BAD) >= 25
    assert len(names) == len(set(names))


@pytest.mark.parametrize("case", BAD, ids=lambda c: c.name)
def test_bad_upload_raises_the_message_a_user_reads(case):
    with pytest.raises(DataError, match=case.message) as info:
        load_like_a_user(case)
    message = str(info.value)
    assert case.blamed_file in message
    if case.line is not None:
        assert f"line {case.line}" in message
    # the CLI prints it as one line after "error: "
    assert "\n" not in message and "\r" not in message


@pytest.mark.parametrize("case", BAD, ids=lambda c: c.name)
def test_bad_file_on_disk_gives_the_same_message(case, tmp_path):
    path, gold = write_case(tmp_path, case)
    with pytest.raises(DataError, match=case.message):
        dataset = load_dataset(path, gold)
        check_k(case.k, dataset.X.shape[0], dataset.name)


@pytest.mark.parametrize("case", VALID, ids=lambda c: c.name)
def test_valid_edge_case_loads_exactly(case, tmp_path):
    expected = np.array(case.rows, dtype=float)
    X, _ = parse_matrix(case.content, case.filename)
    assert X.shape == case.shape
    np.testing.assert_array_equal(X, expected)

    path, gold = write_case(tmp_path, case)
    dataset = load_dataset(path, gold)
    np.testing.assert_array_equal(dataset.X, expected)
    assert dataset.name == case.filename and dataset.kind == "ratings" and dataset.source == "file"
    if case.gold_rows is None:
        assert dataset.gold is None
    else:
        np.testing.assert_array_equal(dataset.gold, np.array(case.gold_rows, dtype=float))
    np.testing.assert_array_equal(load_matrix(path), expected)


# ---------------------------------------------------------------- parse_matrix


def test_line_numbers_are_the_file_lines_of_the_rows():
    # blank lines and a CRLF line end do not shift the count
    X, lines = parse_matrix(b"\n1 2\n\n3 4\r\n  \n5 6", "f.txt")
    assert lines == [2, 4, 6]
    np.testing.assert_array_equal(X, [[1, 2], [3, 4], [5, 6]])


def test_text_and_bytes_parse_alike():
    np.testing.assert_array_equal(parse_matrix("1 2\n3 4\n")[0], parse_matrix(b"1 2\n3 4\n")[0])


def test_message_names_input_when_no_file_name_is_given():
    with pytest.raises(DataError, match=r"^input line 2: expected 2 values"):
        parse_matrix(b"1 2\n3\n")


def test_nan_is_rejected_even_where_0_would_mean_missing():
    # a NaN must never slip through as a "missing" marker: 0 is the only one
    with pytest.raises(DataError, match="use finite numbers, with 0 for a missing rating"):
        parse_matrix(b"1,2\nNaN,3\n", "ratings.csv")


@given(
    hnp.arrays(
        float,
        hnp.array_shapes(min_dims=2, max_dims=2, max_side=6),
        elements=st.floats(allow_nan=False, allow_infinity=False, width=64),
    ),
    st.sampled_from([" ", "\t", ",", ", "]),
    st.sampled_from(["\n", "\r\n"]),
)
def test_a_saved_matrix_loads_back_exactly(X, sep, newline):
    text = newline.join(sep.join(repr(float(v)) for v in row) for row in X) + newline
    loaded, lines = parse_matrix(text.encode(), "saved.txt")
    np.testing.assert_array_equal(loaded, X)
    assert lines == list(range(1, X.shape[0] + 1))


# ---------------------------------------------------------------- dataset_from_bytes, load_dataset


def test_points_may_be_all_zero_and_all_count_as_observed():
    dataset = dataset_from_bytes(b"0 0\n0 0\n0 0\n", "zeros.txt", kind="points")
    assert dataset.X.shape == (3, 2)
    assert dataset.observed.all()


def test_ratings_observed_mask_is_the_non_zero_entries():
    dataset = dataset_from_bytes(b"1 0\n0 2\n", "r.txt")
    np.testing.assert_array_equal(dataset.observed, [[True, False], [False, True]])


def test_points_kind_applies_to_files(tmp_path):
    path = tmp_path / "zeros.txt"
    path.write_bytes(b"0 0\n0 0\n")
    assert load_dataset(path, kind="points").kind == "points"
    with pytest.raises(DataError, match=r"zeros\.txt: no observed entry"):
        load_dataset(path)  # files are ratings unless told otherwise


def test_unknown_kind_is_refused():
    with pytest.raises(DataError, match=r"kind must be one of .*'ratings'.*got 'rating'"):
        dataset_from_bytes(b"1 2\n", "r.txt", kind="rating")


def test_missing_file_says_so(tmp_path):
    missing = tmp_path / "nope.txt"
    with pytest.raises(DataError, match=r"nope\.txt: no such file or data set; give a file path or one of: demo-2d"):
        load_dataset(missing)
    with pytest.raises(DataError, match=r"nope\.txt: no such file; check the path"):
        load_matrix(missing)


def test_missing_gold_file_says_so(tmp_path):
    matrix = tmp_path / "m.txt"
    matrix.write_bytes(b"1 2\n")
    with pytest.raises(DataError, match=r"gold\.txt: no such file; check the path"):
        load_dataset(matrix, tmp_path / "gold.txt")


def test_folder_instead_of_file_says_so(tmp_path):
    with pytest.raises(DataError, match="is a folder, not a file; give the path of a matrix file"):
        load_matrix(tmp_path)
    with pytest.raises(DataError, match="is a folder, not a file"):
        load_dataset(tmp_path)


def test_gold_file_with_a_named_set_is_refused(tmp_path):
    gold = tmp_path / "g.txt"
    gold.write_bytes(b"1 2\n")
    with pytest.raises(
        DataError, match="'demo-small' is a named data set .*; give a gold file only with a matrix file"
    ):
        load_dataset("demo-small", gold)


def test_a_file_named_like_a_course_set_is_read_as_a_file(tmp_path, monkeypatch, empty_data_dir):
    monkeypatch.chdir(tmp_path)
    Path("toy").write_bytes(b"1 2\n3 4\n")
    dataset = load_dataset("toy")
    assert dataset.source == "file"
    np.testing.assert_array_equal(dataset.X, [[1, 2], [3, 4]])


def test_data_error_is_a_value_error():
    assert issubclass(DataError, ValueError)
    assert em_core.DataError is DataError
    with pytest.raises(ValueError):
        parse_matrix(b"")


# ---------------------------------------------------------------- the data folder


def test_data_dir_follows_em_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("EM_DATA_DIR", str(tmp_path))
    assert data_dir() == tmp_path.resolve()


def test_data_dir_expands_home(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("EM_DATA_DIR", "~/course")
    assert data_dir() == (tmp_path / "course").resolve()


@pytest.mark.parametrize("value", [None, ""], ids=["unset", "empty"])
def test_data_dir_defaults_to_the_repos_data_folder(value, monkeypatch):
    if value is None:
        monkeypatch.delenv("EM_DATA_DIR", raising=False)
    else:
        monkeypatch.setenv("EM_DATA_DIR", value)
    assert data_dir() == REPO / "data"


@pytest.mark.parametrize(
    ("name", "missing"),
    [
        ("toy", "toy_data.txt"),
        ("test", "test_incomplete.txt, test_complete.txt"),
        ("netflix", "netflix_incomplete.txt, netflix_complete.txt"),
    ],
)
def test_course_set_without_files_says_where_to_put_them(name, missing, empty_data_dir):
    with pytest.raises(DataError) as info:
        load_dataset(name)
    message = str(info.value)
    assert f"course data set {name!r} needs {missing} in {empty_data_dir}" in message
    assert "put the course files there or set EM_DATA_DIR" in message


def test_course_set_names_only_the_file_that_is_missing(empty_data_dir):
    (empty_data_dir / "test_incomplete.txt").write_bytes(b"1 0\n0 2\n")
    with pytest.raises(DataError, match=r"needs test_complete\.txt in "):
        load_dataset("test")
    assert "test" not in available_datasets()


def test_course_names_resolve_to_their_files(empty_data_dir):
    # stand-in files (not course data) in the data folder
    (empty_data_dir / "test_incomplete.txt").write_bytes(b"1 0\n0 2\n")
    (empty_data_dir / "test_complete.txt").write_bytes(b"1 5\n4 2\n")
    (empty_data_dir / "toy_data.txt").write_bytes(b"0.5 -1\n0 0\n")
    test = load_dataset("test")
    np.testing.assert_array_equal(test.X, [[1, 0], [0, 2]])
    np.testing.assert_array_equal(test.gold, [[1, 5], [4, 2]])
    assert (test.name, test.kind, test.source) == ("test_incomplete.txt", "ratings", "course")
    toy = load_dataset("toy")
    assert (toy.kind, toy.gold) == ("points", None)  # a zero row is fine for points
    assert available_datasets() == [*BUILTIN, "toy", "test"]


def test_course_gold_contradicting_its_matrix_names_the_gold_line(empty_data_dir):
    (empty_data_dir / "test_incomplete.txt").write_bytes(b"1 0\n0 2\n")
    (empty_data_dir / "test_complete.txt").write_bytes(b"1 5\n4 3\n")
    with pytest.raises(DataError, match=r"test_complete\.txt line 2 column 2 is 3 but .*test_incomplete\.txt is 2"):
        load_dataset("test")


def test_without_course_files_only_built_in_sets_are_offered(empty_data_dir):
    assert available_datasets() == list(BUILTIN)


@pytest.mark.parametrize("name", list(BUILTIN))
def test_built_in_sets_load_without_course_files(name, empty_data_dir):
    dataset = load_dataset(name)
    assert dataset.source == "built-in"
    assert dataset.kind == BUILTIN[name][1]


def test_built_in_set_cannot_be_changed_by_a_caller(empty_data_dir):
    # the loaded set is shared: a write must fail instead of changing it for everybody
    dataset = load_dataset("demo-small")
    before = dataset.X.copy()
    with pytest.raises(ValueError, match="read-only"):
        dataset.X[0, 0] = 99.0
    with pytest.raises(ValueError, match="read-only"):
        dataset.gold[0, 0] = 99.0
    np.testing.assert_array_equal(load_dataset("demo-small").X, before)


# ---------------------------------------------------------------- the course files (when present)


@pytest.mark.course
def test_course_sets_are_offered_when_present(course_dir):
    assert set(available_datasets()) == set(BUILTIN) | set(COURSE_FILES)


@pytest.mark.course
@pytest.mark.parametrize(
    ("name", "matrix", "gold", "kind"),
    [
        ("toy", "toy_data.txt", None, "points"),
        ("test", "test_incomplete.txt", "test_complete.txt", "ratings"),
        ("netflix", "netflix_incomplete.txt", "netflix_complete.txt", "ratings"),
    ],
)
def test_course_set_matches_numpy_loadtxt(name, matrix, gold, kind, course_matrix):
    dataset = load_dataset(name)
    assert (dataset.name, dataset.kind, dataset.source) == (matrix, kind, "course")
    np.testing.assert_array_equal(dataset.X, course_matrix(matrix))
    if gold is None:
        assert dataset.gold is None
    else:
        np.testing.assert_array_equal(dataset.gold, course_matrix(gold))
