"""Command line: ``python -m em_core fit ...`` runs the course experiment.

Bad input ends with one line on stderr and exit status 2, never a traceback; so does a result
that is not a finite number (JSON has no NaN). stdout holds only the table or the JSON; stderr
the progress (unless ``--quiet``), warnings and errors. A closed stdout (``... --json | head``)
ends quietly with exit status 1, as Python's documentation recommends for EPIPE.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import sys

from em_core import experiment, real_data_comparison, real_data_options
from em_core.baselines import METHODS
from em_core.covariance_em import COVARIANCE_TYPES, REG_COVAR
from em_core.data import BUILTIN, COURSE_FILES, load_dataset
from em_core.errors import DataError
from em_core.file_reading import MAX_FILE_BYTES
from em_core.holdout import check_fraction, hide
from em_core.initialisation import STRATEGIES, load_means
from em_core.sparse_ratings import as_form
from em_core.stepping import MAX_ITER
from em_core.validation import check_max_iter, check_min_variance, check_seed


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m em_core", description="EM Lab: EM for Gaussian mixtures.")
    commands = parser.add_subparsers(dest="command", required=True)
    fit = commands.add_parser(
        "fit",
        help="fit K-means or EM for several K and seeds",
        description="Fit K-means or EM for every K and seed; print a table, or JSON with --json.",
        epilog="The course sets (toy, test, netflix) are read from the folders in EM_DATA_DIR, separated by "
        f"'{os.pathsep}' as in PATH (each file from the first folder that has it); without it, from data/ beside "
        "em_core. Bad input ends with one line on stderr and exit status 2.",
    )
    names = ", ".join(list(BUILTIN) + list(COURSE_FILES))
    fit.add_argument(
        "--data",
        required=True,
        help=f"a matrix file (a regular file of at most {MAX_FILE_BYTES // 10**6} MB), or one of: {names}",
    )
    fit.add_argument("--gold", help="the complete matrix, to score the completion")
    fit.add_argument("--algorithm", choices=experiment.ALGORITHMS, default="em")
    fit.add_argument("--k", type=int, nargs="+", required=True, metavar="K")
    fit.add_argument("--seeds", type=int, nargs="+", default=[0], metavar="S")
    fit.add_argument("--min-variance", type=float, default=0.25, help="variance floor of EM (default 0.25)")
    fit.add_argument(
        "--init",
        default="course",
        metavar="course|kmeans++|FILE",
        help="where each run starts: the course's initialisation (default), k-means++ (seeded), or the means "
        "in FILE, one per line (then --k must be their number)",
    )
    fit.add_argument(
        "--covariance-type",
        choices=COVARIANCE_TYPES,
        default="spherical",
        help="covariance of each component for --algorithm naive-em: spherical (the course's, default), diag "
        f"or full (these two add reg_covar = {REG_COVAR:g} to the diagonal, as scikit-learn does)",
    )
    fit.add_argument(
        "--max-iter",
        type=int,
        default=MAX_ITER,
        metavar="N",
        help="stop a run after N iterations if its stopping rule has not held (default: %(default)s); "
        "such a run is marked 'cap' in the table, stopped_by_cap in the JSON, and warned about on stderr",
    )
    fit.add_argument(
        "--holdout",
        metavar="FRACTION",
        help="hide this share (0 to 1) of the observed ratings, fit on the rest and score EM and the "
        "baselines on the hidden ones (EM only)",
    )
    fit.add_argument("--holdout-seed", type=int, metavar="S", help="seed of the hidden entries (default 0)")
    fit.add_argument(
        "--form",
        choices=("auto", "dense", "sparse"),
        default="auto",
        help="how --algorithm em holds the ratings: auto (default) keeps a sparse set (MovieLens: ~2%% observed) as "
        "a CSR matrix and a dense one (the course's netflix: 77%%) as an array, by em_core.sparse_ratings.choose_form; "
        "the numbers are the same either way",
    )
    fit.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    fit.add_argument(
        "--quiet",
        action="store_true",
        help="no progress on stderr (by default a live line on a terminal, else one line per finished run); "
        "warnings and errors still print",
    )
    _add_compare(commands, names)
    return parser


def _add_compare(commands, names: str) -> None:
    """The ``compare`` command: EM variants against the baselines on held-out ratings (real data)."""
    compare = commands.add_parser(
        "compare",
        help="EM (as in the course and with the real-data options) against the baselines on held-out ratings",
        description="Hide a share of the observed ratings, fit every EM variant and baseline on the rest, and "
        "print their RMSE on the hidden ones, with why the course's model scores what it does.",
    )
    compare.add_argument("--data", required=True, help=f"a ratings or matrix file, or one of: {names}")
    compare.add_argument("--k", type=int, nargs="+", required=True, metavar="K")
    compare.add_argument("--seeds", type=int, nargs="+", default=[0], metavar="S", help="EM seeds (best by LL)")
    compare.add_argument("--holdout", default="0.1", metavar="FRACTION", help="share hidden (default 0.1)")
    compare.add_argument("--holdout-seeds", type=int, nargs="+", default=[0], metavar="S", help="one split per seed")
    compare.add_argument(
        "--variants",
        nargs="+",
        default=["course", *real_data_options.OPTION_NAMES, "all"],
        metavar="NAME",
        help="EM variants: course (the reference), item-mean-start (missing initial coordinates at the item "
        "mean), residuals (EM after user + item biases), prior (means shrunk toward the item mean), or "
        "several joined by '+' (all: the three); default: course item-mean-start residuals prior all",
    )
    compare.add_argument(
        "--prior-strength",
        type=float,
        default=real_data_options.DEFAULT_PRIOR_STRENGTH,
        metavar="LAMBDA",
        help="strength of the prior in the variants that use it (default %(default)g)",
    )
    compare.add_argument(
        "--baselines", nargs="+", choices=list(METHODS), default=list(METHODS), help="default: all of them"
    )
    compare.add_argument("--min-variance", type=float, default=0.25, help="variance floor of EM (default 0.25)")
    compare.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    compare.add_argument("--quiet", action="store_true", help="no progress lines on stderr")


def comparison_json(result: real_data_comparison.Comparison) -> dict:
    """The ``compare --json`` object: a serialisation of a :class:`~em_core.real_data_comparison.Comparison`."""
    return {
        "dataset": result.dataset,
        "shape": list(result.shape),
        "observed": result.n_ratings,
        "holdout": {
            "fraction": result.fraction,
            "seeds": list(result.holdout_seeds),
            "n_hidden": list(result.n_hidden),
        },
        "seeds": list(result.seeds),
        "rows": [
            {
                "name": row.name,
                "label": row.label,
                "k": row.k,
                "rmse_holdout": None if row.error else list(row.rmse),
                "mean": None if row.error else row.mean_rmse,
                "seconds": round(row.seconds, 3),
                "error": row.error,
            }
            for row in result.rows
        ],
        "verdict": result.verdict,
        "why": {str(d.k): real_data_comparison.explain(result, d) for d in result.diagnoses},
    }


def _compare(args: argparse.Namespace) -> int:
    for seed in [*args.seeds, *args.holdout_seeds]:
        check_seed(seed)
    check_min_variance(args.min_variance)
    fraction = _fraction(args.holdout)
    strength = real_data_options.check_prior_strength(args.prior_strength)
    variants = [real_data_options.parse_variant(name, strength) for name in args.variants]
    dataset = load_dataset(args.data, kind="ratings")

    def progress(done: int, total: int, what: str) -> None:
        if not args.quiet:
            print(f"{done}/{total}: {what}", file=sys.stderr, flush=True)

    result = real_data_comparison.compare(
        dataset.X,
        args.k,
        variants,
        args.seeds,
        args.holdout_seeds,
        fraction,
        args.baselines,
        name=dataset.name,
        min_variance=args.min_variance,
        on_progress=progress,
    )
    text = strict_json(comparison_json(result))
    print(text if args.json else real_data_comparison.table(result))
    return 0


def sweep_json(result: experiment.Sweep) -> dict:
    """The ``--json`` object: a serialisation of a :class:`~em_core.experiment.Sweep`."""
    score_key = result.score_name
    summary = {
        "dataset": result.dataset,
        "algorithm": result.algorithm,
        "shape": None if result.shape is None else list(result.shape),
        "observed": result.n_observed,
        "runs": [
            {
                "k": r.k,
                "seed": r.seed,
                score_key: r.score,
                "iterations": r.iterations,
                "seconds": round(r.seconds, 6),
                "stopped_by_cap": not r.converged,
            }
            for r in result.runs
        ],
        "best_per_k": [],
    }
    for best in result.best_per_k:
        row = {"k": best.k, "seed": best.run.seed, score_key: best.run.score}
        if best.bic is not None:
            row["bic"] = best.bic
        row["rmse"] = None if best.completion is None else best.completion.rmse_all
        row["rmse_missing"] = None if best.completion is None else best.completion.rmse_missing
        if result.holdout is not None:
            row["rmse_holdout"] = best.rmse_holdout
        summary["best_per_k"].append(row)
    if result.holdout is not None:
        held = result.holdout
        summary["holdout"] = {"fraction": held.fraction, "seed": held.seed, "n_hidden": held.n_hidden}
        summary["baselines_holdout"] = {score.name: score.rmse for score in result.baselines_holdout}
    return summary


def _fmt(value: float | None) -> str:
    return f"{value:.6f}" if value is not None else "-"


def _table(result: experiment.Sweep) -> str:
    score_key = result.score_name
    lines = [f"{result.dataset}  ({result.algorithm})", ""]
    lines.append(f"{'K':>4} {'seed':>5} {score_key:>18} {'iters':>6} {'seconds':>9} {'stopped':>8}")
    for r in result.runs:
        stopped = "rule" if r.converged else "cap"
        lines.append(f"{r.k:>4} {r.seed:>5} {r.score:>18.4f} {r.iterations:>6} {r.seconds:>9.3f} {stopped:>8}")
    lines += ["", "best per K"]
    header = f"{'K':>4} {'seed':>5} {score_key:>18}"
    if score_key == "log_likelihood":
        header += f" {'BIC':>18}"
    header += f" {'RMSE':>10} {'RMSE missing':>13}"
    held = result.holdout
    if held is not None:
        header += f" {'RMSE held-out':>14}"
    lines.append(header)
    for best in result.best_per_k:
        line = f"{best.k:>4} {best.run.seed:>5} {best.run.score:>18.4f}"
        if best.bic is not None:
            line += f" {best.bic:>18.4f}"
        scores = best.completion
        line += f" {_fmt(scores and scores.rmse_all):>10} {_fmt(scores and scores.rmse_missing):>13}"
        if held is not None:
            line += f" {_fmt(best.rmse_holdout):>14}"
        lines.append(line)
    if held is not None:
        lines += [
            "",
            f"held out: {held.n_hidden} observed ratings ({held.fraction * 100:g} % of them, "
            f"seed {held.seed}), fitted without them",
            f"{'baseline':>12} {'RMSE held-out':>14}",
        ]
        lines += [f"{score.name:>12} {_fmt(score.rmse):>14}" for score in result.baselines_holdout]
    return "\n".join(lines)


def _fraction(text: str | None) -> float | None:
    """The --holdout value checked (a word such as "ten" is reported as given)."""
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        value = text
    return check_fraction(value)


def _progress_line(algorithm: str):
    """A progress callback for a terminal: the run's iteration and score, rewritten in place."""

    def show(state, K, seed):
        print(
            f"\r{algorithm} K={K} seed={seed} iteration {state.iteration} score {state.score:.4f}   ",
            end="",
            file=sys.stderr,
            flush=True,
        )

    return show


def _finished_line(run: experiment.RunResult, algorithm: str, number: int, total: int) -> str:
    """Progress without a terminal: one plain line per finished run."""
    how = "converged" if run.converged else "stopped at the cap"
    return (
        f"run {number}/{total}: {algorithm} K={run.k} seed={run.seed}: {experiment.score_name(algorithm)} "
        f"{run.score:.4f} after {run.iterations} iterations ({how})"
    )


def _cap_warning(run: experiment.RunResult, algorithm: str, max_iter: int) -> str:
    return (
        f"warning: {algorithm} K={run.k} seed={run.seed} stopped at the iteration cap (--max-iter {max_iter}) "
        "before its stopping rule held; raise --max-iter to let it converge"
    )


def _first_non_finite(value, path: str = "") -> tuple[str, float] | None:
    """The path (``best_per_k[0].bic``) and value of the first float in ``value`` that is NaN or infinite."""
    if isinstance(value, float):
        return None if math.isfinite(value) else (path, value)
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        found = _first_non_finite(item, f"{path}[{key}]" if isinstance(key, int) else f"{path}.{key}".lstrip("."))
        if found is not None:
            return found
    return None


def strict_json(summary: dict) -> str:
    """``summary`` as strict JSON (``allow_nan=False``); NaN or an infinity is a :class:`DataError` naming the field."""
    found = _first_non_finite(summary)
    if found is not None:
        path, value = found
        raise DataError(
            f"{summary.get('dataset', 'the result')}: {path} is {value}, not a finite number, which JSON cannot hold; "
            "rescale the data (divide every value by the same power of 10)"
        )
    return json.dumps(summary, allow_nan=False)


def _init_with(value: str, ks: list[int]):
    """The --init value: a strategy name, or the means in a file (whose count must be every K)."""
    if value in STRATEGIES:
        return value
    if not os.path.lexists(value):
        raise DataError(
            f"--init {value}: no such file; give course, kmeans++ or the path of a file of means (one per line)"
        )
    means_file = load_means(value)
    other = [K for K in ks if K != means_file.n_means]
    if other:
        raise DataError(
            f"--init {means_file.name} holds {means_file.n_means} means but --k asks for {other[0]}; "
            f"give --k {means_file.n_means}"
        )
    return means_file


def _fit(args: argparse.Namespace) -> int:
    # the cheap checks first, so a typo does not wait for a large file to load
    for seed in args.seeds:
        check_seed(seed)
    check_max_iter(args.max_iter)
    check_min_variance(args.min_variance)
    experiment.algorithm_for(args.algorithm, args.min_variance, args.covariance_type)  # a type naive-em alone has
    fraction = _fraction(args.holdout)
    if fraction is None and args.holdout_seed is not None:
        raise DataError("--holdout-seed needs --holdout FRACTION; add e.g. --holdout 0.1")
    try:
        holdout_seed = check_seed(0 if args.holdout_seed is None else args.holdout_seed)
    except DataError as err:
        raise DataError(f"--holdout-seed: {err}") from None
    if fraction is not None and not experiment.completes_matrices(args.algorithm):
        raise DataError(
            f"--holdout scores a completion, which only --algorithm em makes ({args.algorithm} fits complete "
            "points); drop --holdout or use --algorithm em"
        )
    init_with = _init_with(args.init, args.k)
    kind = "ratings" if experiment.completes_matrices(args.algorithm) else "points"
    dataset = load_dataset(args.data, args.gold, kind=kind)
    experiment.check_ks(args.k, dataset.X.shape[0], dataset.name)
    if kind == "ratings":
        dataset = _in_form(dataset, args.form)
    held_out = None
    if fraction is not None:
        try:
            held_out = hide(dataset.X, fraction, holdout_seed)
        except DataError as err:
            raise DataError(f"{dataset.name}: {err}") from None
    terminal = sys.stderr.isatty()
    show = _progress_line(args.algorithm) if terminal and not args.quiet else None
    total = len(args.k) * len(args.seeds)
    finished: list[experiment.RunResult] = []

    def fit_one(X, algorithm, K, seed, min_variance, max_iter):
        callback = None if show is None else (lambda state: show(state, K, seed))
        run = experiment.fit(X, algorithm, K, seed, min_variance, max_iter, callback, init_with, args.covariance_type)
        finished.append(run)
        if not args.quiet and not terminal:
            print(_finished_line(run, algorithm, len(finished), total), file=sys.stderr, flush=True)
        return run

    def on_run(run, done, total):
        # EM from the course's start: the sweep fits the seeds of each K together, so progress is per run
        if show is not None:
            print(f"\r{_finished_line(run, args.algorithm, done, total)}   ", end="", file=sys.stderr, flush=True)
        elif not args.quiet:
            print(_finished_line(run, args.algorithm, done, total), file=sys.stderr, flush=True)

    batched = args.algorithm == "em" and isinstance(init_with, str) and init_with == "course"
    result = experiment.sweep(
        dataset.X,
        args.algorithm,
        args.k,
        args.seeds,
        name=dataset.name,
        gold=dataset.gold,
        min_variance=args.min_variance,
        max_iter=args.max_iter,
        holdout=held_out,
        fit_one=None if batched else fit_one,
        on_run=on_run if batched else None,
    )
    if show is not None:
        print("\r" + " " * 70 + "\r", end="", file=sys.stderr, flush=True)
    for run in result.runs:
        if not run.converged:
            print(_cap_warning(run, args.algorithm, args.max_iter), file=sys.stderr)
    summary = sweep_json(result)
    text = strict_json(summary)  # a non-finite number is an error in the table too
    print(text if args.json else _table(result))
    return 0


def _in_form(dataset, form: str):
    """``dataset`` with its ratings dense or CSR as ``--form`` asks (a gold matrix is scored on the dense form)."""
    if dataset.gold is not None:
        if form == "sparse":
            raise DataError(f"{dataset.name}: a gold matrix is scored on the dense ratings; drop --form sparse")
        return dataclasses.replace(dataset, X=as_form(dataset.X, "dense"))
    try:
        return dataclasses.replace(dataset, X=as_form(dataset.X, form))
    except DataError as err:
        raise DataError(f"{dataset.name}: {err}") from None


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        status = _compare(args) if args.command == "compare" else _fit(args)
        sys.stdout.flush()  # a closed pipe shows here, inside the try
        return status
    except DataError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # the reader is gone (``... --json | head``): Python flushes stdout at exit, so point it at
        # devnull to keep that from raising again, and exit 1 as Python does on EPIPE
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
