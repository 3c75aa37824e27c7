"""The results as Markdown tables, with every target marked met or missed."""

from __future__ import annotations

from typing import Any

from bench.datasets import label
from bench.measure import Stats

TARGETS = {
    "wall_small": 1.3,  # materialize / plain at the smallest size, process start included
    "wall_large": 1.10,  # at 10M rows
    "rss": 1.1,
    "resolver_ms": 100.0,
    "page_ms": 300.0,
    "loads": 0.75,
}


def verdict(value: float, limit: float, unit: str = "") -> str:
    bound = f"≤ {limit:g}{unit}"
    return f"{bound}: **met**" if value <= limit else f"{bound}: **MISSED**"


def _range(stats: Stats, scale: float = 1.0, digits: int = 2) -> str:
    return (
        f"{stats.median * scale:.{digits}f} "
        f"({stats.low * scale:.{digits}f}–{stats.high * scale:.{digits}f})"
    )


def machine_table(machine: dict[str, str]) -> list[str]:
    return ["| | |", "|---|---|", *(f"| {k} | {v} |" for k, v in machine.items()), ""]


def materialize_table(results: dict[int, dict[str, Any]]) -> list[str]:
    wall = [
        "| rows | runs | engine s | engine `--workers 1` s | plain s | ratio | ratio `--workers 1`"
        " | ratio of minima | target |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    memory = [
        "| rows | engine MB | engine `--workers 1` MB | plain MB | ratio | ratio `--workers 1`"
        " | target |",
        "|---:|---:|---:|---:|---:|---:|---|",
    ]
    sizes = sorted(results)
    for rows in sizes:
        r = results[rows]
        if rows == sizes[0] and rows <= 1000:
            wall_target = verdict(r["wall_ratio"], TARGETS["wall_small"])
        elif rows >= 10_000_000:
            wall_target = verdict(r["wall_ratio"], TARGETS["wall_large"])
        else:
            wall_target = "–"
        engine, serial, plain = r["engine"], r["engine_serial"], r["plain"]
        wall.append(
            f"| {label(rows)} | {engine['wall_s'].n} | {_range(engine['wall_s'])}"
            f" | {_range(serial['wall_s'])} | {_range(plain['wall_s'])} | {r['wall_ratio']:.3f}"
            f" | {r['engine_serial_wall_ratio']:.3f}"
            f" | {engine['wall_s'].low / plain['wall_s'].low:.3f} | {wall_target} |"
        )
        memory.append(
            f"| {label(rows)} | {_range(engine['rss_mb'], digits=0)}"
            f" | {_range(serial['rss_mb'], digits=0)} | {_range(plain['rss_mb'], digits=0)}"
            f" | {r['rss_ratio']:.3f} | {r['engine_serial_rss_ratio']:.3f}"
            f" | {verdict(r['rss_ratio'], TARGETS['rss'])} |"
        )
    return ["Wall time, seconds:", "", *wall, "", "Peak RSS, MB:", "", *memory, ""]


def resolver_table(result: dict[str, Any], total_ms: float) -> list[str]:
    lines = [
        f"{result['assets']:,} assets, {result['edges']:,} edges; medians of"
        f" {next(iter(result['stats'].values())).n} runs.",
        "",
        "| step | ms median (min–max) | assets selected |",
        "|---|---:|---:|",
    ]
    for step, stats in result["stats"].items():
        size = result["sizes"].get(step, "")
        lines.append(f"| {step} | {_range(stats, 1000, 1)} | {size} |")
    lines.append(
        f"| **total: build + every selection + its plan** | **{total_ms:.1f}** |"
        f" {verdict(total_ms, TARGETS['resolver_ms'])} |"
    )
    return [*lines, ""]


def loads_table(result: dict[str, Any], rows: int) -> list[str]:
    busy = result.get("cores_busy", {})

    def cores(mode: str) -> str:
        return _range(busy[mode]) if mode in busy else ""

    levels = " → ".join("{" + ", ".join(level) + "}" for level in result.get("levels", []))
    lines = [
        f"`materialize(defs, select='group:ingestion', max_workers=...)` in-process at"
        f" {label(rows)} rows (loads plus their checks), {result['serial'].n} runs each.",
        "",
        "| mode | wall s median (min–max) | CPU s per wall s | ratio parallel/serial | target |",
        "|---|---:|---:|---:|---|",
        f"| serial (max_workers=1) | {_range(result['serial'])} | {cores('serial')} | | |",
        f"| parallel (one worker per load) | {_range(result['parallel'])} | {cores('parallel')}"
        f" | {result['ratio']:.3f} | {verdict(result['ratio'], TARGETS['loads'])} |",
        "",
    ]
    if "critical_path_bound" in result:
        lines += [
            f"Dependency levels: {levels}. Best ratio any scheduler could reach (per level the"
            " slowest asset, summed, over the serial sum):"
            f" **{result['critical_path_bound']:.3f}**.",
            "",
        ]
    lines += [
        "Serial work per asset (build, row count and preview, then its checks; from the run's"
        " own AssetEvent and CheckRecord times):",
        "",
        "| asset | s median (min–max) |",
        "|---|---:|",
    ]
    for name, stats in result["serial_per_asset"].items():
        lines.append(f"| {name} | {_range(stats, digits=3)} |")
    return [*lines, ""]


def timings_table(result: dict[str, Any], limit_ms: float | None) -> list[str]:
    if "skipped" in result:
        return [f"Not measured: {result['skipped']}", ""]
    first = result.get("first_run_s", {})
    lines = [result.get("note", ""), ""]
    lines += ["| what | first run ms | warm rerun ms median (min–max) | target |"]
    lines.append("|---|---:|---:|---|")
    for name, stats in result["stats"].items():
        target = verdict(stats.median * 1000, limit_ms) if limit_ms else ""
        cold = f"{first[name] * 1000:.0f}" if name in first else ""
        lines.append(f"| {name} | {cold} | {_range(stats, 1000, 1)} | {target} |")
    return [*lines, ""]


TARGETS.update(
    {
        "bare_small": 1.3,  # engine / bare script, wall time at 100 rows
        "rss_bare": 1.1,  # engine / bare script, peak RSS at 10M rows, clean and with orphans
        "views": 2.0,  # engine / plain script creating the same views
        "list_s": 0.3,  # `python -m pipeline list` on 2,000 assets, whole process
        "help_s": 0.2,  # `python -m pipeline --help`, whole process
        "dashboard": 1.05,  # dashboard click-to-outcome / CLI process
        "end_shown_s": 0.3,  # the run's recorded end to the outcome on the page
    }
)


def _ms(stats: Stats, digits: int = 1) -> str:
    return _range(stats, 1000, digits)


def floors_table(results: dict[int, dict[str, Any]]) -> list[str]:
    """Engine against the plain and the bare floors, per size: time, then memory."""
    wall = [
        "| rows | runs | engine s | plain s | bare s | engine/bare | minima | engine/plain"
        " | minima | target |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    memory = [
        "| rows | engine MB | plain MB | bare MB | engine/bare | minima | engine/plain | target |",
        "|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    sizes = sorted(results)
    for rows in sizes:
        r = results[rows]
        engine, plain, bare = r["engine"], r["plain"], r["bare"]
        target = verdict(r["wall_vs_bare"], TARGETS["bare_small"]) if rows <= 1000 else "–"
        wall.append(
            f"| {label(rows)} | {engine['wall_s'].n} | {_range(engine['wall_s'])}"
            f" | {_range(plain['wall_s'])} | {_range(bare['wall_s'])}"
            f" | {r['wall_vs_bare']:.3f} | {r['wall_vs_bare_minima']:.3f}"
            f" | {r['wall_vs_plain']:.3f} | {r['wall_vs_plain_minima']:.3f} | {target} |"
        )
        rss_target = verdict(r["rss_vs_bare"], TARGETS["rss_bare"]) if rows >= 10**7 else "–"
        memory.append(
            f"| {label(rows)} | {_range(engine['rss_mb'], digits=0)}"
            f" | {_range(plain['rss_mb'], digits=0)} | {_range(bare['rss_mb'], digits=0)}"
            f" | {r['rss_vs_bare']:.3f} | {r['rss_vs_bare_minima']:.3f}"
            f" | {r['rss_vs_plain']:.3f} | {rss_target} |"
        )
    return ["Wall time, seconds:", "", *wall, "", "Peak RSS, MB:", "", *memory, ""]


def memory_table(results: dict[str, dict[str, Any]], rows: int) -> list[str]:
    lines = [
        f"At {label(rows)} rows; peak RSS of each whole process (os.wait4), MB, and wall s.",
        "",
        "| data | runs | engine MB | plain MB | bare MB | engine/bare | minima | engine/plain"
        " | engine s | bare s | target |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, r in results.items():
        engine, plain, bare = r["engine"], r["plain"], r["bare"]
        lines.append(
            f"| {name} | {engine['rss_mb'].n} | {_range(engine['rss_mb'], digits=0)}"
            f" | {_range(plain['rss_mb'], digits=0)} | {_range(bare['rss_mb'], digits=0)}"
            f" | {r['rss_vs_bare']:.3f} | {r['rss_vs_bare_minima']:.3f}"
            f" | {r['rss_vs_plain']:.3f} | {_range(engine['wall_s'])} | {_range(bare['wall_s'])}"
            f" | {verdict(r['rss_vs_bare'], TARGETS['rss_bare'])} |"
        )
    return [*lines, ""]


def views_table(r: dict[str, Any]) -> list[str]:
    """The engine against both floors: the plain script, and the same with one read per view
    (the price of refusing a view that fails when read)."""
    n = r["views"]
    engine, plain, read = r["engine"]["wall_s"], r["plain"]["wall_s"], r["plain_read"]["wall_s"]
    per_view_ms = (engine.median - plain.median) / n * 1000
    beyond_ms = (engine.median - read.median) / n * 1000
    return [
        f"{n:,} views in {r['layers']} layers; `python -m pipeline materialize` against"
        " bench/plain_views.py (one CREATE OR REPLACE VIEW per view, autocommit) and against"
        " the same script with `--read` (each view also read once after its CREATE: every"
        " column of every row hashed and counted, the first rows kept), whole processes taking"
        f" turns, {engine.n} runs each. Every engine run was checked in its history: status"
        f" success, {n:,} views materialized.",
        "",
        "| side | wall s | peak RSS MB | engine/side | minima |",
        "|---|---:|---:|---:|---:|",
        f"| engine | {_range(engine)} | {_range(r['engine']['rss_mb'], digits=0)} | | |",
        f"| engine, the run as its history records it | {_range(r['engine_recorded_run_s'])}"
        " | | | |",
        f"| plain | {_range(plain)} | {_range(r['plain']['rss_mb'], digits=0)}"
        f" | {r['wall_ratio']:.2f} | {r['wall_ratio_minima']:.2f} |",
        f"| plain + one read per view | {_range(read)}"
        f" | {_range(r['plain_read']['rss_mb'], digits=0)} | {r['wall_ratio_read']:.2f}"
        f" | {r['wall_ratio_read_minima']:.2f} |",
        "",
        f"Ratio engine/plain: **{r['wall_ratio']:.2f}** (minima {r['wall_ratio_minima']:.2f}),"
        f" {verdict(r['wall_ratio'], TARGETS['views'])}. The engine spends"
        f" {per_view_ms:.1f} ms per view more than the plain script. Against plain + read:"
        f" **{r['wall_ratio_read']:.2f}** (minima {r['wall_ratio_read_minima']:.2f}); the read"
        f" alone makes the plain script {read.median / plain.median:.2f}× slower, and the"
        f" engine spends {beyond_ms:.1f} ms per view beyond it.",
        "",
    ]


def cli_table(r: dict[str, Any]) -> list[str]:
    targets = {"--help": TARGETS["help_s"], "list": TARGETS["list_s"]}
    lines = [
        f"Whole processes taking turns; `list` runs on the {r['views']:,}-view database a"
        " measured engine run left (its history included).",
        "",
        "| command | runs | wall s | over `python -c pass` s | peak RSS MB | target |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for name, side in r["sides"].items():
        wall = side["wall_s"]
        over = f"{side['over_floor_s']:.3f}" if "over_floor_s" in side else ""
        target = verdict(wall.median, targets[name], " s") if name in targets else ""
        shown = {"--help": "`python -m pipeline --help`", "list": "`python -m pipeline list`"}
        lines.append(
            f"| {shown.get(name, f'`{name}`')} | {wall.n} | {_range(wall, digits=3)} | {over}"
            f" | {_range(side['rss_mb'], digits=0)} | {target} |"
        )
    return [*lines, ""]


def dashboard_run_table(results: dict[int, dict[str, Any]]) -> list[str]:
    if all("skipped" in r for r in results.values()):
        return [f"Not measured: {next(iter(results.values()))['skipped']}", ""]
    lines = [
        "| rows | runs | CLI process s | CLI run s | dashboard click → outcome s | dashboard"
        " run s | click → run start s | run end → outcome shown s | ratio (minima) |"
        " run ratio | targets |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for rows, r in sorted(results.items()):
        if "skipped" in r:
            lines.append(f"| {label(rows)} | not measured: {r['skipped']} |")
            continue
        shown = r["dashboard_click_to_shown_s"]
        end = r["end_to_shown_s"]
        targets = (
            f"ratio {verdict(r['ratio'], TARGETS['dashboard'])};"
            f" end shown {verdict(end.median, TARGETS['end_shown_s'], ' s')}"
        )
        lines.append(
            f"| {label(rows)} | {shown.n} | {_range(r['cli_wall_s'])} | {_range(r['cli_run_s'])}"
            f" | {_range(shown)} | {_range(r['dashboard_run_s'])}"
            f" | {_range(r['click_to_start_s'])} | {_range(end)}"
            f" | {r['ratio']:.2f} ({r['ratio_minima']:.2f}) | {r['run_ratio']:.2f} | {targets} |"
        )
    outcomes = sorted({o for r in results.values() for o in r.get("outcomes", [])})
    return [*lines, "", f"Outcome shown: {'; '.join(outcomes)}.", ""]


WAITING = "main: wait for a worker message"
WORKER_TASKS = ("worker: build task", "worker: check task")


def costs_tables(r: dict[str, Any], assets: int, top: int = 25) -> list[str]:
    """The process in phases, then the costliest timers (exclusive: each ms counted once)."""
    wall = r["wall_s"]
    lines = [
        f"{r['runs']} instrumented run(s), {assets:,} assets; instrumented process"
        f" {_range(wall)} s, the same command uninstrumented {_range(r['uninstrumented_wall_s'])}"
        " s (taking turns).",
        "",
        "| phase (main thread) | ms median (min–max) | share of the process |",
        "|---|---:|---:|",
    ]
    for name, stats in r["phases"].items():
        if stats.high > 0.0005:  # a reader has no run: leave out what it never does
            lines.append(f"| {name} | {_ms(stats)} | {stats.median / wall.median:.1%} |")
    lines += [
        "",
        "| what (exclusive time) | thread | calls per asset | ms per call (median) | first call"
        " ms | ms per asset | total ms | share of the process |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    waiting = [t for t in r["timers"] if t["label"] == WAITING]
    busy = sum(t["inclusive_s"] for t in r["timers"] if t["label"] in WORKER_TASKS)
    rows = sorted(
        (t for t in r["timers"] if t["label"] != WAITING), key=lambda t: -t["exclusive_s"]
    )[:top]
    for t in rows:
        lines.append(
            f"| {t['label']} | {t['thread']} | {t['calls'] / assets:.2f}"
            f" | {t['median_call_s'] * 1000:.2f} | {t['first_call_s'] * 1000:.2f}"
            f" | {t['exclusive_s'] / assets * 1000:.2f} | {t['exclusive_s'] * 1000:.1f}"
            f" | {t['exclusive_s'] / wall.median:.1%} |"
        )
    if busy:
        lines += [
            "",
            f"The worker thread was busy (builds and checks) for {busy * 1000:.0f} ms; the main"
            " thread waited for its messages for"
            f" {sum(t['exclusive_s'] for t in waiting) * 1000:.0f} ms of the run.",
        ]
    if r.get("missing_targets"):
        lines += ["", f"Not timed (no longer in pipeline/): {', '.join(r['missing_targets'])}."]
    return [*lines, ""]


def imports_table(r: dict[str, Any]) -> list[str]:
    lines = [
        f"`python -X importtime -m pipeline --help`: {_range(r['wall_s'], digits=3)} s whole"
        f" process, {r['all_imports_s'] * 1000:.0f} ms of imports (medians).",
        "",
        "| package | import ms (self times summed) | | module | self ms |",
        "|---|---:|---|---|---:|",
    ]
    for (package, p_s), (module, m_s) in zip(r["packages"], r["modules"], strict=False):
        lines.append(f"| {package} | {p_s * 1000:.1f} | | {module} | {m_s * 1000:.1f} |")
    return [*lines, ""]
