"""Reading user-item-rating files: every format, matrix-or-triplets, every bad file, MovieLens, titles."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from em_core import ratings_file
from em_core.data import dataset_from_bytes, load_dataset
from em_core.errors import DataError
from em_core.ratings_file import (
    DENSE_LIMIT,
    MATRIX,
    load_titles,
    parse_titles,
    read_triplets,
)
from tests.apptest_helpers import Dashboard
from tests.helpers import movielens_missing_reason, movielens_small_dir

# ---------------------------------------------------------------- generated ratings


def seeded_ratings(seed: int = 0, n_ratings: int = 40) -> list[tuple[int, int, float, int]]:
    """``(user, item, rating, timestamp)`` with distinct (user, item) pairs, shuffled.

    Ids straddle 9/10/100 so that a text sort (``"10" < "9"``) would give the wrong order,
    and go past 10, so that a file without a header reads as triplets (rule 4).
    """
    rng = np.random.RandomState(seed)
    users = np.array([3, 9, 10, 42, 100, 7])
    items = np.array([1, 2, 9, 10, 11, 250, 1000, 31])
    pairs = [(int(u), int(i)) for u in users for i in items]
    chosen = rng.choice(len(pairs), n_ratings, replace=False)
    stars = rng.randint(1, 6, n_ratings)
    times = 881_250_949 + rng.randint(0, 10**6, n_ratings)
    return [(*pairs[k], float(r), int(t)) for k, r, t in zip(chosen, stars, times, strict=True)]


def expected_matrix(ratings) -> tuple[np.ndarray, list[int], list[int]]:
    """The matrix written out by hand: rows = users by id, columns = items by id."""
    user_ids = sorted({u for u, _, _, _ in ratings})
    item_ids = sorted({i for _, i, _, _ in ratings})
    X = np.zeros((len(user_ids), len(item_ids)))
    for u, i, r, _ in ratings:
        X[user_ids.index(u), item_ids.index(i)] = r
    return X, user_ids, item_ids


def _star(r: float) -> str:
    return f"{r:g}"


# format name -> (file name, writer of the file's text from the ratings)
FORMATS = {
    "movielens-csv": (
        "ratings.csv",
        lambda rs: "userId,movieId,rating,timestamp\n" + "".join(f"{u},{i},{r:.1f},{t}\n" for u, i, r, t in rs),
    ),
    "movielens-100k": ("u.data", lambda rs: "".join(f"{u}\t{i}\t{_star(r)}\t{t}\n" for u, i, r, t in rs)),
    "movielens-dat": ("ratings.dat", lambda rs: "".join(f"{u}::{i}::{_star(r)}::{t}\n" for u, i, r, t in rs)),
    # columns in another order, under other names, and a column of text that is not read
    "triplets-csv": (
        "export.csv",
        lambda rs: "movie_id,comment,Rating,user_id\n" + "".join(f"{i},nice film,{r},{u}\n" for u, i, r, _ in rs),
    ),
    "triplets-tsv": ("scores.tsv", lambda rs: "".join(f"{u}\t{i}\t{_star(r)}\n" for u, i, r, _ in rs)),
    "triplets-text": ("ratings.txt", lambda rs: "".join(f"{u}  {i} {_star(r)}\n" for u, i, r, _ in rs)),
}


@pytest.mark.parametrize("format_name", FORMATS)
def test_each_format_reads_to_the_matrix_written_by_hand(format_name, tmp_path):
    ratings = seeded_ratings()
    file_name, write = FORMATS[format_name]
    path = tmp_path / file_name
    path.write_text(write(ratings))
    X, user_ids, item_ids = expected_matrix(ratings)

    dataset = load_dataset(path)

    np.testing.assert_array_equal(dataset.X, X)
    assert dataset.user_ids.tolist() == user_ids and dataset.item_ids.tolist() == item_ids
    assert dataset.file_format.name == format_name
    assert dataset.kind == "ratings" and dataset.gold is None


@pytest.mark.parametrize("format_name", FORMATS)
def test_an_upload_reads_like_the_file(format_name):
    ratings = seeded_ratings(seed=1)
    file_name, write = FORMATS[format_name]
    dataset = dataset_from_bytes(write(ratings).encode(), file_name, source="upload")
    np.testing.assert_array_equal(dataset.X, expected_matrix(ratings)[0])
    assert dataset.source == "upload" and dataset.file_format.name == format_name


def test_every_rating_lands_at_its_ids():
    ratings = seeded_ratings(seed=2, n_ratings=48)  # every pair: a complete matrix
    got = read_triplets(FORMATS["movielens-csv"][1](ratings), "ratings.csv")
    rows = np.searchsorted(got.user_ids, [u for u, _, _, _ in ratings])
    cols = np.searchsorted(got.item_ids, [i for _, i, _, _ in ratings])
    np.testing.assert_array_equal(got.X[rows, cols], [r for _, _, r, _ in ratings])
    assert np.count_nonzero(got.X) == len(ratings)
    assert got.user_ids.tolist() == [3, 7, 9, 10, 42, 100]  # numerically, not as text
    assert got.item_ids.dtype == np.int64


def test_half_stars_blank_lines_crlf_and_a_bom_read_alike():
    text = "\ufeffuserId,movieId,rating,timestamp\r\n\r\n1,31,2.5,1260759144\r\n   \r\n1,1029,3.0,1260759179\r\n"
    got = read_triplets(text, "ratings.csv")
    np.testing.assert_array_equal(got.X, [[2.5, 3.0]])
    assert got.file_format == ratings_file.MOVIELENS_CSV


def test_the_format_says_what_was_detected():
    with_header = read_triplets("user,item,rating\n1,2,4\n", "f.csv").file_format
    assert with_header.description == "user, item, rating per line: comma-separated, header 'user,item,rating'"
    assert "no header" in read_triplets("11 12 4\n11 13 5\n", "f.txt").file_format.description
    assert "u.data" in ratings_file.MOVIELENS_100K.description and MATRIX.name == "matrix"


# ---------------------------------------------------------------- matrix or triplets


@pytest.mark.parametrize(
    "text",
    [
        "-1.636 2.413\n-2.957 2.296\n",  # toy_data.txt: 2 columns of floats
        "2 5 3 0 0\n3 5 0 4 3\n2 0 3 3 1\n",  # test_incomplete.txt: 5 columns
        "5 0 3\n4 2 0\n5 1 3\n",  # a 0 in column 3 is a missing rating, never a triplet's rating
        "1,2,3\n4,5,6\n",  # no user would have two ratings
        "5.0 3 1\n5.0 2 2\n4.0 1 3\n",  # ids are written without a decimal point
        "5 3 4\n-1 2 2\n4 1 3\n",  # ids are never negative
        # 30 complete rows of ratings 1-5: read as triplets, (user, item) pairs would repeat
        "\n".join(" ".join(str(1 + (r * 7 + c * 3) % 5) for c in range(3)) for r in range(30)),
    ],
    ids=["two-float-columns", "five-columns", "zero-in-column-3", "no-repeated-user", "decimal-ids",
         "negative-value", "repeated-pairs"],
)  # fmt: skip
def test_a_matrix_file_stays_a_matrix(text):
    assert read_triplets(text, "m.txt") is None
    dataset = dataset_from_bytes(text.encode(), "m.txt")
    assert dataset.file_format == MATRIX and dataset.user_ids is None and dataset.item_titles is None


def test_the_course_files_stay_matrices(course_dir):
    for name, shape in (("toy_data.txt", (250, 2)), ("test_incomplete.txt", (20, 5)),
                        ("netflix_incomplete.txt", (1200, 1200))):  # fmt: skip
        dataset = load_dataset(course_dir / name)
        assert dataset.X.shape == shape and dataset.file_format == MATRIX, name
        np.testing.assert_array_equal(dataset.X, np.loadtxt(course_dir / name))


AMBIGUOUS = "1 2 5\n1 3 4\n2 1 3\n"


def test_a_file_that_reads_both_ways_is_refused_naming_both():
    with pytest.raises(DataError, match=(
        r"^small\.txt reads two ways: as a 3 x 3 rating matrix, or as 3 ratings \(user, item, rating\) "
        r"of 2 users x 3 items; add the first line 'user item rating' to read it as ratings, or write "
        r"the values of column 1 with a decimal point \(5\.0\) to read it as a matrix$"
    )):  # fmt: skip
        dataset_from_bytes(AMBIGUOUS.encode(), "small.txt")


def test_each_fix_the_refusal_offers_works():
    as_ratings = dataset_from_bytes(b"user item rating\n" + AMBIGUOUS.encode(), "small.txt")
    np.testing.assert_array_equal(as_ratings.X, [[0, 5, 4], [3, 0, 0]])
    as_matrix = dataset_from_bytes(b"1.0 2 5\n1.0 3 4\n2.0 1 3\n", "small.txt")
    np.testing.assert_array_equal(as_matrix.X, [[1, 2, 5], [1, 3, 4], [2, 1, 3]])
    assert as_matrix.file_format == MATRIX


def test_small_ids_with_unix_times_are_triplets():
    # the first lines of MovieLens-100k's u.data, renumbered below 10: the timestamps decide
    text = "1\t2\t3\t881250949\n1\t3\t1\t891717742\n2\t2\t2\t878887116\n"
    got = read_triplets(text, "u.data")
    assert got.file_format == ratings_file.MOVIELENS_100K
    np.testing.assert_array_equal(got.X, [[3, 1], [2, 0]])


def test_a_broken_line_in_u_data_is_an_error_not_a_matrix():
    # the failure: u.data read as a 100,000 x 4 matrix; one bad line must not bring it back
    text = FORMATS["movielens-100k"][1](seeded_ratings()) + "42\t77\t0\t881250949\n"
    with pytest.raises(DataError, match=r"^u\.data line 41: a rating of 0"):
        dataset_from_bytes(text.encode(), "u.data")


def test_points_are_never_read_as_triplets():
    dataset = dataset_from_bytes(b"11 12 4\n11 13 5\n", "points.txt", kind="points")
    assert dataset.file_format == MATRIX and dataset.X.shape == (2, 3)


# ---------------------------------------------------------------- bad files

HEADER = "userId,movieId,rating,timestamp\n"


@pytest.mark.parametrize(
    "name, text, message",
    [
        ("duplicate", HEADER + "1,10,4,0\n2,10,3,0\n\n1,10,5,0\n",
         r"^duplicate\.csv line 5: user 1 rated item 10 again \(first on line 2\); keep one rating per user and item$"),
        ("zero-rating", HEADER + "1,10,4,0\n1,11,0,0\n",
         r"^zero-rating\.csv line 3: a rating of 0, but 0 means missing in EM Lab; remove the line"),
        ("word-id", HEADER + "1,10,4,0\nanna,11,3,0\n",
         r"^word-id\.csv line 3 column 1: 'anna' is not a whole-number user id; write ids as whole numbers"),
        ("decimal-item-id", HEADER + "1,10.5,4,0\n",
         r"^decimal-item-id\.csv line 2 column 2: '10\.5' is not a whole-number item id; write ids as whole"),
        ("word-rating", HEADER + "1,10,good,0\n",
         r"^word-rating\.csv line 2 column 3: 'good' is not a number; give each rating as a number"),
        ("nan-rating", HEADER + "1,10,4,0\n1,11,nan,0\n",
         r"^nan-rating\.csv line 3: the rating is nan \(not a finite number\); give every rating as a finite"),
        ("inf-rating", "1::10::inf::0\n",
         r"^inf-rating\.csv line 1: the rating is inf \(not a finite number\)"),
        ("negative-id", HEADER + "1,10,4,0\n-2,10,4,0\n",
         r"^negative-id\.csv line 3: user id -2 is negative; give ids as whole numbers of 0 or more$"),
        ("short-line", HEADER + "1,10,4,0\n1,11\n",
         r"^short-line\.csv line 3: 2 values, but the header puts the user, item and rating in columns 1, 2 and 3; "
         r"give every line a user"),
        ("ragged-dat", "1::10::4::0\n1::11::4\n",
         r"^ragged-dat\.csv line 2: expected 4 values like the first line, found 3"),
        ("dat-two-fields", "1::10\n", r"^dat-two-fields\.csv line 1: 2 fields separated by '::'.*; fix the line"),
        ("no-rating-column", "userId,movieId,timestamp\n1,10,0\n",
         r"^no-rating-column\.csv line 1: the header names no rating column \(found 'userId', 'movieId', "
         r"'timestamp'\); name the columns user, item and rating"),
        ("header-only", HEADER, r"^header-only\.csv has a header line but no ratings; add one line per rating"),
        ("empty", "", r"^empty\.csv is empty; give rows of numbers"),
    ],
)  # fmt: skip
def test_a_bad_ratings_file_gets_one_clear_error(name, text, message, tmp_path):
    path = tmp_path / f"{name}.csv"
    path.write_text(text)
    with pytest.raises(DataError, match=message) as info:
        load_dataset(path)
    assert "\n" not in str(info.value)


def test_a_dense_matrix_over_the_limit_is_refused_before_it_is_built():
    text = HEADER + "1,10,4,0\n2,11,3,0\n3,12,5,0\n"
    with pytest.raises(DataError, match=(
        r"^r\.csv: 3 ratings of 3 users x 3 items make a dense matrix of 9 values, more than the 8 allowed "
        r"here; use a subset of the users or items"
    )):  # fmt: skip
        dataset_from_bytes(text.encode(), "r.csv", max_values=8)
    assert dataset_from_bytes(text.encode(), "r.csv", max_values=9).X.shape == (3, 3)


def test_without_a_limit_the_dense_limit_still_holds():
    # 10,001 ratings on a diagonal: a 160 kB file whose dense matrix would hold 100,020,001 values
    n = 10_001
    text = HEADER + "".join(f"{k},{k},4,0\n" for k in range(n))
    assert n * n > DENSE_LIMIT
    with pytest.raises(DataError, match=r"make a dense matrix of 100,020,001 values, more than the 100,000,000"):
        read_triplets(text, "big.csv")


def test_a_gold_file_is_refused_for_triplets():
    with pytest.raises(DataError, match=r"^gold\.txt: a gold matrix goes with a matrix file, but r\.csv holds"):
        dataset_from_bytes((HEADER + "1,10,4,0\n").encode(), "r.csv", gold=b"4\n", gold_name="gold.txt")


# ---------------------------------------------------------------- titles

MOVIES_CSV = 'movieId,title,genres\n10,GoldenEye (1995),Action\n11,"American President, The (1995)",Comedy|Drama\n'


@pytest.mark.parametrize(
    "name, content",
    [
        ("movies.csv", MOVIES_CSV.encode()),
        # MovieLens-100k's u.item is Latin-1 and '|'-separated: id|title|release date|...
        ("u.item", "10|GoldenEye (1995)|01-Jan-1995||http://x|0|1\n11|American President, The (1995)|01-Jan-1995"
                   "||http://y|0|0\n12|Cité des enfants perdus, La (1995)|01-Jan-1995||http://z|0|0\n"
                   .encode("latin-1")),
        ("movies.dat", b"10::GoldenEye (1995)::Action\n11::American President, The (1995)::Comedy|Drama\n"),
        ("titles.tsv", b"10\tGoldenEye (1995)\n11\tAmerican President, The (1995)\n"),
    ],
)  # fmt: skip
def test_titles_read_from_each_items_format(name, content):
    titles = parse_titles(content, name)
    assert titles[10] == "GoldenEye (1995)" and titles[11] == "American President, The (1995)"
    if name == "u.item":
        assert titles[12] == "Cité des enfants perdus, La (1995)"


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", r"^items\.csv is empty; give one item per line: id, title$"),
        (b"movieId,name\n1,x\n", r"^items\.csv line 1: the header names no title column; name it 'title'"),
        (b"movieId,title\n1,x\none,y\n", r"^items\.csv line 3: expected a whole-number id and a title, found 'one|y'"),
        (b"1,x\n\n1,y\n", r"^items\.csv line 3: item 1 has a second title; keep one line per item$"),
    ],
)
def test_a_bad_items_file_gets_one_clear_error(content, message):
    with pytest.raises(DataError, match=message):
        parse_titles(content, "items.csv")


def test_titles_beside_a_movielens_file_are_joined(tmp_path):
    ratings = seeded_ratings()
    (tmp_path / "u.data").write_text(FORMATS["movielens-100k"][1](ratings))
    items = {1: "Toy Story (1995)", 250: "Fifth Element, The (1997)", 1000: "Café au lait (1993)", 5000: "Unrated"}
    (tmp_path / "u.item").write_bytes("".join(f"{i}|{t}|01-Jan-1995||\n" for i, t in items.items()).encode("latin-1"))

    dataset = load_dataset(tmp_path / "u.data")

    # only the data set's items, and only those the items file names
    assert dataset.item_titles == {i: t for i, t in items.items() if i in dataset.item_ids}
    assert dataset.item_titles[1000] == "Café au lait (1993)"


def test_no_titles_without_an_items_file_or_for_other_formats(tmp_path):
    (tmp_path / "u.data").write_text(FORMATS["movielens-100k"][1](seeded_ratings()))
    assert load_dataset(tmp_path / "u.data").item_titles is None
    (tmp_path / "movies.csv").write_text(MOVIES_CSV)
    (tmp_path / "mine.csv").write_text("user,item,rating\n1,10,4\n1,11,3\n")
    assert load_dataset(tmp_path / "mine.csv").item_titles is None  # only MovieLens names its items file


def test_load_titles_names_a_missing_file(tmp_path):
    with pytest.raises(DataError, match=r"nope\.csv: cannot read the items file .*; check the path"):
        load_titles(tmp_path / "nope.csv")


# ---------------------------------------------------------------- MovieLens latest-small


@pytest.fixture(scope="module")
def movielens_small() -> Path:
    """The folder of MovieLens latest-small (ratings.csv, movies.csv) among EM_DATA_DIR's folders."""
    folder = movielens_small_dir()
    if folder is None:
        pytest.skip(movielens_missing_reason())
    return folder


def test_movielens_small_loads_with_its_ids_and_titles(movielens_small):
    dataset = load_dataset(movielens_small / "ratings.csv")

    assert dataset.X.shape == (610, 9724)
    assert int(np.count_nonzero(dataset.X)) == 100_836
    assert dataset.file_format == ratings_file.MOVIELENS_CSV
    assert dataset.user_ids.tolist() == list(range(1, 611))
    assert dataset.item_ids[0] == 1 and dataset.item_ids[-1] == 193_609
    assert set(dataset.item_titles) == set(dataset.item_ids.tolist())  # every rated movie has its title
    assert dataset.item_titles[1] == "Toy Story (1995)"
    assert dataset.item_titles[11] == "American President, The (1995)"  # a title with a comma, in quotes


def test_movielens_small_ids_round_trip(movielens_small):
    dataset = load_dataset(movielens_small / "ratings.csv")
    with open(movielens_small / "ratings.csv", newline="") as f:
        lines = list(csv.reader(f))[1:]
    users = np.array([int(line[0]) for line in lines])
    items = np.array([int(line[1]) for line in lines])
    stars = np.array([float(line[2]) for line in lines])
    rows = np.searchsorted(dataset.user_ids, users)
    cols = np.searchsorted(dataset.item_ids, items)
    assert np.array_equal(dataset.user_ids[rows], users) and np.array_equal(dataset.item_ids[cols], items)
    np.testing.assert_array_equal(dataset.X[rows, cols], stars)


# ---------------------------------------------------------------- the dashboard's upload box


def test_an_uploaded_u_data_becomes_the_data_set_and_fits():
    ratings = seeded_ratings()
    X = expected_matrix(ratings)[0]
    app = Dashboard(page="data", em_k=2)
    app.upload("u.data", FORMATS["movielens-100k"][1](ratings).encode())
    assert app.errors == []
    assert f"upload: u.data — {X.shape[0]:,} rows x {X.shape[1]:,} columns." in app.captions
    app.open("matrix")
    app.step("emx", 1)
    assert app.errors == [] and app.fit("matrix").state.mixture.mu.shape == (2, X.shape[1])


def test_an_upload_that_reads_both_ways_shows_the_refusal():
    app = Dashboard("demo-small", page="data")
    app.upload("small.txt", AMBIGUOUS.encode())
    assert len(app.errors) == 1 and "small.txt reads two ways" in app.errors[0]
    assert app.dataset == "demo-small"
