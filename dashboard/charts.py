"""Altair chart builders: a DataFrame in, an alt.Chart out, testable with chart.to_dict().

One colour per status or outcome, the same on every page: green is good, amber is a warning,
red is a failure, grey is nothing yet.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

GREEN, AMBER, RED, GREY, LIGHT_GREY, BLUE = (
    "#2e7d32",
    "#f2a900",
    "#c62828",
    "#9e9e9e",
    "#cfd8dc",
    "#1e88e5",
)
STATUS_COLOURS = {
    "fresh": GREEN,
    "materialized": GREEN,
    "stale": AMBER,
    "never": GREY,
    "failed": RED,
    "skipped": LIGHT_GREY,
    "running": BLUE,
    "pending": LIGHT_GREY,
}
OUTCOME_COLOURS = {
    "passed": GREEN,
    "warned": AMBER,
    "failed": RED,
    "error": "#6a1b9a",
    "skipped": LIGHT_GREY,
}


def _scale(colours: dict[str, str], present: pd.Series) -> alt.Scale:
    """A fixed colour per value, listing only the values present so the legend stays short."""
    domain = [value for value in colours if value in set(present)]
    return alt.Scale(domain=domain, range=[colours[value] for value in domain])


def row_count_history(history: pd.DataFrame) -> alt.Chart:
    """Rows after each successful build of one asset, by run (columns run_id, row_count)."""
    data = history[history["status"] == "materialized"].dropna(subset=["row_count"])
    base = alt.Chart(data).encode(
        x=alt.X("run_id:O", title="Run", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("row_count:Q", title="Rows", axis=alt.Axis(format="~s", tickCount=4)),
        tooltip=[
            alt.Tooltip("run_id:O", title="Run"),
            alt.Tooltip("finished:T", title="Finished", format="%Y-%m-%d %H:%M:%S"),
            alt.Tooltip("row_count:Q", title="Rows", format=","),
        ],
    )
    return (
        base.mark_line(color=BLUE) + base.mark_point(color=BLUE, filled=True, size=60)
    ).properties(height=180, title="Row count by run")


def run_gantt(timeline: pd.DataFrame) -> alt.Chart:
    """One bar per asset from its start to its end, in seconds since the run started."""
    data = timeline.dropna(subset=["start_s"]).copy()
    data["end_s"] = data["end_s"].fillna(data["start_s"])
    # A build of a few milliseconds would be invisible: give each bar a minimum visible width.
    longest = float(data["end_s"].max()) if not data.empty else 0.0
    minimum = max(longest * 0.01, 0.002)
    data["end_shown"] = pd.concat([data["end_s"], data["start_s"] + minimum], axis=1).max(axis=1)
    return (
        alt.Chart(data)
        .mark_bar(cornerRadius=3, height={"band": 0.7})
        .encode(
            x=alt.X("start_s:Q", title="Seconds since the run started"),
            x2="end_shown:Q",
            y=alt.Y("asset:N", title=None, sort=list(data["asset"]), axis=alt.Axis(labelLimit=240)),
            color=alt.Color(
                "status:N", title="Status", scale=_scale(STATUS_COLOURS, data["status"])
            ),
            tooltip=[
                alt.Tooltip("asset:N", title="Asset"),
                alt.Tooltip("status:N", title="Status"),
                alt.Tooltip("duration:N", title="Duration"),
                alt.Tooltip("rows:Q", title="Rows", format=","),
            ],
        )
        .properties(height=alt.Step(34), title="Assets in this run")
    )


def check_outcome_heatmap(history: pd.DataFrame) -> alt.Chart:
    """Outcome of every check (rows) in every run (columns): pass / warn / fail at a glance."""
    checks = sorted(history["check"].unique())
    return (
        alt.Chart(history)
        .mark_rect(stroke="white", strokeWidth=2, cornerRadius=2)
        .encode(
            x=alt.X("run_id:O", title="Run", axis=alt.Axis(labelAngle=0)),
            y=alt.Y("check:N", title=None, sort=checks, axis=alt.Axis(labelLimit=360)),
            color=alt.Color(
                "outcome:N", title="Outcome", scale=_scale(OUTCOME_COLOURS, history["outcome"])
            ),
            tooltip=[
                alt.Tooltip("check:N", title="Check"),
                alt.Tooltip("run_id:O", title="Run"),
                alt.Tooltip("outcome:N", title="Outcome"),
                alt.Tooltip("observed_value:Q", title="Observed", format=","),
                alt.Tooltip("when:T", title="When", format="%Y-%m-%d %H:%M:%S"),
            ],
        )
        .properties(height=alt.Step(26), title="Outcome per run")
    )


def observed_value_over_time(history: pd.DataFrame) -> alt.Chart:
    """Each check's observed value (e.g. missing-dimension rows) by run."""
    data = history.dropna(subset=["observed_value"])
    base = alt.Chart(data).encode(
        x=alt.X("run_id:O", title="Run", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("observed_value:Q", title="Observed value"),
        color=alt.Color(
            "check:N",
            title="Check",
            legend=None if data["check"].nunique() <= 1 else alt.Legend(labelLimit=320),
        ),
        tooltip=[
            alt.Tooltip("check:N", title="Check"),
            alt.Tooltip("run_id:O", title="Run"),
            alt.Tooltip("observed_value:Q", title="Observed", format=","),
            alt.Tooltip("outcome:N", title="Outcome"),
        ],
    )
    return (base.mark_line() + base.mark_point(filled=True, size=50)).properties(
        height=220, title="Observed value by run"
    )
