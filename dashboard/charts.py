"""Altair chart builders: a DataFrame in, an alt.Chart out, testable with chart.to_dict().

Colours come from pipeline/looks.py: the same per state on every page, in every report.
"""

from __future__ import annotations

from enum import StrEnum

import altair as alt
import pandas as pd

from dashboard.models.asset import Distribution
from pipeline.looks import GREY, RED, look
from pipeline.states import CheckOutcome, EventStatus

BLUE = "#1e88e5"


def _scale(kind: type[StrEnum], present: pd.Series) -> alt.Scale:
    """Each state's own colour (pipeline/looks.py), listing only the labels present so the
    legend stays short. Frames carry labels, so the legend reads as the tables do."""
    shown = set(present)
    looks = [look(member) for member in kind if look(member).label in shown]
    return alt.Scale(domain=[x.label for x in looks], range=[x.colour for x in looks])


def row_count_history(history: pd.DataFrame) -> alt.Chart:
    """Rows after each successful build of one asset, by run (columns run_id, row_count)."""
    built = look(EventStatus.MATERIALIZED).label
    data = history[history["status"] == built].dropna(subset=["row_count"])
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
            color=alt.Color("status:N", title="Status", scale=_scale(EventStatus, data["status"])),
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
                "outcome:N", title="Outcome", scale=_scale(CheckOutcome, history["outcome"])
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


def observed_value_over_time(
    observed: pd.DataFrame, rules: list[tuple[str, float]] | None = None
) -> alt.LayerChart:
    """One check's observed value by run (columns run_id, observed_value, outcome), each point
    in its outcome's colour, with the rule's thresholds as dashed lines."""
    data = observed.dropna(subset=["observed_value"])
    shown = [*data["observed_value"], *(value for _, value in rules or [])]
    # Every value 0 (a schema check with no change) gives Vega an empty domain, [0, 0], whose
    # axis reads "NaN": give it [0, 1] instead, ticked at 0 and 1 only (no 0.5 of a column).
    # Otherwise the scale starts at zero anyway.
    flat = bool(shown) and not any(shown)
    scale = alt.Scale(domain=[0, 1]) if flat else alt.Undefined
    axis = alt.Axis(format="~s", values=[0, 1]) if flat else alt.Axis(format="~s")
    base = alt.Chart(data).encode(
        x=alt.X("run_id:O", title="Run", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("observed_value:Q", title="Observed value", axis=axis, scale=scale),
    )
    line = base.mark_line(color="#90a4ae")
    points = base.mark_point(filled=True, size=70).encode(
        color=alt.Color("outcome:N", title="Outcome", scale=_scale(CheckOutcome, data["outcome"])),
        tooltip=[
            alt.Tooltip("run_id:O", title="Run"),
            alt.Tooltip("observed_value:Q", title="Observed", format=",~f"),
            alt.Tooltip("outcome:N", title="Outcome"),
        ],
    )
    layers: list[alt.Chart] = [line, points]
    if rules:
        frame = pd.DataFrame(rules, columns=["rule", "value"])
        rule = alt.Chart(frame).encode(y=alt.Y("value:Q", scale=scale))
        layers.append(rule.mark_rule(color="#c62828", strokeDash=[6, 4], size=1.5))
        layers.append(
            rule.mark_text(align="left", dx=4, dy=-6, color="#c62828").encode(
                text="rule:N", x=alt.value(0)
            )
        )
    return alt.LayerChart(layer=layers).properties(height=220, title="Observed value by run")


ANOMALOUS, WITHIN, NO_BAND = "Anomalous", "Within the band", "Not enough history"


def anomaly_band(series: pd.DataFrame) -> alt.LayerChart:
    """An anomaly check's value by run (dashboard.models.checks.band_series): the expected
    band shaded where there is one (its one-sided bounds as dashed lines), the value as a line
    with points, anomalous points in red and ringed, points without a band yet in grey."""
    data = series.dropna(subset=["observed_value"]).copy()
    data["point"] = [
        ANOMALOUS if anomalous else (WITHIN if enough else NO_BAND)
        for anomalous, enough in zip(data["anomalous"], data["enough_history"], strict=True)
    ]
    label = str(data["label"].iloc[-1]) if not data.empty else "observed"
    x = alt.X("run_id:O", title="Run", axis=alt.Axis(labelAngle=0))
    tooltip = [
        alt.Tooltip("run_id:O", title="Run"),
        alt.Tooltip("when:T", title="When", format="%Y-%m-%d %H:%M:%S"),
        alt.Tooltip("observed_value:Q", title="Value", format=",.4~f"),
        alt.Tooltip("band:N", title="Expected"),
        alt.Tooltip("zscore:Q", title="z-score", format=".2f"),
        alt.Tooltip("outcome:N", title="Outcome"),
        alt.Tooltip("reason:N", title="Why"),
    ]
    banded = data.dropna(subset=["expected_low", "expected_high"])
    band = (
        alt.Chart(banded)
        .mark_area(color=BLUE, opacity=0.18)
        .encode(x=x, y="expected_low:Q", y2="expected_high:Q", tooltip=tooltip)
        .properties(name="band")
    )
    layers: list[alt.Chart] = [band]
    for side in ("expected_low", "expected_high"):
        bound = data.dropna(subset=[side])
        layers.append(
            alt.Chart(bound)
            .mark_line(color=BLUE, opacity=0.6, strokeDash=[4, 3], size=1)
            .encode(x=x, y=f"{side}:Q")
        )
    y = alt.Y(
        "observed_value:Q",
        title=label,
        axis=alt.Axis(format="~s"),
        scale=alt.Scale(zero=False),
    )
    base = alt.Chart(data).encode(x=x, y=y)
    layers.append(base.mark_line(color="#90a4ae"))
    shown = [name for name in (WITHIN, NO_BAND, ANOMALOUS) if name in set(data["point"])]
    colours = {WITHIN: BLUE, NO_BAND: GREY, ANOMALOUS: RED}
    layers.append(
        base.mark_point(filled=True, size=70).encode(
            color=alt.Color(
                "point:N",
                title=None,
                scale=alt.Scale(domain=shown, range=[colours[name] for name in shown]),
            ),
            tooltip=tooltip,
        )
    )
    anomalous = data[data["anomalous"]]
    layers.append(
        alt.Chart(anomalous)
        .mark_point(color=RED, size=260, strokeWidth=2)
        .encode(x=x, y=y, tooltip=tooltip)
        .properties(name="anomalous")
    )
    return alt.LayerChart(layer=layers).properties(
        height=260, title="Value by run, against the band its history expected"
    )


def profile_trend(trend: pd.DataFrame) -> alt.LayerChart:
    """One figure of one column by run (columns run_id, figure, value; figures as
    dashboard/models/asset.py names them): a line with points, sized for the side panel."""
    figure = str(trend["figure"].iloc[0]) if not trend.empty else ""
    share = "share" in figure.lower()
    base = alt.Chart(trend).encode(
        x=alt.X("run_id:O", title="Run", axis=alt.Axis(labelAngle=0)),
        y=alt.Y(
            "value:Q",
            title=figure,
            axis=alt.Axis(format=".1~%" if share else "~s", tickCount=4),
            scale=alt.Scale(zero=False),
        ),
        tooltip=[
            alt.Tooltip("run_id:O", title="Run"),
            alt.Tooltip("value:Q", title=figure, format=".2%" if share else ",.4~f"),
        ],
    )
    line = base.mark_line(color=BLUE) + base.mark_point(color=BLUE, filled=True, size=40)
    return line.properties(height=200, title=f"{figure} by run")  # with title and axes


def column_distribution(shape: Distribution) -> alt.Chart:
    """One column's distribution, small: bars over its bins (x from each bin's start to its
    end, rows up) or its top values (one bar each, most frequent first)."""
    tooltip = [
        alt.Tooltip("label:N", title="Values"),
        alt.Tooltip("rows:Q", title="Rows", format=","),
    ]
    rows = alt.Axis(format="~s", tickCount=3)
    if not shape.binned:
        return (
            alt.Chart(shape.frame)
            .mark_bar(color=BLUE, cornerRadiusEnd=2)
            .encode(
                x=alt.X("rows:Q", title="Rows", axis=rows),
                y=alt.Y(
                    "label:N",
                    title=None,
                    sort="-x",
                    axis=alt.Axis(labelLimit=120, labelOverlap=False),
                ),
                tooltip=tooltip,
            )
            # The height holds the title and axes too (the chart fits the panel's width).
            .properties(height=100 + 28 * len(shape.frame), title="Top values")
        )
    kind = "T" if shape.temporal else "Q"
    axis = alt.Axis(labelAngle=0, tickCount=4, labelOverlap=True)
    if not shape.temporal:
        axis = alt.Axis(labelAngle=0, tickCount=4, labelOverlap=True, format="~s")
    return (
        alt.Chart(shape.frame)  # rectangles: a bar with x and x2 would lie on its side
        .mark_rect(color=BLUE, stroke="white", strokeWidth=1)
        .encode(
            x=alt.X(f"start:{kind}", title=None, axis=axis, scale=alt.Scale(zero=False)),
            x2=alt.X2("end"),
            y=alt.Y("rows:Q", title="Rows", axis=rows),
            y2=alt.datum(0),
            tooltip=tooltip,
        )
        .properties(height=190, title="Distribution, min to max")  # with title and axes
    )
