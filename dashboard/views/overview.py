"""Overview: assets by health, checks by latest outcome, the last run, what needs attention."""

from __future__ import annotations

import streamlit as st

from dashboard import formatting, state, ui
from dashboard.models import overview as model
from dashboard.models import words
from dashboard.safe import escape_markdown
from pipeline.looks import NEVER_RUN, look
from pipeline.states import AssetHealth, CheckOutcome, RunStatus


def _help(reasons: list[tuple[str, str]]) -> str | None:
    """Which assets a count stands for and why, escaped: names and reasons come from data."""
    text = words.reasons_help(reasons)
    return None if text is None else escape_markdown(text)


st.title("Overview")
cfg, defs = ui.load()
with ui.guard("read the run history"):
    summary = model.overview(cfg, defs)
ui.run_progress(cfg, show_finished=True)

st.subheader("Assets")
ui.metric_row(
    [(look(health).label, summary.health_counts[health]) for health in AssetHealth],
    help=[_help(summary.health_reasons.get(health, [])) for health in AssetHealth],
)

if summary.partitioned:
    st.subheader("Partitions")
    for part in summary.partitioned:
        with st.container(border=True):
            # A row that wraps: in a narrow window the link goes under the name, never cut.
            head = st.container(horizontal=True, vertical_alignment="center", wrap=True)
            name = escape_markdown(part.name, one_line=True)
            head.markdown(f"{ui.badge(part.health)} · **{name}**", width="content")
            head.page_link(
                "views/graph.py",
                label="Open its partitions",
                icon=":material/calendar_view_month:",
                query_params={state.QP_ASSET: part.name},
            )
            st.progress(part.share, text=escape_markdown(part.summary))

st.subheader("Checks")
labels = {
    "passed": look(CheckOutcome.PASSED).label,
    "warned": look(CheckOutcome.WARNED).label,
    "failed": "Failed or could not run",
    "never": NEVER_RUN.label,
}
ui.metric_row([(labels[b], summary.check_counts[b]) for b in model.CHECK_BUCKETS])
st.caption(
    words.check_tiles_caption(summary.last_run, summary.not_in_last_run, summary.check_count)
)

st.subheader("Last run")
run = summary.last_run
if ui.running(cfg) and (run is None or run.status == RunStatus.RUNNING):
    st.caption("The run going on is shown above; its summary comes here when it ends.")
elif run is None:
    ui.empty_state(
        "No runs yet. Click **Materialize all** to build every asset and run its checks;"
        " the graph, runs and checks pages fill in as soon as it finishes."
    )
    ui.materialize_toolbar(cfg, defs, "overview", actions=("all",))
else:
    status = RunStatus(run.status)
    text = (
        f"**Run {run.run_id}: {look(status).label}**"
        f" · {formatting.format_ago(run.started_at)}"
        f" · {formatting.format_duration(run.duration_s) if status.finished else 'running'}"
        f" · from {escape_markdown(words.launched_from(run.launched_by), one_line=True)}"
        f"  \n{escape_markdown(words.run_summary(run))}"  # names the selection typed
    )
    if run.message and status != RunStatus.SUCCESS:
        text += f"  \n{escape_markdown(words.headline(run.message))}"
    ui.run_box(status, text)
    st.page_link(
        "views/runs.py",
        label="See this run's timeline and errors",
        icon=":material/history:",
        query_params={state.QP_RUN: str(run.run_id)},
    )

st.subheader("Needs attention")
stale = [name for name, _ in summary.health_reasons.get(AssetHealth.STALE, [])]
if not summary.attention and not stale:
    if run is None:
        st.caption("Nothing has run yet, so nothing has failed.")
    else:
        st.success("No failing, blocked or warning assets or checks.", icon=":material/verified:")
if stale:  # not broken, but behind their inputs or code: never "everything is fine"
    with st.container(border=True):
        left, right = st.columns([4, 1], vertical_alignment="center")
        left.markdown(escape_markdown(words.stale_note(stale)))
        right.page_link("views/materialize.py", label="Materialize", icon=":material/play_circle:")
for item in summary.attention[:10]:
    with st.container(border=True):
        left, right = st.columns([4, 1], vertical_alignment="center")
        name = escape_markdown(item.name, one_line=True)
        left.markdown(
            f"{ui.badge(item.state)} · **{name}** · {formatting.format_ago(item.when)}"
            f"  \n{escape_markdown(item.headline)}"
        )
        if item.detail and item.detail.strip() != item.headline.strip():
            with left.expander("Full error"):
                ui.error_text(item.detail)
        if item.kind == "asset":
            right.page_link(
                "views/graph.py",
                label="Asset details",
                icon=":material/account_tree:",
                query_params={state.QP_ASSET: item.asset},
            )
        else:
            right.page_link(
                "views/checks.py",
                label="Check details",
                icon=":material/fact_check:",
                query_params={state.QP_CHECK: item.name},
            )
if len(summary.attention) > 10:
    st.caption(f"…and {len(summary.attention) - 10} more: see the Checks and Catalog pages.")
