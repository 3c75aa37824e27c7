"""A partitioned asset's partitions in its details: the summary, a strip of one cell per
partition coloured by status (an icon marks a check that did not pass), the clicked
partition's build, error and checks with a button that rebuilds it, and the backfill buttons.

The strip is st.pills, one widget per row (a year of months), coloured by CSS aimed at each
cell's position: a native widget, so a click needs no custom component and AppTest can click
it. The chosen partition lives in the URL (?partition=), so it can be shared.
"""

from __future__ import annotations

import hashlib

import streamlit as st

from dashboard import formatting, state, ui
from dashboard.models import partitions as model
from dashboard.models.partitions import PartitionAction, PartitionCell, PartitionsView
from dashboard.safe import escape_markdown
from dashboard.settings import Settings
from pipeline.definitions import Definitions
from pipeline.looks import look
from pipeline.states import CheckOutcome, PartitionStatus

_MISSING_BORDER = "dashed"  # missing cells are outlined, not filled: nothing is there
_CELL, _GAP = "2.9rem", "0.35rem"  # a cell holds "Sep" and a check's icon
_PER_LINE = 6  # months: half a year to a line, in the narrow details column and wider


def render(cfg: Settings, defs: Definitions, asset: str) -> None:
    """The partitions block of `asset`'s details; refreshed every second while a run goes on,
    so cells turn green as their partitions are built."""

    @st.fragment(run_every=ui.REFRESH_SECONDS if ui.running(cfg) else None)
    def _block() -> None:
        with ui.guard(f"read the partitions of {asset}"):
            view = model.partitions_view(cfg, defs, asset)
        if view is None:
            return
        box = st.container(border=True)
        with box:
            _strip(view)
            _chosen(cfg, defs, view)
            _backfills(cfg, defs, view)

    _block()


def digest(asset: str) -> str:
    """A short stand-in for an asset's name in widget keys and CSS classes."""
    return hashlib.sha1(asset.encode("utf-8")).hexdigest()[:10]


def _selected(view: PartitionsView) -> str | None:
    wanted = st.query_params.get(state.QP_PARTITION)
    return wanted if wanted in view.keys else None


def _picked(row_key: str) -> None:
    """A click on a cell, before the rerun: it becomes the partition shown (again: none)."""
    key = st.session_state.get(row_key)
    if key is None:
        st.query_params.pop(state.QP_PARTITION, None)
    else:
        st.query_params[state.QP_PARTITION] = key


def _strip(view: PartitionsView) -> None:
    st.markdown(f"**Partitions** · {escape_markdown(view.summary)}")
    st.caption(_legend(view))
    selected = _selected(view)
    styles = []
    for i, (group, cells) in enumerate(view.groups):
        row_key = state.partition_key(state.PARTITION_STRIP, digest(view.asset), i)
        keys = [cell.key for cell in cells]
        # The selection is one partition across every row: each row shows it or nothing.
        st.session_state[row_key] = selected if selected in keys else None
        labels = {cell.key: _cell_label(cell) for cell in cells}
        st.pills(
            escape_markdown(group or "Partitions", one_line=True),
            keys,
            format_func=labels.__getitem__,
            key=row_key,
            on_change=_picked,
            args=(row_key,),
            label_visibility="visible" if group else "collapsed",
        )
        styles.append(_row_css(row_key, cells, calendar=len(view.groups) > 1))
    st.html(f"<style>{''.join(styles)}</style>")


def _cell_label(cell: PartitionCell) -> str:
    """The cell's text; a check that did not pass adds its icon in its colour."""
    text = escape_markdown(cell.label, one_line=True)
    if cell.check_outcome is not None and cell.check_outcome != CheckOutcome.PASSED:
        shown = look(cell.check_outcome)
        text += f" :{shown.streamlit}[:material/{shown.icon}:]"
    if cell.status == PartitionStatus.FAILED:
        text = f":material/{look(cell.status).icon}: {text}"
    return text


def _legend(view: PartitionsView) -> str:
    parts = []
    for status in PartitionStatus:
        shown = look(status)
        parts.append(
            f":{shown.streamlit}[:material/{shown.icon}:] {shown.label} {view.count(status)}"
        )
    marked = look(CheckOutcome.FAILED)
    parts.append(f":{marked.streamlit}[:material/{marked.icon}:] check did not pass")
    return " · ".join(parts)


def _row_css(row_key: str, cells: list[PartitionCell], calendar: bool) -> str:
    """Each cell's fill and border from its status (pipeline/looks.py); the chosen one ringed.
    A `calendar` row (a year, a month) is a grid of equal cells, at most `_PER_LINE` to a
    line, so a year always reads Jan-Jun over Jul-Dec. Only colours and generated class names
    go in here, never text from the data."""
    base = f".st-key-{row_key} button[role='radio']"
    rules = [
        f"{base} {{ min-width: {_CELL}; justify-content: center; padding: 0 0.4rem; }}",
        f"{base}[aria-checked='true'] {{ outline: 2px solid #1f2328; outline-offset: 1px; }}",
    ]
    if calendar:
        width = f"calc({_PER_LINE} * {_CELL} + {_PER_LINE - 1} * {_GAP})"
        rules.append(
            f".st-key-{row_key} [role='radiogroup'] {{ display: grid; gap: {_GAP};"
            f" grid-template-columns: repeat(auto-fill, minmax({_CELL}, 1fr));"
            f" max-width: {width}; }}"
        )
    for position, cell in enumerate(cells, 1):
        shown = look(cell.status)
        border = _MISSING_BORDER if cell.status == PartitionStatus.MISSING else "solid"
        fill = "transparent" if cell.status == PartitionStatus.MISSING else shown.tint
        rules.append(
            f"{base}:nth-child({position}) {{ background: {fill};"
            f" border: 1px {border} {shown.colour}; }}"
        )
    return "\n".join(rules)


def _chosen(cfg: Settings, defs: Definitions, view: PartitionsView) -> None:
    """The clicked partition: its build or failure, its checks, and Rebuild."""
    cell = view.cell(_selected(view))
    if cell is None:
        st.caption("Click a partition to see its rows, build and checks, and to rebuild it.")
        return
    shown = look(cell.status)
    name = escape_markdown(model.key_label(cell.key), one_line=True)
    key = escape_markdown(cell.key, one_line=True)
    badge = ui.badge(cell.status)
    st.markdown(f"**{name}** ({key}) · {badge}" if name != key else f"**{key}** · {badge}")
    if cell.standing:
        when = formatting.format_ago(cell.built_at)
        rows = formatting.format_count(cell.rows) + (" row" if cell.rows == 1 else " rows")
        st.caption(
            f"**{rows}**, built {when} ({formatting.format_time(cell.built_at)})"
            f" in run {cell.built_in_run}."
        )
    if cell.status == PartitionStatus.FAILED:
        kept = "; the rows of its previous build are kept" if cell.standing else ""
        st.caption(f"Its latest build failed in run {cell.failed_in_run}{kept}:")
        if cell.error:
            ui.error_text(cell.error)
    elif cell.status == PartitionStatus.STALE:
        why = cell.stale_reason or "an upstream it reads was built after it"
        st.caption(f":{shown.streamlit}[{why[0].upper()}{why[1:]}.]")
    elif not cell.standing:
        st.caption("Never built: rebuild it, or backfill it with others below.")
    for line in cell.check_lines:
        st.markdown(
            f"{ui.badge(line.outcome)} **{escape_markdown(line.name, one_line=True)}**"
            f" · {escape_markdown(line.detail)}"
        )
    if st.button(
        "Rebuild this partition",
        key=state.BTN_REBUILD_PARTITION,
        icon=":material/play_arrow:",
        help="Build only this partition of this asset, then run its checks on its rows.",
    ):
        _start(cfg, defs, view, model.backfill(view, "one", cell.key))


def _backfills(cfg: Settings, defs: Definitions, view: PartitionsView) -> None:
    """A range to backfill, and every missing or failed partition at once."""
    st.markdown("**Backfill**")
    keys = view.keys
    short = {cell.key: model.key_label(cell.key) for cell in view.cells}
    first_gap = next((c.key for c in view.cells if c.status != PartitionStatus.MATERIALIZED), None)
    left, right = st.columns(2)
    first = left.selectbox(
        "From",
        keys,
        index=keys.index(first_gap) if first_gap else 0,
        format_func=short.__getitem__,
        key=state.partition_key(state.SELECT_BACKFILL_FROM, digest(view.asset)),
    )
    last = right.selectbox(
        "To (included)",
        keys,
        index=len(keys) - 1,
        format_func=short.__getitem__,
        key=state.partition_key(state.SELECT_BACKFILL_TO, digest(view.asset)),
    )
    wanted = model.backfill(view, "range", first, last)
    noun = "partition" if wanted.count == 1 else "partitions"
    if st.button(
        f"Backfill {wanted.count} {noun}",
        key=state.BTN_BACKFILL_RANGE,
        type="primary",
        icon=":material/play_arrow:",
        help="Build every partition from the first to the last chosen, in the background; a"
        " backfill on the Runs page follows its progress and can be resumed.",
        width="stretch",
    ):
        _start(cfg, defs, view, wanted)
    missing, failed = view.missing, view.count(PartitionStatus.FAILED)
    buttons = st.container(horizontal=True, wrap=True)  # side by side when they fit
    if buttons.button(
        f"Backfill all missing ({missing})",
        key=state.BTN_BACKFILL_MISSING,
        disabled=not missing,
        help="Build every partition that has no rows in the warehouse.",
    ):
        _start(cfg, defs, view, model.backfill(view, "missing"))
    if buttons.button(
        f"Backfill all failed ({failed})",
        key=state.BTN_BACKFILL_FAILED,
        disabled=not failed,
        help="Build again every partition whose latest build failed.",
    ):
        _start(cfg, defs, view, model.backfill(view, "failed"))


def _start(cfg: Settings, defs: Definitions, view: PartitionsView, wanted: PartitionAction) -> None:
    ui.launch(cfg, lambda: model.start(cfg, defs, view.asset, wanted))
