"""The graph page in headless Chromium: from navigation to the graph's first complete draw.

Per size, synthetic assets (bench/resolver.py: 10 layers, three edges per asset, 10 groups) are
materialized once, so health and history are what a user would have. A real
`streamlit run dashboard/app.py` serves them; Debian's /usr/bin/chromium opens /graph (the
default view) or /graph?full=true (the full graph) in a new browser context each time, so
nothing is cached in the browser.

"Drawn" is the component's own mark: asset_graph.js builds every box and curve, waits two
animation frames (the browser has laid out and painted them), then writes performance.now()
to `data-first-drawn-at`: milliseconds since the navigation started. The harness waits for
that mark and reads it, with the number of boxes drawn, and the browser main thread's busy time
(CDP Performance.getMetrics, TaskDuration) at that moment. For scale, it also notes when the
page title (the first h1) appeared: Streamlit's own start, the same for every page.

The first page a fresh server serves also pays for Python imports and cold caches: it is
reported on its own ("first visit"), then the two views take turns (default, full, default...).

Then, once per size, the full graph is dragged (60 mouse moves, as fast as Playwright sends
them) at the zoom it opens at, and again fitted whole: the intervals between the browser's
animation frames meanwhile say how smoothly it follows (16.7 ms is every frame at 60 Hz).
"""

from __future__ import annotations

import itertools
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.measure import BenchError, summarize

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWS = {"default": "/graph", "full": "/graph?full=true"}
TARGET_MS = 2000.0  # the default view at 2,000 assets: something useful drawn within 2 s
DRAWN = "[data-first-drawn-at]"
FRAMES = """() => {
  const seen = [];
  window.assetboardFrames = seen;
  const tick = (time) => {
    seen.push(time);
    if (!window.assetboardStop) requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}"""
TITLE_SEEN = """
new MutationObserver((_, observer) => {
  if (document.querySelector("h1")) {
    window.assetboardTitleAt = performance.now();
    observer.disconnect();
  }
}).observe(document, { subtree: true, childList: true });
"""
_DEFS = """\
from bench.resolver import select_one, synthetic_assets
from pipeline.definitions import Definitions

defs = Definitions(assets=synthetic_assets({n}, {edges}, layers=10, fn=select_one))
"""


def measure(sizes: list[int], reps: int, log: Any = print) -> dict[str, Any]:
    """Each size's views, `reps` times each, alternating; see the module docstring."""
    if not CHROMIUM.exists():
        return {"skipped": f"{CHROMIUM} is not installed (`make browser` installs it)."}
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return {"skipped": "playwright is not installed (requirements-dev.txt)."}
    from pipeline.definitions import load_definitions
    from pipeline.engine import materialize

    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="assetboard-bench-") as tmp:
        for n in sizes:
            folder = Path(tmp) / f"assets-{n}"
            folder.mkdir()
            defs = folder / "bench_graph_defs.py"
            defs.write_text(_DEFS.format(n=n, edges=n * 3), encoding="utf-8")
            db = folder / "warehouse.duckdb"
            log(f"materializing {n} synthetic assets (once, for a real history)")
            run = materialize(load_definitions(str(defs)), db=db)
            log_file = folder / "streamlit.log"
            with serve(ROOT, defs, db, log_file) as url, sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
                try:
                    first = visit(browser, url + VIEWS["default"])
                    samples: dict[str, list[dict[str, float]]] = {view: [] for view in VIEWS}
                    for _ in range(reps):
                        for view, path in VIEWS.items():
                            samples[view].append(visit(browser, url + path))
                    panning = pan(browser, url + VIEWS["full"])
                finally:
                    browser.close()
            results[str(n)] = {
                "run": f"run {run.run_id} ({run.run.status})",
                "first_visit_ms": first["drawn_ms"],
                "pan_frame_ms": panning,
                "views": {
                    view: {
                        "boxes": int(rows[0]["boxes"]),
                        "drawn_ms": summarize([r["drawn_ms"] for r in rows]),
                        "title_ms": summarize([r["title_ms"] for r in rows]),
                        "busy_ms": summarize([r["busy_ms"] for r in rows]),
                    }
                    for view, rows in samples.items()
                },
            }
    return {"sizes": results, "reps": reps}


def visit(browser: Any, url: str, drawn: str | None = None) -> dict[str, float]:
    """One navigation in a fresh context: when the graph was drawn, and what it cost.

    `drawn` is JavaScript returning performance.now() once some other graph has drawn (the
    older page's canvas); by default, the mark our component sets.
    """
    context = browser.new_context(viewport={"width": 1440, "height": 960})
    try:
        page = context.new_page()
        page.add_init_script(TITLE_SEEN)
        cdp = context.new_cdp_session(page)
        cdp.send("Performance.enable")
        page.goto(url)
        if drawn is None:
            graph = page.locator(f".ag{DRAWN}")
            graph.wait_for(state="attached", timeout=600_000)
            drawn_ms = float(graph.get_attribute("data-first-drawn-at") or "nan")
            boxes = page.locator(".ag-node").count()
        else:
            seen = page.wait_for_function(drawn, polling=100, timeout=600_000)
            drawn_ms, boxes = float(seen.json_value()), -1
        metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
        title = float(page.evaluate("() => window.assetboardTitleAt ?? NaN"))
        if page.get_by_test_id("stException").count():
            raise BenchError(f"{url} shows an exception")
        busy = metrics["TaskDuration"] * 1000
        return {"drawn_ms": drawn_ms, "title_ms": title, "busy_ms": busy, "boxes": boxes}
    finally:
        context.close()


def pan(browser: Any, url: str) -> dict[str, Any]:
    """Frame intervals while dragging the graph at its opening zoom, then fitted whole."""
    context = browser.new_context(viewport={"width": 1440, "height": 960})
    try:
        page = context.new_page()
        page.goto(url)
        page.locator(f".ag{DRAWN}").wait_for(state="attached", timeout=600_000)
        opening = _drag(page)
        page.get_by_role("button", name="Fit the whole picture").click()
        fitted = _drag(page)
        zoom = page.locator(".ag").get_attribute("data-zoom")
        return {"opening": summarize(opening), "fitted": summarize(fitted), "fit_zoom": zoom}
    finally:
        context.close()


def _drag(page: Any) -> list[float]:
    box = page.locator(".ag-frame").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.evaluate("() => { window.assetboardStop = false; }")
    page.evaluate(FRAMES)
    page.mouse.move(x, y)
    page.mouse.down()
    for step in range(1, 61):
        page.mouse.move(x + (step % 20) * 6 - 60, y + (step % 15) * 5 - 35)
    page.mouse.up()
    stop = "() => { window.assetboardStop = true; return window.assetboardFrames; }"
    times = page.evaluate(stop)
    return [later - earlier for earlier, later in itertools.pairwise(times)]


@contextmanager
def serve(source: Path, defs: Path, db: Path, log: Path) -> Iterator[str]:
    """`streamlit run dashboard/app.py` of the checkout at `source`, on a free port, as
    `make run` starts it (the app's own .streamlit/config.toml applies)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app = source / "dashboard" / "app.py"
    command = [sys.executable, "-m", "streamlit", "run", str(app), "--server.port", str(port)]
    command += ["--server.fileWatcherType", "none", "--", "--defs", str(defs), "--db", str(db)]
    env = {**os.environ, "PYTHONPATH": str(source)}
    with log.open("w", encoding="utf-8") as output:
        server = subprocess.Popen(command, cwd=source, env=env, stdout=output, stderr=output)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None or time.monotonic() > deadline:
                raise BenchError(f"streamlit did not start: {log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                    break
            except OSError:
                time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=20)


def table(result: dict[str, Any]) -> list[str]:
    """The figures as Markdown, the 2 s target marked on the default view at 2,000 assets."""
    if "skipped" in result:
        return [f"Not measured: {result['skipped']}", ""]
    lines = [
        "| assets | view | boxes drawn | first visit ms | title shown ms median"
        " | drawn ms median (min–max) | browser busy ms median | target |",
        "|---:|---|---:|---:|---:|---:|---:|---|",
    ]
    for size, entry in result["sizes"].items():
        for view, row in entry["views"].items():
            drawn, busy, title = row["drawn_ms"], row["busy_ms"], row["title_ms"]
            target = ""
            if view == "default" and int(size) >= 2000:
                met = drawn.median <= TARGET_MS
                target = f"≤ {TARGET_MS:.0f}: {'**met**' if met else '**MISSED**'}"
            first = f"{entry['first_visit_ms']:.0f}" if view == "default" else ""
            lines.append(
                f"| {int(size):,} | {view} | {row['boxes']:,} | {first} | {title.median:.0f}"
                f" | {drawn.median:.0f} ({drawn.low:.0f}–{drawn.high:.0f})"
                f" | {busy.median:.0f} | {target} |"
            )
    lines += [
        "",
        "Dragging the full graph: interval between animation frames, ms median (worst).",
        "",
        "| assets | at the opening zoom | fitted whole (zoom) |",
        "|---:|---:|---:|",
    ]
    for size, entry in result["sizes"].items():
        frames = entry["pan_frame_ms"]
        opening, fitted = frames["opening"], frames["fitted"]
        lines.append(
            f"| {int(size):,} | {opening.median:.1f} ({opening.high:.0f})"
            f" | {fitted.median:.1f} ({fitted.high:.0f}) (zoom {frames['fit_zoom']}) |"
        )
    return [*lines, ""]
