"""The graph page before and after, side by side in one run: an older commit's page (say the
streamlit-agraph one) against this checkout's, on the same synthetic assets, in turns.

`python -m bench --only graph-page --graph-page-baseline REF` takes REF's files with
`git archive` into a temporary folder and serves them with this machine's Python packages
(streamlit-agraph must still be installed there). Both servers read the same definitions and
the same warehouse, never built: an older page cannot be trusted to read a newer history, and
the older page's cost was its drawing, not the health. The visits alternate: older page, this
page's default view, its full graph, then again, each in a fresh browser context.

The older page drew vis-network on a <canvas> in an iframe (same origin): it counts as drawn
when its canvas holds painted pixels, polled every 100 ms from the page (at
performance.now(), milliseconds since the navigation, as our component's own mark).
"""

from __future__ import annotations

import importlib.util
import io
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from bench.graph_page import (
    CHROMIUM,
    CHROMIUM_ARGS,
    ROOT,
    VIEWS,
    serve,
    visit,
)
from bench.measure import summarize

CANVAS_DRAWN = """() => {
  const frame = document.querySelector("iframe[title='streamlit_agraph.agraph']");
  const canvas = frame?.contentDocument?.querySelector("canvas");
  if (!canvas || !canvas.width || !canvas.height) return false;
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  for (let alpha = 3; alpha < pixels.length; alpha += 4 * 31) {
    if (pixels[alpha] > 0) return performance.now();
  }
  return false;
}"""
_DEFS = """\
from bench.resolver import synthetic_assets
from pipeline.definitions import Definitions

defs = Definitions(assets=synthetic_assets({n}, {edges}, layers=10))
"""


def compare(ref: str, sizes: list[int], reps: int, log: Any = print) -> dict[str, Any]:
    """The older page at `ref` and this one, `reps` visits each per size, in turns."""
    if not CHROMIUM.exists():
        return {"skipped": f"{CHROMIUM} is not installed (`make browser` installs it)."}
    if importlib.util.find_spec("streamlit_agraph") is None:  # the older page needs it
        return {"skipped": "streamlit-agraph is not installed: the older page cannot run."}
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return {"skipped": "playwright is not installed (requirements-dev.txt)."}
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="assetboard-baseline-") as tmp:
        older = Path(tmp) / "older"
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", "--format=tar", ref],
            check=True,
            capture_output=True,
        ).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as files:
            files.extractall(older, filter="data")
        for n in sizes:
            folder = Path(tmp) / f"assets-{n}"
            folder.mkdir()
            defs = folder / "bench_graph_defs.py"
            defs.write_text(_DEFS.format(n=n, edges=n * 3), encoding="utf-8")
            db = folder / "warehouse.duckdb"  # never built: no history for either page
            rows: dict[str, list[dict[str, float]]] = {"older": [], **{v: [] for v in VIEWS}}
            with (
                serve(older, defs, db, folder / "older.log") as old_url,
                serve(ROOT, defs, db, folder / "this.log") as new_url,
                sync_playwright() as pw,
            ):
                browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
                try:
                    visit(browser, old_url + "/graph", CANVAS_DRAWN)  # first visits: imports
                    visit(browser, new_url + VIEWS["default"])
                    for _ in range(reps):
                        log(f"baseline {ref} at {n} assets: the older page, then this one")
                        rows["older"].append(visit(browser, old_url + "/graph", CANVAS_DRAWN))
                        for view, path in VIEWS.items():
                            rows[view].append(visit(browser, new_url + path))
                finally:
                    browser.close()
            results[str(n)] = {
                name: {
                    "drawn_ms": summarize([r["drawn_ms"] for r in samples]),
                    "busy_ms": summarize([r["busy_ms"] for r in samples]),
                }
                for name, samples in rows.items()
            }
    return {"ref": ref, "sizes": results, "reps": reps}


def table(result: dict[str, Any]) -> list[str]:
    """Older page against this one's default view and full graph, with the ratios."""
    if "skipped" in result:
        return [f"Not measured: {result['skipped']}", ""]
    lines = [
        f"| assets | page | drawn ms median (min–max) | browser busy ms median"
        f" | {result['ref']} / this |",
        "|---:|---|---:|---:|---:|",
    ]
    names = {
        "older": f"{result['ref']} (streamlit-agraph)",
        "default": "this, default view",
        "full": "this, full graph",
    }
    for size, entry in result["sizes"].items():
        older = entry["older"]["drawn_ms"].median
        for name, row in entry.items():
            drawn = row["drawn_ms"]
            ratio = "" if name == "older" else f"{older / drawn.median:.1f}×"
            lines.append(
                f"| {int(size):,} | {names[name]}"
                f" | {drawn.median:.0f} ({drawn.low:.0f}–{drawn.high:.0f})"
                f" | {row['busy_ms'].median:.0f} | {ratio} |"
            )
    return [*lines, ""]
