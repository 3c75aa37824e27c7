"""Assetboard's entry point: `streamlit run dashboard/app.py [-- --defs M --db P]`.

Routes to the pages with st.navigation and shows which definitions and database are in use.
Settings come from dashboard/settings.py (arguments after `--`, env vars, defaults).
"""

from __future__ import annotations

import sys
from pathlib import Path

# `streamlit run dashboard/app.py` puts dashboard/ on sys.path, not the repo root.
_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

import streamlit as st  # noqa: E402

from dashboard import runs, settings, ui  # noqa: E402
from dashboard.safe import escape_markdown  # noqa: E402

# An emoji favicon is drawn by the browser; a ":material/...:" one is fetched from a font CDN.
st.set_page_config(page_title="Assetboard", page_icon="📊", layout="wide")

PAGES = {
    "Pipeline": [
        st.Page("views/overview.py", title="Overview", icon=":material/dashboard:", default=True),
        st.Page("views/graph.py", title="Asset graph", icon=":material/account_tree:"),
        st.Page("views/catalog.py", title="Asset catalog", icon=":material/table_view:"),
        st.Page("views/materialize.py", title="Materialize", icon=":material/play_circle:"),
        st.Page("views/runs.py", title="Runs", icon=":material/history:"),
        st.Page("views/checks.py", title="Checks", icon=":material/fact_check:"),
        st.Page("views/automation.py", title="Automation", icon=":material/schedule:"),
    ],
    "Insights": [
        st.Page("views/sales.py", title="Sales", icon=":material/monitoring:"),
        st.Page("views/report.py", title="Report", icon=":material/description:"),
    ],
}

page = st.navigation(PAGES)

current = settings.current()
with st.sidebar:
    st.caption(
        f"Definitions: {escape_markdown(current.defs)}  \nDatabase: {escape_markdown(current.db)}",
        help="Set with ASSETBOARD_DEFS / ASSETBOARD_DB or"
        " `streamlit run dashboard/app.py -- --defs MODULE --db FILE`.",
    )
    live = runs.current(current.db)
    if live is not None and live.active:
        label = escape_markdown(live.label, one_line=True)
        st.caption(f":blue[:material/progress_activity:] **{label}** is running…")

ui.start_page()
try:
    page.run()
finally:  # also when the page stops early (st.stop) or reruns
    ui.draw_deferred()
