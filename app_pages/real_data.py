"""Results on real data: EM against the baselines on held-out real ratings, and why."""

import streamlit as st

from dashboard import results_figures, session, work
from dashboard.limits import literal
from em_core import DataError
from em_core import real_data_comparison as comparison
from em_core.baselines import METHODS, SPARSE_METHODS
from em_core.real_data_options import DEFAULT_PRIOR_STRENGTH, variants_with

#: The real rating set this page is about, when EM_DATA_DIR has it.
REAL_SET = "movielens-small"
K_CHOICES = (1, 2, 4, 8, 12, 16, 24)


def use_real_set() -> None:
    st.session_state.dataset = REAL_SET
    session.on_dataset_change()


s = session.settings()
st.title("Results on real data")
session.require(s, kind="ratings", need_k=False)
X = s.dataset.X
n, d = X.shape
st.caption(
    "Hide a share of the observed ratings, fit on the rest, and score every method on the hidden ones. "
    "The course's EM is always the reference; the options below are off in the course (and in every other page)."
)
if s.dataset_id != REAL_SET and REAL_SET in session.dataset_options():
    st.info(f"This page is about real ratings: {REAL_SET} (MovieLens latest-small) is available.")
    st.button(f"Use {REAL_SET}", key="rd_use_real", on_click=use_real_set)
elif s.dataset_id != REAL_SET:
    st.caption(
        f"{REAL_SET} is not in EM_DATA_DIR (download ml-latest-small from grouplens.org and add its folder); "
        f"the comparison runs on {session.dataset_label(s.dataset_id)} meanwhile."
    )

left, middle, right = st.columns(3)
ks = left.multiselect(
    "Components K", [k for k in K_CHOICES if k <= n], default=[k for k in (4, 12) if k <= n] or [1], key="rd_ks"
)
fraction = middle.slider("Share held out", 0.05, 0.3, 0.1, 0.05, key="rd_fraction")
splits = int(right.number_input("Splits (holdout seeds 0, 1, …)", 1, 5, 3, key="rd_splits"))
st.markdown("**Options for real data** — each is compared alone and, with two or more on, combined:")
cols = st.columns([1, 1, 1.35, 1])  # the longest toggle label whole at 1280 px beside the sidebar
item_start = cols[0].toggle(
    "Item-mean start", True, key="rd_item_mean_start", help="Start each mean's unrated items at the item's mean."
)
residuals = cols[1].toggle(
    "EM on residuals", True, key="rd_residuals", help="Fit the ratings minus user and item biases; add them back."
)
prior = cols[2].toggle(
    "Prior toward the item mean",
    True,
    key="rd_prior",
    help="Shrink each mean coordinate toward the item mean, less the more support it has.",
)
strength = cols[3].number_input(
    "Prior strength λ", 0.1, 1000.0, DEFAULT_PRIOR_STRENGTH, key="rd_prior_strength", disabled=not prior
)
methods = st.multiselect(
    "Baselines",
    list(METHODS),
    default=list(SPARSE_METHODS),
    format_func=lambda name: METHODS[name][0],
    key="rd_baselines",
    help="Soft-Impute and KNN work on the dense matrix: on movielens-small about 30 s and 20 s each per split.",
)
variants = variants_with(item_start, residuals, strength if prior else 0.0)
params = (session.content_key(s), tuple(ks), fraction, splits, variants, tuple(methods), s.min_variance)

if st.button("Run the comparison", key="rd_run", type="primary", disabled=not ks):
    limit = work.WorkLimit("Fitting EM and the baselines")
    try:
        result = comparison.compare(
            X,
            ks,
            variants,
            holdout_seeds=range(splits),
            fraction=fraction,
            methods=methods,
            name=s.dataset.name,
            min_variance=s.min_variance,
            on_progress=lambda done, total, what: limit.progress(done / total, what),
            should_stop=limit,
        )
        st.session_state.rd_result = (params, result)
    except comparison.ComparisonStoppedError as err:
        st.warning(limit.message(f"{err}; choose fewer K, splits or slow baselines, or run the command below"))
    except DataError as err:
        st.error(literal(str(err)), icon=":material/error:")
    finally:
        limit.done()

shown = st.session_state.get("rd_result")
if shown is None or shown[0] != params:
    st.info(
        "Choose K, the options and the baselines, then click **Run the comparison**"
        + (" (the settings changed since the last one)." if shown is not None else ".")
    )
    st.stop()
result = shown[1]
names = {row.name for row in result.rows}
if "user_item_bias" in names:
    wins = result.best(True).mean_rmse < result.row("user_item_bias").mean_rmse
    (st.success if wins else st.warning)(result.verdict)
st.plotly_chart(results_figures.rmse_bars(result), key="rd_bars")
table = results_figures.comparison_table(result)
st.dataframe(
    table,
    hide_index=True,
    width="stretch",
    height=35 * (len(table) + 1) + 3,  # every row, no inner scrolling
    column_config={
        "method": st.column_config.TextColumn(width="large"),
        "seconds": st.column_config.NumberColumn(format="%.2f"),
        **{name: st.column_config.NumberColumn(format="%.4f") for name in table.columns if "RMSE" in name},
    },
)
st.subheader("Why the course's model does what it does here")
for diagnosis in result.diagnoses:
    sentences = comparison.explain(result, diagnosis)
    if sentences:
        st.markdown("\n".join(f"- {sentence}" for sentence in sentences))
    else:
        st.caption("Add the user mean and item mean baselines to see the course model's numbers explained.")
if result.diagnoses:
    st.markdown(result.diagnoses[0].user_level_sentence)
st.caption(f"The same from the command line: `{results_figures.command_line(result, params[4], s.dataset_id)}`")
