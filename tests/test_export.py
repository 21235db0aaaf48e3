"""Exports (em_core.export): every value reads back bit for bit."""

from __future__ import annotations

import csv
import io
import json
import math
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from em_core import builtin, export
from em_core.errors import DataError
from em_core.export import history_csv, matrix_csv, matrix_text, mixture_json, read_mixture_json
from em_core.matrix_file import parse_matrix
from em_core.mixture import GaussianMixture, init

finite = st.floats(allow_nan=False, allow_infinity=False, allow_subnormal=True)
matrices = hnp.arrays(np.float64, hnp.array_shapes(min_dims=2, max_dims=2, max_side=6), elements=finite)

# values whose text is easy to get wrong
AWKWARD = [
    -0.0,  # the sign must survive: "-0"
    5e-324,  # the smallest subnormal
    2.2250738585072014e-308,  # the smallest normal
    1.7976931348623157e308,  # the largest float
    -1e300,
    0.1,  # not exact in binary
    1 / 3,
    2.0**53 + 2,  # an integer above 2**53
    1e16,  # repr switches to e-notation here
    999999999999999.9,
    123456.789e-20,
    -4.0,
]


def assert_bits_equal(actual, expected):
    """Equal to the bit, so 0.0 and -0.0 differ."""
    actual, expected = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    assert actual.shape == expected.shape
    np.testing.assert_array_equal(actual.view(np.uint64), expected.view(np.uint64))


# ---------------------------------------------------------------- matrices


@given(matrices)
def test_matrix_text_round_trips_exactly(X):
    assert_bits_equal(parse_matrix(matrix_text(X))[0], X)


@given(matrices)
def test_matrix_csv_round_trips_exactly(X):
    assert_bits_equal(parse_matrix(matrix_csv(X))[0], X)


@pytest.mark.parametrize("export", [matrix_text, matrix_csv])
def test_awkward_values_round_trip(export):
    X = np.array(AWKWARD).reshape(3, 4)
    assert_bits_equal(parse_matrix(export(X))[0], X)
    assert_bits_equal(parse_matrix(export(-X))[0], -X)


def test_matrix_formats():
    X = np.array([[2.0, 5.0, 0.0], [1.5, -0.0, 1e-7]])
    assert matrix_text(X) == "2 5 0\n1.5 -0 1e-07\n"  # ratings read as in the course's files
    assert matrix_csv(X) == "2,5,0\n1.5,-0,1e-07\n"


def test_a_larger_matrix_round_trips():
    rng = np.random.RandomState(0)
    X = rng.standard_normal((300, 200)) * 10.0 ** rng.randint(-300, 300, size=(300, 200))
    assert_bits_equal(parse_matrix(matrix_text(X))[0], X)
    assert_bits_equal(parse_matrix(matrix_csv(X))[0], X)


@pytest.mark.course
@pytest.mark.parametrize("name", ["test_incomplete.txt", "test_complete.txt", "netflix_incomplete.txt"])
def test_matrix_text_writes_the_course_rating_files_byte_for_byte(course_dir, name):
    text = (course_dir / name).read_text()
    assert matrix_text(parse_matrix(text)[0]) == text


@pytest.mark.parametrize(
    "X, match",
    [
        (np.array([1.0, 2.0]), r"X: expected a 2-D matrix \(rows x columns\), got 1 dimension"),
        (np.zeros((0, 3)), r"X: the matrix is empty \(0 x 3\)"),
        (np.array([[1.0, np.nan]]), r"X: row 1 column 2 is nan, not a finite number"),
        (np.array([[1.0], [np.inf]]), r"X: row 2 column 1 is inf"),
    ],
)
@pytest.mark.parametrize("export", [matrix_text, matrix_csv])
def test_matrix_exports_reject_what_cannot_be_read_back(export, X, match):
    with pytest.raises(DataError, match=match):
        export(X)


# ---------------------------------------------------------------- mixture JSON


@st.composite
def mixtures(draw):
    K = draw(st.integers(1, 5))
    d = draw(st.integers(1, 5))
    mu = draw(hnp.arrays(np.float64, (K, d), elements=finite))
    var = draw(hnp.arrays(np.float64, K, elements=st.floats(5e-324, 1e300)))
    weights = draw(hnp.arrays(np.float64, K, elements=st.floats(1e-3, 1.0)))
    return GaussianMixture(mu, var, weights / weights.sum())


@given(mixtures(), st.dictionaries(st.text(min_size=1).filter(lambda key: key not in "K d mu var p".split()), finite))
def test_mixture_json_round_trips_exactly(mixture, meta):
    back, meta_back = read_mixture_json(mixture_json(mixture, **meta))
    for name in GaussianMixture._fields:
        assert_bits_equal(getattr(back, name), getattr(mixture, name))
        assert getattr(back, name).dtype == np.float64
    assert meta_back == meta
    assert list(meta_back) == list(meta)  # in the order given


def test_mixture_json_layout_and_numpy_metadata():
    X = builtin.small_ratings()[0]
    mixture, _ = init(X, 3, seed=0)
    text = mixture_json(mixture, dataset="demo-small", seed=np.int64(0), iteration=12, log_likelihood=np.float64(-1.5))
    obj = json.loads(text)
    assert list(obj) == ["K", "d", "dataset", "seed", "iteration", "log_likelihood", "mu", "var", "p"]
    assert (obj["K"], obj["d"], obj["seed"], obj["log_likelihood"]) == (3, X.shape[1], 0, -1.5)
    # "{", K, d, four metadata, '"mu": [', one line per mean, "],", var, p, "}"
    assert text.count("\n") == 1 + 2 + 4 + 1 + 3 + 1 + 2 + 1
    _, meta = read_mixture_json(text.encode())  # bytes are read too
    assert meta == {"dataset": "demo-small", "seed": 0, "iteration": 12, "log_likelihood": -1.5}
    # the mixture is positional-only, so any name is free for metadata
    assert read_mixture_json(mixture_json(mixture, mixture="spherical"))[1] == {"mixture": "spherical"}


@pytest.mark.parametrize(
    "mixture, meta, match",
    [
        (
            None,
            {"K": 3},
            r"metadata key\(s\) 'K' would overwrite the mixture's own K, d, mu, var, p, covariance_type, cov; "
            "rename them",
        ),
        (None, {"log_likelihood": float("nan")}, r"metadata 'log_likelihood': Out of range float values"),
        (None, {"when": object()}, r"metadata 'when': object is not JSON serialisable"),
        (GaussianMixture(np.ones((2, 2)), np.ones(2), np.ones(3) / 3), {}, r"expected 2 variances and 2 weights"),
        (GaussianMixture(np.ones(2), np.ones(2), np.ones(2) / 2), {}, r"expected a \(K, d\) matrix"),
        (GaussianMixture(np.ones((1, 1)), np.array([np.inf]), np.ones(1)), {}, r"variances must be finite numbers"),
    ],
)
def test_mixture_json_rejects_what_cannot_be_read_back(mixture, meta, match):
    if mixture is None:
        mixture = GaussianMixture(np.ones((2, 2)), np.ones(2), np.ones(2) / 2)
    with pytest.raises(DataError, match=match):
        mixture_json(mixture, **meta)


GOOD = {"K": 2, "d": 1, "mu": [[1.0], [2.0]], "var": [1.0, 1.0], "p": [0.5, 0.5]}


@pytest.mark.parametrize(
    "text, match",
    [
        ('{"mu": [[1.0]],\n "var": [1.0], }', r"mixture JSON line 2 column 16: Expecting property name"),
        ("[1, 2]", r"expected an object \{\.\.\.\}, found list"),
        (json.dumps({"mu": [[1.0]]}), r"missing 'var', 'p'; a mixture needs mu, var and p"),
        (json.dumps({**GOOD, "mu": [[1.0], [2.0, 3.0]]}), r"'mu' must be a list of K lists of d numbers"),
        (json.dumps({**GOOD, "mu": [["one"], [2.0]]}), r"'mu' must be a list of K lists"),
        (json.dumps({**GOOD, "mu": [[None], [2.0]]}), r"'mu' holds a value that is not a finite number"),
        (json.dumps({**GOOD, "var": 1.0}), r"'var' must be a list of K numbers"),
        (json.dumps({**GOOD, "var": [1.0]}), r"2 means but 1 variances and 2 weights; give one of each per mean"),
        (json.dumps({**GOOD, "K": 3}), r"'K' is 3 but 'mu' is 2 x 1; make them agree"),
        (json.dumps({**GOOD, "d": True}), r"'d' is True but 'mu' is 2 x 1"),
        (json.dumps({**GOOD, "var": [1.0, 0.0]}), r"every variance must be > 0, found 0\.0"),
        (json.dumps({**GOOD, "p": [0.5, 0.6]}), r"the weights must be >= 0 and sum to 1, they sum to 1\.1"),
        (json.dumps({**GOOD, "p": [1.5, -0.5]}), r"the weights must be >= 0"),
        (json.dumps({**GOOD, "mu": []}), r"'mu' must be a list of K lists"),  # np.asarray([]) is 1-D
        (b"\xff\xfe{", r"mixture JSON"),
    ],
)
def test_read_mixture_json_rejects_bad_files(text, match):
    with pytest.raises(DataError, match=match):
        read_mixture_json(text)


def test_read_mixture_json_without_k_and_d():
    mixture, meta = read_mixture_json(json.dumps({"mu": GOOD["mu"], "var": GOOD["var"], "p": GOOD["p"]}))
    assert mixture.mu.shape == (2, 1) and meta == {}


# ---------------------------------------------------------------- history CSV


def read_history(text):
    rows = list(csv.reader(io.StringIO(text)))
    return rows[0], rows[1:]


@given(st.lists(st.floats(allow_subnormal=True)), st.sampled_from(["log_likelihood", "cost", "LL, per user"]))
def test_history_csv_round_trips_exactly(scores, score_name):
    header, rows = read_history(history_csv(scores, score_name))
    assert header == ["iteration", score_name]
    assert [int(row[0]) for row in rows] == list(range(1, len(scores) + 1))
    back = np.array([float(row[1]) for row in rows])
    expected = np.array(scores, dtype=float)
    # every number to the bit (-0.0 and inf included); a NaN stays a NaN (its payload bits are not kept)
    np.testing.assert_array_equal(np.isnan(back), np.isnan(expected))
    numbers = ~np.isnan(expected)
    assert_bits_equal(back[numbers], expected[numbers])


def test_history_csv_layout():
    scores = (-152.16319226209848, np.float64(-103.5), -84.98)
    assert history_csv(scores) == "iteration,log_likelihood\n1,-152.16319226209848\n2,-103.5\n3,-84.98\n"
    assert history_csv([], "cost") == "iteration,cost\n"


@pytest.mark.parametrize(
    "scores, score_name, match",
    [
        ([1.0], "", r"score_name must be a non-empty string, got ''"),
        ([1.0], None, r"score_name must be a non-empty string, got None"),
        ([[1.0, 2.0]], "cost", r"scores must be a flat sequence of numbers"),
        (["high"], "cost", r"scores must be a flat sequence of numbers"),
    ],
)
def test_history_csv_rejects_bad_input(scores, score_name, match):
    with pytest.raises(DataError, match=match):
        history_csv(scores, score_name)


def test_history_nan_is_written_as_nan():
    assert history_csv([math.nan]).splitlines()[1] == "1,nan"


@pytest.mark.parametrize("covariance_type", ["diag", "full"])
def test_a_diag_or_full_mixture_round_trips_exactly(covariance_type):
    # the 2-D page's mixture download of a diag or full fit: written with its covariances, read back bit for bit
    from em_core import covariance_em, experiment
    from em_core.data import load_dataset

    run = experiment.fit(load_dataset("demo-2d").X, "naive-em", 3, 0, covariance_type=covariance_type)
    mixture = run.mixture
    assert isinstance(mixture, covariance_em.CovarianceMixture)
    text = export.mixture_json(mixture, dataset="demo-2d", seed=0)
    back, meta = export.read_mixture_json(text)
    assert isinstance(back, covariance_em.CovarianceMixture) and back.covariance_type == covariance_type
    for name in ("mu", "cov", "p"):
        np.testing.assert_array_equal(getattr(back, name), getattr(mixture, name))
    assert meta == {"dataset": "demo-2d", "seed": 0}


@pytest.mark.parametrize(
    "change, fragment",
    [
        (lambda obj: obj.update(covariance_type="round"), "a 'diag' or 'full' mixture"),
        (lambda obj: obj.update(cov=[[1.0, 2.0]]), "'cov' of a full mixture with 3 means in 2 dimensions"),
        (lambda obj: obj["cov"][0].__setitem__(0, [1.0, 5.0]), "symmetric positive definite"),
    ],
)
def test_a_bad_covariance_mixture_file_is_one_clear_error(change, fragment):
    from em_core import experiment
    from em_core.data import load_dataset

    run = experiment.fit(load_dataset("demo-2d").X, "naive-em", 3, 0, covariance_type="full")
    obj = json.loads(export.mixture_json(run.mixture))
    change(obj)
    with pytest.raises(DataError, match=re.escape(fragment)):
        export.read_mixture_json(json.dumps(obj))
