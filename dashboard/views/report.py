"""Report: one run's shareable report, its files in every format, and a permalink to it."""

from __future__ import annotations

import streamlit as st

from dashboard import state, ui
from dashboard.models import report as report_service
from dashboard.safe import escape_markdown

st.title("Report")
cfg, defs = ui.load()

wanted = st.query_params.get(state.QP_REPORT_RUN)
with ui.guard("read the run history"):
    choice = report_service.choose_run(cfg, wanted)
if choice is None:
    ui.empty_state(
        "No runs yet, so there is nothing to report. Start one on the **Materialize** page"
        " (or `python -m pipeline materialize`); each run's report appears here."
    )
    st.stop()
if choice.message:  # it quotes the run id asked for in the URL: anyone can craft it
    st.warning(escape_markdown(choice.message), icon=":material/help:")
if choice.note:
    st.info(escape_markdown(choice.note), icon=":material/info:")

labels = {run.run_id: report_service.run_label(run) for run in choice.runs}
run_id = st.selectbox(
    "Run",
    choice.run_ids,
    index=choice.index,
    format_func=labels.__getitem__,
    key=state.SELECT_REPORT_RUN,
    help=(
        "By default the latest run that ran checks (`?run=latest`: the newest run, whatever it"
        " ran); the permalink below opens the chosen one."
    ),
)
if st.query_params.get(state.QP_REPORT_RUN) != choice.url_value(run_id):
    st.query_params[state.QP_REPORT_RUN] = choice.url_value(run_id)

with ui.guard(f"build the report of run {run_id}"):
    report = report_service.load_report(cfg, defs, run_id)
    files = report_service.downloads(report)

st.caption(escape_markdown(report_service.summary(report)))

link = report_service.permalink(st.context.url, state.QP_REPORT_RUN, run_id)
st.code(link, language=None)
st.caption("Permalink: opens this report for anyone with access to the dashboard.")
for column, (fmt, item) in zip(st.columns(len(files)), files.items(), strict=True):
    column.download_button(
        item.label,
        item.data,
        file_name=item.file_name,
        mime=item.mime,
        help=item.help,
        icon=":material/download:",
        key=f"report_download_{fmt}",
        width="stretch",
    )

# The report is escaped by its template and carries no scripts; the iframe keeps its CSS apart.
st.iframe(files["html"].data.decode("utf-8"), height="content", alt=f"Report of run {run_id}")
