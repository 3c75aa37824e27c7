"""Our own Streamlit components (components v2: inline JS and CSS, no build step)."""
