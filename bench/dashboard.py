"""Dashboard timings: warm page reruns via AppTest, and the graph page at a few hundred assets.

Pages run the way the dashboard tests run them (AppTest of dashboard/app.py, then switch_page to
each dashboard/views/*.py) with ASSETBOARD_DB / ASSETBOARD_DEFS pointing at a bench warehouse.
The graph component's JavaScript does not run under AppTest: the timings cover choosing,
laying out and serializing the picture, not drawing it (bench/graph_page.py times that in
Chromium).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.measure import summarize

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "dashboard" / "app.py"
PAGES_DIR = ROOT / "dashboard" / "views"
GRAPH_PAGE = PAGES_DIR / "graph.py"

_GRAPH_DEFS = """\
from bench.resolver import select_one, synthetic_assets
from pipeline.definitions import Definitions

defs = Definitions(assets=synthetic_assets({n}, {edges}, layers={layers}, fn=select_one))
"""


@contextmanager
def _environment(**values: str) -> Iterator[None]:
    """Set env vars and a bare sys.argv (settings also read `--db` from argv), then restore."""
    saved_env = {key: os.environ.get(key) for key in values}
    saved_argv = sys.argv
    os.environ.update(values)
    sys.argv = [sys.argv[0]]
    try:
        yield
    finally:
        sys.argv = saved_argv
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _warm_reruns(page: Path, reps: int) -> tuple[float, list[float], str | None]:
    """Seconds of the first run and of `reps` reruns after it, or the page's exception text."""
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file(str(APP), default_timeout=300)
    started = time.perf_counter()
    app.switch_page(f"views/{page.name}").run()  # first: imports, caches, first queries
    first = time.perf_counter() - started
    if app.exception:
        return first, [], app.exception[0].message
    seconds = []
    for _ in range(reps):
        started = time.perf_counter()
        app.run()
        seconds.append(time.perf_counter() - started)
        if app.exception:
            return first, [], app.exception[0].message
    return first, seconds, None


def _time_calls(fn: Callable[[], Any], reps: int) -> list[float]:
    fn()  # warm
    seconds = []
    for _ in range(reps):
        started = time.perf_counter()
        fn()
        seconds.append(time.perf_counter() - started)
    return seconds


def _missing_dashboard(*paths: Path) -> str | None:
    missing = [str(p.relative_to(ROOT)) for p in paths if not p.exists()]
    if missing:
        return f"{', '.join(missing)} not written yet; rerun `python -m bench` once it is."
    return None


def graph_timings(n_assets: int, reps: int) -> dict[str, Any]:
    """The graph page's data, its pictures and their layout, and its whole warm rerun."""
    if reason := _missing_dashboard(APP, ROOT / "dashboard" / "models" / "graph.py", GRAPH_PAGE):
        return {"skipped": reason}
    from dashboard import graph_layout, graph_views
    from dashboard.components import asset_graph
    from dashboard.models import graph, reading
    from dashboard.settings import Settings
    from pipeline.engine import materialize

    with tempfile.TemporaryDirectory(prefix="assetboard-bench-") as tmp:
        defs_file = Path(tmp) / "bench_graph_defs.py"
        layers = max(1, min(10, n_assets // 10))
        defs_file.write_text(_GRAPH_DEFS.format(n=n_assets, edges=n_assets * 3, layers=layers))
        db = Path(tmp) / "warehouse.duckdb"
        cfg = Settings(defs=str(defs_file), db=db)
        defs = reading.load_defs(cfg)
        run = materialize(defs, db=db)  # statuses and history as a user would have them
        model = graph.graph_model(cfg, defs)
        full = graph_views.picture(model, full=True)
        sizes = {
            shape.id: graph_layout.box_size(asset_graph.box_lines(shape)) for shape in full.shapes
        }
        links = [(link.source, link.target) for link in full.links]
        stats = {
            "models.graph.graph_model (health + nodes + edges)": summarize(
                _time_calls(lambda: graph.graph_model(cfg, defs), reps)
            ),
            "graph_views.picture + drawing, default view": summarize(
                _time_calls(lambda: asset_graph.drawing(graph_views.picture(model)), reps)
            ),
            "graph_layout.layout, every asset (not cached)": summarize(
                _time_calls(lambda: graph_layout.layout(sizes, links), reps)
            ),
            "drawing, the full graph (layout cached)": summarize(
                _time_calls(lambda: asset_graph.drawing(full), reps)
            ),
        }
        with _environment(ASSETBOARD_DB=str(db), ASSETBOARD_DEFS=str(defs_file)):
            first, seconds, error = _warm_reruns(GRAPH_PAGE, reps)
        name = "dashboard/views/graph.py rerun (AppTest)"
        if error:
            return {"stats": stats, "note": f"{name} raised: {error}"}
        stats[name] = summarize(seconds)
        first_runs = {name: first}
    note = (
        f"{n_assets} assets, {n_assets * 3} edges in {layers} layers, materialized once by"
        f" run {run.run_id} ({run.run.status}); medians of {reps} warm calls."
    )
    return {"stats": stats, "first_run_s": first_runs, "note": note}


def page_timings(csv_dir: Path, reps: int) -> dict[str, Any]:
    """Each page's warm rerun with the sales example materialized from `csv_dir`."""
    pages = sorted(PAGES_DIR.glob("*.py")) if PAGES_DIR.is_dir() else []
    if not pages or not APP.is_file():
        return {"skipped": "dashboard/views/ has no pages yet; rerun once the dashboard exists."}
    from pipeline.engine import materialize
    from pipeline.examples.sales import build_definitions

    stats: dict[str, Any] = {}
    first_runs: dict[str, float] = {}
    errors: list[str] = []
    with tempfile.TemporaryDirectory(prefix="assetboard-bench-") as tmp:
        db = Path(tmp) / "warehouse.duckdb"
        run = materialize(build_definitions(csv_dir), db=db)
        env = {
            "ASSETBOARD_DB": str(db),
            "ASSETBOARD_DEFS": "pipeline.examples.sales",
            "ASSETBOARD_SALES_DATA": str(csv_dir),
        }
        with _environment(**env):
            for page in pages:
                first, seconds, error = _warm_reruns(page, reps)
                if error:
                    errors.append(f"{page.name}: {error.splitlines()[0][:200]}")
                else:
                    stats[f"views/{page.name}"] = summarize(seconds)
                    first_runs[f"views/{page.name}"] = first
    note = (
        f"Warehouse materialized by run {run.run_id} ({run.run.status}); per page one first run"
        f" (a fresh session; process-wide caches may already be warm from earlier pages), then"
        f" medians of {reps} reruns."
    )
    if errors:
        note += " Pages that raised (not timed): " + "; ".join(errors)
    return {"stats": stats, "first_run_s": first_runs, "note": note}
