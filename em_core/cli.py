"""Command line: ``python -m em_core fit ...`` runs the course experiment.

Bad input ends with one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from em_core import experiment
from em_core.data import BUILTIN, COURSE_FILES, load_dataset
from em_core.errors import DataError
from em_core.holdout import Holdout, check_fraction, hide, holdout_rmse
from em_core.validation import check_max_iter, check_min_variance, check_seed


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m em_core", description="EM Lab: EM for Gaussian mixtures.")
    commands = parser.add_subparsers(dest="command", required=True)
    fit = commands.add_parser("fit", help="fit K-means or EM for several K and seeds")
    names = ", ".join(list(BUILTIN) + list(COURSE_FILES))
    fit.add_argument("--data", required=True, help=f"a matrix file, or one of: {names}")
    fit.add_argument("--gold", help="the complete matrix, to score the completion")
    fit.add_argument("--algorithm", choices=experiment.ALGORITHMS, default="em")
    fit.add_argument("--k", type=int, nargs="+", required=True, metavar="K")
    fit.add_argument("--seeds", type=int, nargs="+", default=[0], metavar="S")
    fit.add_argument("--min-variance", type=float, default=0.25, help="variance floor of EM (default 0.25)")
    fit.add_argument("--max-iter", type=int, default=None, help="stop a run after this many iterations")
    fit.add_argument(
        "--holdout",
        metavar="FRACTION",
        help="hide this share (0 to 1) of the observed ratings, fit on the rest and score EM and the "
        "baselines on the hidden ones (EM only)",
    )
    fit.add_argument("--holdout-seed", type=int, metavar="S", help="seed of the hidden entries (default 0)")
    fit.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    return parser


def _table(summary: dict) -> str:
    score_key = "cost" if summary["algorithm"] == "kmeans" else "log_likelihood"
    lines = [f"{summary['dataset']}  ({summary['algorithm']})", ""]
    lines.append(f"{'K':>4} {'seed':>5} {score_key:>18} {'iters':>6} {'seconds':>9}")
    for r in summary["runs"]:
        lines.append(f"{r['k']:>4} {r['seed']:>5} {r[score_key]:>18.4f} {r['iterations']:>6} {r['seconds']:>9.3f}")
    lines += ["", "best per K"]
    header = f"{'K':>4} {'seed':>5} {score_key:>18}"
    if score_key == "log_likelihood":
        header += f" {'BIC':>18}"
    header += f" {'RMSE':>10} {'RMSE missing':>13}"
    holdout = summary.get("holdout")
    if holdout:
        header += f" {'RMSE held-out':>14}"
    lines.append(header)

    def fmt(value):
        return f"{value:.6f}" if value is not None else "-"

    for b in summary["best_per_k"]:
        line = f"{b['k']:>4} {b['seed']:>5} {b[score_key]:>18.4f}"
        if "bic" in b:
            line += f" {b['bic']:>18.4f}"
        line += f" {fmt(b['rmse']):>10} {fmt(b['rmse_missing']):>13}"
        if holdout:
            line += f" {fmt(b.get('rmse_holdout')):>14}"
        lines.append(line)
    if holdout:
        lines += [
            "",
            f"held out: {holdout['n_hidden']} observed ratings ({holdout['fraction'] * 100:g} % of them, "
            f"seed {holdout['seed']}), fitted without them",
            f"{'baseline':>12} {'RMSE held-out':>14}",
        ]
        lines += [f"{name:>12} {fmt(value):>14}" for name, value in summary["baselines_holdout"].items()]
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


def _baseline_scores(X: np.ndarray, held_out: Holdout) -> dict[str, float]:
    """RMSE of the numpy baselines on the hidden entries; KNN is left out (scikit-learn, 4-9 s on 1200 x 1200)."""
    # baselines/ sits beside em_core (its KNN needs scikit-learn), so it is imported only here
    from baselines import NUMPY_METHODS, run_all

    return {r.name: holdout_rmse(X, held_out, r.X_pred) for r in run_all(held_out.X_train, NUMPY_METHODS)}


def _fit(args: argparse.Namespace) -> int:
    # the cheap checks first, so a typo does not wait for a large file to load
    for seed in args.seeds:
        check_seed(seed)
    check_max_iter(args.max_iter)
    check_min_variance(args.min_variance)
    fraction = _fraction(args.holdout)
    if fraction is None and args.holdout_seed is not None:
        raise DataError("--holdout-seed needs --holdout FRACTION; add e.g. --holdout 0.1")
    try:
        holdout_seed = check_seed(0 if args.holdout_seed is None else args.holdout_seed)
    except DataError as err:
        raise DataError(f"--holdout-seed: {err}") from None
    if fraction is not None and args.algorithm != "em":
        raise DataError(
            f"--holdout scores a completion, which only --algorithm em makes ({args.algorithm} fits complete "
            "points); drop --holdout or use --algorithm em"
        )
    kind = "points" if args.algorithm != "em" else "ratings"
    dataset = load_dataset(args.data, args.gold, kind=kind)
    ks = experiment.check_ks(args.k, dataset.X.shape[0], dataset.name)
    held_out = None
    if fraction is not None:
        try:
            held_out = hide(dataset.X, fraction, holdout_seed)
        except DataError as err:
            raise DataError(f"{dataset.name}: {err}") from None
    X_fit = dataset.X if held_out is None else held_out.X_train
    progress = sys.stderr.isatty()
    runs = []
    for K in ks:
        for seed in args.seeds:
            callback = None
            if progress:

                def callback(state, K=K, seed=seed):
                    print(
                        f"\r{args.algorithm} K={K} seed={seed} iteration {state.iteration} score {state.score:.4f}   ",
                        end="",
                        file=sys.stderr,
                        flush=True,
                    )

            runs.append(experiment.fit(X_fit, args.algorithm, K, seed, args.min_variance, args.max_iter, callback))
    if progress:
        print("\r" + " " * 70 + "\r", end="", file=sys.stderr, flush=True)
    baselines_holdout = _baseline_scores(dataset.X, held_out) if held_out is not None else None
    summary = experiment.summarise(dataset, args.algorithm, runs, held_out, baselines_holdout)
    print(json.dumps(summary) if args.json else _table(summary))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _fit(args)
    except DataError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
