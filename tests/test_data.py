"""Loading matrices: the bad-input corpus, unusual valid files, the data folder and named data sets."""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import em_core
from em_core import file_reading, matrix_file
from em_core.data import (
    BUILTIN,
    COURSE_FILES,
    FOLDER_SETS,
    Dataset,
    available_datasets,
    data_dir,
    data_dirs,
    dataset_from_bytes,
    load_dataset,
    missing_data_dirs,
)
from em_core.errors import DataError
from em_core.file_reading import MAX_FILE_BYTES, read_file
from em_core.matrix_file import load_matrix, parse_matrix
from em_core.validation import check_k, check_matrix, max_magnitude
from tests.badfiles import BadCase, bad_cases, path_cases, valid_cases

REPO = Path(__file__).resolve().parents[1]

BAD = bad_cases()
VALID = valid_cases()
PATHS = path_cases()


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
    assert list(lines) == [2, 4, 6]
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
    assert list(lines) == list(range(1, X.shape[0] + 1))


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
    # (movielens-small is offered too when EM_DATA_DIR names its folder: tests/test_folder_sets.py)
    assert set(available_datasets()) - set(FOLDER_SETS) == set(BUILTIN) | set(COURSE_FILES)


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


# ---------------------------------------------------------------- reading only regular files, with a limit


def read_within(seconds: float, read, *args):
    """Call ``read(*args)`` in a daemon thread; fail (instead of hanging the suite) if it blocks."""
    outcome = {}

    def target():
        try:
            outcome["value"] = read(*args)
        except Exception as err:  # handed to the test below
            outcome["error"] = err

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"{read.__name__}{args} blocked for {seconds} s"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


@pytest.fixture
def fifo(tmp_path) -> Path:
    path = tmp_path / "ratings.txt"
    os.mkfifo(path)
    return path


def test_a_named_pipe_is_refused_without_waiting_for_a_writer(fifo):
    message = r"ratings\.txt is a named pipe \(FIFO\), not a regular file; save the data to a file and give its path"
    with pytest.raises(DataError, match=message):
        read_within(10, read_file, fifo)
    with pytest.raises(DataError, match=message):
        read_within(10, load_dataset, fifo)
    matrix = fifo.parent / "m.txt"
    matrix.write_bytes(b"1 2\n")
    with pytest.raises(DataError, match=message):
        read_within(10, load_dataset, matrix, fifo)  # as the gold file too


@pytest.mark.parametrize("case", PATHS, ids=lambda c: c.name)
def test_a_path_that_is_not_a_regular_file_is_one_clear_line_at_once(case, tmp_path):
    path = case.make(tmp_path)
    if not os.path.lexists(path):
        pytest.skip(f"{path} does not exist on this system")
    for load in (load_dataset, load_matrix):
        with pytest.raises(DataError, match="^" + re.escape(str(path)) + " " + case.message) as info:
            read_within(10, load, path)
        assert "no such file" not in str(info.value)
        assert "\n" not in str(info.value)


def test_dev_null_is_a_device_too():
    with pytest.raises(DataError, match=r"^/dev/null is a character device, not a regular file"):
        load_dataset("/dev/null")


def test_a_symlink_loop_given_as_the_gold_file_says_so(tmp_path):
    matrix = tmp_path / "m.txt"
    matrix.write_bytes(b"1 2\n")
    loop = next(case for case in PATHS if case.name == "symlink-loop").make(tmp_path)
    with pytest.raises(DataError, match="is a symbolic link loop"):
        load_dataset(matrix, loop)


def test_a_link_to_a_regular_file_reads_it(tmp_path):
    (tmp_path / "real.txt").write_bytes(b"1 2\n3 4\n")
    (tmp_path / "link.txt").symlink_to(tmp_path / "real.txt")
    np.testing.assert_array_equal(load_dataset(tmp_path / "link.txt").X, [[1, 2], [3, 4]])


def test_a_file_over_the_byte_limit_is_refused_before_it_is_read(tmp_path, monkeypatch):
    path = tmp_path / "big.txt"
    path.write_bytes(b"1 2\n" * 1000)  # 4000 bytes
    assert read_file(path, max_bytes=4000) == b"1 2\n" * 1000
    with pytest.raises(
        DataError, match=r"big\.txt is larger than 0\.003999 MB, the most EM Lab reads from one file; use"
    ):
        read_file(path, max_bytes=3999)
    reads = []
    monkeypatch.setattr(os, "read", lambda *args: reads.append(args))
    with pytest.raises(DataError, match="is larger than"):
        read_file(path, max_bytes=100)
    assert reads == []  # refused from its size alone


def test_the_file_limit_is_named_and_applies_to_load_dataset(tmp_path, monkeypatch):
    assert MAX_FILE_BYTES == 200 * 10**6
    monkeypatch.setattr(file_reading, "MAX_FILE_BYTES", 10)
    monkeypatch.setattr(file_reading.read_file, "__defaults__", (10,))
    path = tmp_path / "m.txt"
    path.write_bytes(b"1 2 3 4 5 6\n")
    with pytest.raises(DataError, match=r"m\.txt is larger than 1e-05 MB"):
        load_dataset(path)


# ---------------------------------------------------------------- magnitudes a fit can hold


def test_ratings_near_1e200_are_refused_with_the_largest_usable_magnitude():
    # the file: 30 x 6 ratings of about 1e200 made `fit` spin for ever
    content = b"".join(b"1e200 2e200 3e200 4e200 5e200 1e200\n" for _ in range(30))
    assert max_magnitude(30, 6) == pytest.approx(1.2492e152, rel=1e-4)  # quoted rounded down
    with pytest.raises(DataError) as info:
        dataset_from_bytes(content, "huge.txt")
    assert str(info.value) == (
        "huge.txt line 1 column 1: 1e+200 is too large for EM on a 30 x 6 matrix (the largest usable magnitude is "
        "1.24e+152, above which its squares overflow); rescale the data, dividing every value by the same power of 10"
    )


def test_the_bound_follows_from_float64_and_the_shape():
    # 64 n d max^2 is float64's largest value: one more bit and a sum of the fit could overflow
    for n, d in [(1, 1), (30, 6), (1200, 1200), (3, 1000)]:
        bound = max_magnitude(n, d)
        assert np.isfinite(64.0 * n * d * bound * bound)
        assert bound == pytest.approx(np.sqrt(np.finfo(float).max / (64 * n * d)), rel=1e-15)
    assert 1e150 < max_magnitude(1200, 1200) < 1e151  # the course's Netflix matrix: ratings 1-5 are far inside


@pytest.mark.parametrize("shape", [(30, 6), (3, 40), (1, 1)], ids=["long", "wider-than-long", "one-value"])
def test_a_value_at_the_bound_loads_and_the_next_float_up_does_not(shape):
    n, d = shape
    bound = max_magnitude(n, d)
    X = np.ones(shape)
    X[-1, -1] = bound
    text = "\n".join(" ".join(repr(float(v)) for v in row) for row in X).encode()
    np.testing.assert_array_equal(dataset_from_bytes(text, "edge.txt").X, X)
    X[-1, -1] = -np.nextafter(bound, np.inf)  # the sign does not matter
    text = "\n".join(" ".join(repr(float(v)) for v in row) for row in X).encode()
    with pytest.raises(DataError, match=rf"edge\.txt line {n} column {d}: .*the largest usable magnitude is"):
        dataset_from_bytes(text, "edge.txt")


def test_the_gold_file_and_arrays_are_bounded_too():
    with pytest.raises(DataError, match=r"g\.txt line 2 column 1: -1e\+300 is too large"):
        dataset_from_bytes(b"1 0\n0 2\n", "m.txt", b"1 5\n-1e300 2\n", "g.txt")
    with pytest.raises(DataError, match=r"^X: row 2 column 3: 1e\+160 is too large for EM on a 2 x 3 matrix"):
        em_core.init(np.array([[1.0, 2, 3], [4, 5, 1e160]]), 1)
    # writing numbers needs no bound: exports take any finite matrix
    check_matrix(np.array([[1e300]]), bounded=False)


def test_tiny_and_mixed_scale_values_load_exactly():
    content = b"1e-300 5e-324 1e140\n2e-300 0 -1e140\n"
    np.testing.assert_array_equal(
        dataset_from_bytes(content, "scales.txt").X, [[1e-300, 5e-324, 1e140], [2e-300, 0, -1e140]]
    )


# ---------------------------------------------------------------- reading in blocks


@pytest.fixture
def tiny_blocks(monkeypatch):
    """Blocks of 8 characters: every file of the corpus spans many of them."""
    monkeypatch.setattr(matrix_file, "_BLOCK_CHARS", 8)


@pytest.mark.parametrize("case", BAD, ids=lambda c: c.name)
def test_reading_in_blocks_gives_the_same_message(case, tiny_blocks):
    with pytest.raises(DataError, match=case.message):
        load_like_a_user(case)


@pytest.mark.parametrize("case", VALID, ids=lambda c: c.name)
def test_reading_in_blocks_gives_the_same_rows_and_lines(case, tiny_blocks, monkeypatch):
    X, lines = parse_matrix(case.content, case.filename)
    monkeypatch.setattr(matrix_file, "_BLOCK_CHARS", 2**20)
    X_whole, lines_whole = parse_matrix(case.content, case.filename)
    np.testing.assert_array_equal(X, X_whole)
    assert list(lines) == list(lines_whole)


@given(
    st.lists(st.lists(st.integers(0, 5), min_size=3, max_size=3), min_size=1, max_size=12),
    st.lists(st.sampled_from(["", "  ", "\t"]), max_size=12),
    st.integers(1, 40),
    st.sampled_from(["\n", "\r\n"]),
)
def test_blank_lines_anywhere_keep_the_file_line_of_each_row(rows, blanks, block_chars, newline):
    lines = [" ".join(map(str, row)) for row in rows]
    for i, blank in enumerate(blanks):
        lines.insert((7 * i) % (len(lines) + 1), blank)
    text = newline.join(lines) + newline
    expected = [i for i, line in enumerate(lines, start=1) if line.strip()]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(matrix_file, "_BLOCK_CHARS", block_chars)
        X, numbers = parse_matrix(text, "blanks.txt")
    np.testing.assert_array_equal(X, np.array(rows, dtype=float))
    assert list(numbers) == expected


def test_a_problem_far_into_a_large_file_names_its_line():
    content = b"1 2\n" * 300_000 + b"3 x\n"  # 1.2 MB: past the first block
    with pytest.raises(DataError, match=r"^big\.txt line 300001 column 2: 'x' is not a number"):
        parse_matrix(content, "big.txt")
    content = b"1 2\n" * 300_000 + b"\n\n3\n"
    with pytest.raises(DataError, match=r"^big\.txt line 300003: expected 2 values like the first row, found 1"):
        parse_matrix(content, "big.txt")


# ---------------------------------------------------------------- several data folders


def test_em_data_dir_may_name_several_folders(tmp_path, monkeypatch):
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    monkeypatch.setenv("EM_DATA_DIR", os.pathsep.join([str(first), "", str(second)]))  # an empty entry is skipped
    assert data_dirs() == [first.resolve(), second.resolve()]
    assert data_dir() == first.resolve()
    assert missing_data_dirs() == []
    # the toy set in the second folder, the test set split over both: each file from the first folder holding it
    (second / "toy_data.txt").write_bytes(b"0.5 -1\n2 3\n")
    (first / "test_incomplete.txt").write_bytes(b"1 0\n0 2\n")
    (second / "test_incomplete.txt").write_bytes(b"5 5\n5 5\n")
    (second / "test_complete.txt").write_bytes(b"1 5\n4 2\n")
    assert available_datasets() == [*BUILTIN, "toy", "test"]
    np.testing.assert_array_equal(load_dataset("toy").X, [[0.5, -1], [2, 3]])
    test = load_dataset("test")
    np.testing.assert_array_equal(test.X, [[1, 0], [0, 2]])
    np.testing.assert_array_equal(test.gold, [[1, 5], [4, 2]])


def test_a_data_folder_that_does_not_exist_is_listed_and_named_in_messages(tmp_path, monkeypatch):
    present, absent = tmp_path / "course", tmp_path / "typo"
    present.mkdir()
    monkeypatch.setenv("EM_DATA_DIR", f"{present}{os.pathsep}{absent}")
    assert missing_data_dirs() == [absent.resolve()]
    assert available_datasets() == list(BUILTIN)
    with pytest.raises(DataError) as info:
        load_dataset("netflix")
    assert str(info.value) == (
        f"course data set 'netflix' needs netflix_incomplete.txt, netflix_complete.txt in {present.resolve()} or "
        f"{absent.resolve()} ({absent.resolve()} does not exist); put the course files there or set EM_DATA_DIR "
        "to the folder that holds them"
    )


@given(
    hnp.arrays(
        float,
        hnp.array_shapes(min_dims=2, max_dims=2, max_side=6),
        elements=st.floats(allow_nan=False, allow_infinity=False, width=64),
    )
)
def test_any_finite_matrix_loads_exactly_or_is_refused_for_its_magnitude(X):
    text = "\n".join(" ".join(repr(float(v)) for v in row) for row in X).encode()
    if np.abs(X).max() <= max_magnitude(*X.shape):
        np.testing.assert_array_equal(dataset_from_bytes(text, "any.txt", kind="points").X, X)
    else:
        with pytest.raises(DataError, match=r"^any\.txt line \d+ column \d+: .*the largest usable magnitude is"):
            dataset_from_bytes(text, "any.txt", kind="points")
