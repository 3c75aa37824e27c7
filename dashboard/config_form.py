"""The form that materializes an asset declared with `config=`: one input per field of its
config class, as Dagster's launchpad asks for run config before a run starts."""

from __future__ import annotations

import re

import streamlit as st

from dashboard import state, ui
from dashboard.models import run_config as model
from dashboard.safe import escape_markdown
from dashboard.settings import Settings
from pipeline.definitions import Definitions

# Text Markdown shows as it is: letters, digits, spaces, ( ) . , | and underscores inside a
# word (CommonMark never reads those as emphasis); and no "www." that would become a link.
_LITERAL = re.compile(r"(?:[^\W_]++(?:_++[^\W_]++)*+|[ ().,|])*+")  # possessive: no backtracking


def field_label(text: str) -> str:
    """A widget label as plain text when Markdown would show it so anyway, else escaped. The
    label is also the input's aria-label: a screen reader would read 'department \\(str\\)'
    with the backslashes an escape adds."""
    literal = _LITERAL.fullmatch(text) is not None and "www." not in text.lower()
    return text if literal else escape_markdown(text, one_line=True)


def render(cfg: Settings, defs: Definitions, asset: str) -> None:
    fields = model.config_fields(defs, asset)
    if not fields:
        return
    with st.form(state.FORM_RUN_CONFIG, border=True):
        st.markdown(
            f"**Run config** — {escape_markdown(asset, one_line=True)} takes values per run (a"
            " sensor's request file gives them too)."
        )
        typed = {}
        for field in fields:
            label = f"{field.name} ({field.type_name})" + ("" if field.required else ", optional")
            typed[field.name] = st.text_input(
                field_label(label),
                value=field.default,
                placeholder="YYYY-MM-DD" if field.type_name in ("date", "datetime.date") else None,
                key=state.config_field_key(asset, field.name),
            )
        submitted = st.form_submit_button(
            "Materialize with this config", icon=":material/play_arrow:", type="primary"
        )
    if submitted:
        ui.launch(cfg, lambda: model.start_with_config(cfg, defs, asset, typed))
