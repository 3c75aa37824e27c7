"""A Streamlit page that shows hostile strings, escaped, in every kind of element that renders
Markdown; tests/e2e/test_markdown_rendering.py reads what the browser made of them.

Each element sits in a container keyed `probe-<i>-<kind>` (class `st-key-probe-...`). Container
`control` shows the first string unescaped, to prove the probe sees Markdown when there is some.
Links and images point at 127.0.0.1:9 (the discard port), so nothing leaves the machine.
"""

from __future__ import annotations

import streamlit as st

from dashboard.safe import escape_markdown

HOSTILE = [
    "![x](http://127.0.0.1:9/a.png) [click me](http://127.0.0.1:9/phish)",
    ":red[x] :material/home: $x$ <b>b</b> **bold** `code` back\\slash",
    '<img src=http://127.0.0.1:9/i.png> <a href="http://127.0.0.1:9/">a</a> <script>x</script>',
    "http://127.0.0.1:9/auto www.example.invalid me@example.invalid <http://127.0.0.1:9/>",
    "# heading\n> quote\n- item\n1. one\n    indented\n| a | b |\n|---|---|\n| 1 | 2 |",
    "$$x^2$$ \\(x\\) :smile: :+1: :streamlit: a -> b <- c -- d >= e",
    "~~strike~~ [^1] [ref][r] &amp; &lt;\n\n[r]: http://127.0.0.1:9/",
    ":material_home: :blue-badge[x] :small[x] :help[tip] :rainbow[r] _it_ __b__ ***bi***",
]
# Where each kind puts its text, and whether that place holds one line only.
KINDS = {
    "markdown": (lambda text: st.markdown(text), False),
    "caption": (lambda text: st.caption(text), False),
    "error": (lambda text: st.error(text, icon=":material/error:"), False),
    "info": (lambda text: st.info(text), False),
    "subheader": (lambda text: st.subheader(text, anchor=False), True),
    "status": (lambda text: st.status(text, state="error"), True),
    "expander": (lambda text: st.expander(text), True),
    "button": (lambda text: st.button(text, help=text), True),
    "selectbox": (lambda text: st.selectbox(text, ["a"]), True),
    "checkbox": (lambda text: st.checkbox(text), True),
    "progress": (lambda text: st.progress(0.5, text=text), True),
    "metric": (lambda text: st.metric(text, 1), True),
    "tabs": (lambda text: st.tabs([text]), True),
}


def main() -> None:
    st.set_page_config(page_title="Markdown probe", page_icon="🔍", layout="wide")
    for index, text in enumerate(HOSTILE):
        for kind, (show, one_line) in KINDS.items():
            with st.container(key=f"probe-{index}-{kind}"):
                show(escape_markdown(text, one_line=one_line))
    with st.container(key="control"):
        st.markdown(HOSTILE[0])


if __name__ == "__main__":
    main()
