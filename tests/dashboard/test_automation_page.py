"""The Automation page under AppTest, reached through the app's navigation: the daemon's
heartbeat, schedules and sensors with ticks recorded by the real `tick`, the on/off switch kept
in the store, the Test button that launches nothing, and the Runs page naming automation."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from dashboard_env import defs_file, sample_data, shown
from streamlit.testing.v1 import AppTest

from dashboard import runs, state
from pipeline import store
from pipeline.daemon import daemon_lock, tick_once
from pipeline.definitions import Definitions, load_definitions
from pipeline.engine import materialize
from pipeline.store import automation as ticks_store

APP = "../../dashboard/app.py"  # relative to this file, as AppTest resolves it
WEEKLY = "weekly_update_schedule"
MONTHLY = "monthly_sales_performance_schedule"
SENSOR = "adhoc_request_sensor"
SUNDAY = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)  # the schedules start: nothing due yet
MONDAY = datetime(2026, 12, 7, 0, 0, 30, tzinfo=UTC)  # weekly_update_schedule is due
HOSTILE_NAME = "[x](http:evil.invalid) **loud**.json"  # a file name is anyone's to choose


class Env:
    def __init__(self, tmp_path: Path, db: Path) -> None:
        self.data = sample_data(tmp_path / "data")
        self.defs_path = defs_file(tmp_path, self.data)
        self.db = db
        self.requests = self.data / "requests"
        self.requests.mkdir()

    @property
    def defs(self) -> Definitions:
        return load_definitions(str(self.defs_path))

    def tick(self, now: datetime) -> list[ticks_store.Tick]:
        """One evaluation as `python -m pipeline tick --now` makes it."""
        return tick_once(self.defs, self.db, now)

    def request(self, name: str, values: dict[str, Any]) -> Path:
        path = self.requests / name
        path.write_text(json.dumps(values), encoding="utf-8")
        return path

    def good_request(self) -> dict[str, str]:
        """A request naming a department and a product the sample data has."""
        with (self.data / "sales_reps.csv").open(encoding="utf-8") as reps:
            department = next(csv.DictReader(reps))["department"]
        with (self.data / "products.csv").open(encoding="utf-8") as products:
            product = next(csv.DictReader(products))["product_name"]
        return {
            "department": department,
            "product": product,
            "start_date": "2024-01-01",
            "end_date": "2025-06-30",
        }

    def run_ids(self) -> list[int]:
        with store.open_store(self.db) as con:
            return [run.run_id for run in store.list_runs(con, 100)]

    def all_ticks(self) -> list[ticks_store.Tick]:
        with store.open_store(self.db) as con:
            return ticks_store.ticks(con, None, 100)


@pytest.fixture
def env(tmp_path: Path, db_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    made = Env(tmp_path, db_path)
    monkeypatch.setenv("ASSETBOARD_DEFS", str(made.defs_path))
    monkeypatch.setenv("ASSETBOARD_DB", str(db_path))
    yield made
    runs.wait(db_path)


def open_page(page: str = "automation", zone: str | None = None, **query: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    if zone is not None:
        at.context = {"timezone": zone}
    for name, value in query.items():
        at.query_params[name] = value
    at.switch_page(f"views/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(elements: Any) -> str:
    """What a person reads: escapes removed, a coloured badge as its icon's label only."""
    found = "\n".join(shown(str(element.value)) for element in elements)
    return re.sub(r":\w+\[:material/\w+: ([^\]]*)\]", r"\1", found)


def everything(at: AppTest) -> str:
    """All the text a person reads on the page, Markdown escapes removed."""
    kinds = ("markdown", "caption", "info", "warning", "error", "success", "code")
    return "\n".join(texts(at.get(kind)) for kind in kinds)


def raw_sources(at: AppTest) -> list[str]:
    kinds = ("markdown", "caption", "info", "warning", "error", "success")
    return [str(element.value) for kind in kinds for element in at.get(kind)]


def page_links(at: AppTest) -> list[tuple[str, str]]:
    return [(shown(link.proto.label), link.proto.page) for link in at.get("page_link")]


# --- before anything ran ---------------------------------------------------------------------


def test_an_empty_store_shows_every_schedule_and_sensor_and_how_to_start_the_daemon(
    env: Env,
) -> None:
    at = open_page()
    assert not at.error
    assert "The daemon is not running." in texts(at.info)
    command = at.code[0].value
    assert f"python -m pipeline daemon --defs {env.defs_path} --db {env.db}" in command
    page = everything(at)
    assert [s.value for s in at.subheader] == ["Schedules", "Sensors"]
    for name in (WEEKLY, MONTHLY, SENSOR):
        assert name in page
        assert at.toggle(key=state.automation_key(state.TOGGLE_AUTOMATION, name)).value is True
    assert "At 12:00 AM, only on Monday (UTC)" in page
    assert f"watches **{env.requests / '*.json'}**" in page
    assert "Cursor: 0 files seen" in [e.proto.label for e in at.expander]
    assert page.count("No ticks yet") == 3


def test_a_schedule_past_the_end_of_its_partitions_promises_a_tick_not_a_run(env: Env) -> None:
    """The sales data ends in December 2025: the monthly schedule's next tick runs nothing."""
    env.tick(SUNDAY)

    page = everything(open_page())

    card = r"next tick \d{4}-\d\d-01 00:00:00 UTC, nothing newer to build: its partitions end with"
    assert re.search(card + " 2025-12-01", page)  # the clock's next 1st of a month
    assert page.count("next run **") == 1  # the weekly schedule's, which does run
    assert "Started: the first run will be at 2027" not in page
    assert (
        "Started: the next tick is at 2027-01-01 00:00 UTC and runs nothing (nothing newer to"
        " build: its partitions end with 2025-12-01)"
    ) in page


def test_definitions_without_schedules_or_sensors_say_how_to_add_them(
    tmp_path: Path, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = sample_data(tmp_path / "data")
    module = tmp_path / "plain_defs.py"
    module.write_text(
        "from pipeline import Definitions\n"
        "from pipeline.examples.sales import build_definitions\n"
        f"base = build_definitions({str(data)!r})\n"
        "defs = Definitions(assets=list(base.assets.values()), checks=list(base.checks))\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("ASSETBOARD_DEFS", str(module))
    monkeypatch.setenv("ASSETBOARD_DB", str(db_path))
    at = open_page()
    assert "No schedules or sensors are defined" in texts(at.info)
    assert not at.toggle and not at.subheader


def test_next_run_is_in_the_browsers_timezone_or_the_schedules_own(env: Env) -> None:
    at = open_page(zone="Asia/Tokyo")
    assert "Times are in your browser's timezone, Asia/Tokyo." in texts(at.caption)
    assert "next run **20" in everything(at)
    assert "09:00:00 JST" in everything(at)  # Monday 00:00 UTC is 09:00 in Tokyo

    at = open_page()  # no timezone from the browser
    assert "Your browser did not say its timezone" in texts(at.caption)
    assert "00:00:00 UTC" in everything(at)


# --- ticks recorded by the real evaluator -----------------------------------------------------


def test_ticks_show_their_status_reason_and_runs_with_hostile_file_names_escaped(
    env: Env,
) -> None:
    assert materialize(env.defs, db=env.db).ok
    env.tick(SUNDAY)
    weekly = {t.name: t for t in env.tick(MONDAY)}[WEEKLY]
    assert weekly.status == "requested"
    env.request("r1.json", env.good_request())
    env.request(HOSTILE_NAME, {"department": 5})
    sensor = env.tick(MONDAY + timedelta(minutes=1))[-1]
    assert sensor.status == "partial" and len(sensor.run_ids) == 1

    at = open_page()
    page = everything(at)
    assert f"Requested a run · 2026-12-07 00:00:30 UTC · tick {weekly.tick_id}" in page
    assert "for 2026-12-07 00:00:00 UTC" in page
    # one file ran, one was refused: neither "Failed" nor a plain success
    assert (
        f"Requested 1 run, 1 file rejected · 2026-12-07 00:01:30 UTC · tick {sensor.tick_id}"
        in page
    )
    assert "Failed" not in page
    assert "Started: the first run will be at 2026-12-07 00:00 UTC" in page  # the first tick
    labels = [label for label, _ in page_links(at)]
    assert f"Run {weekly.run_ids[0]}" in labels and f"Run {sensor.run_ids[0]}" in labels

    # The hostile name reads as it is, and is never a link or bold in the page's Markdown.
    bad = env.requests / HOSTILE_NAME
    assert f"{bad}: the config of 'adhoc_request' is not valid" in page
    assert "Cursor: 2 files seen" in [e.proto.label for e in at.expander]
    seen = at.dataframe[0].value
    assert str(bad) in list(seen["File"])
    for source in raw_sources(at):
        assert "[x](" not in source and "**loud**" not in source


def test_the_switch_turns_a_schedule_off_in_the_store_and_the_next_tick_skips_it(
    env: Env,
) -> None:
    assert materialize(env.defs, db=env.db).ok
    env.tick(SUNDAY)
    before = env.run_ids()
    key = state.automation_key(state.TOGGLE_AUTOMATION, WEEKLY)

    at = open_page()
    at.toggle(key=key).set_value(False).run()
    assert not at.exception
    assert at.toggle(key=key).value is False
    assert at.toggle(key=key).label == "Off"  # the label follows the switch
    assert "switched off: nothing runs" in everything(at)
    with store.open_store(env.db) as con:
        assert ticks_store.states(con)[WEEKLY].enabled is False

    recorded = env.tick(MONDAY)  # Monday 00:00 has come, and the schedule is off
    assert WEEKLY not in {t.name for t in recorded}
    assert env.run_ids() == before

    at = open_page()  # a new session reads the switch from the store
    assert at.toggle(key=key).value is False
    at.toggle(key=key).set_value(True).run()
    assert at.toggle(key=key).label == "On"
    with store.open_store(env.db) as con:
        assert ticks_store.states(con)[WEEKLY].enabled is True


def test_the_test_button_shows_what_would_run_and_launches_nothing(env: Env) -> None:
    assert materialize(env.defs, db=env.db).ok
    env.tick(SUNDAY)
    good = env.request("r1.json", env.good_request())
    env.request("broken.json", {"department": "North"})  # dates and product missing
    runs_before, ticks_before = env.run_ids(), len(env.all_ticks())

    at = open_page()
    at.button(key=state.automation_key(state.BTN_TEST_AUTOMATION, SENSOR)).click().run()
    assert not at.exception
    page = everything(at)
    assert "nothing was launched. A tick now would:" in page
    assert "materialize adhoc_request with config" in page
    assert f"from {good}" in page
    config = json.dumps({"adhoc_request": env.good_request()}, ensure_ascii=False)
    assert f"materialize adhoc_request with config {config}\nfrom {good}" in page
    assert f"Would fail: {env.requests / 'broken.json'}: the config of" in texts(at.warning)

    at.button(key=state.automation_key(state.BTN_TEST_AUTOMATION, WEEKLY)).click().run()
    page = everything(at)
    assert "A tick at its next time" in page and "materialize +joined_data" in page

    assert env.run_ids() == runs_before  # nothing launched
    assert len(env.all_ticks()) == ticks_before  # nothing recorded either

    # The answer stays while the page refreshes, until dismissed.
    at.run()
    assert "A tick now would:" in everything(at)
    at.button(key=state.automation_key(state.BTN_DISMISS_TEST, SENSOR)).click().run()
    assert "A tick now would:" not in everything(at)


def test_a_sensor_with_nothing_new_says_so_when_tested(env: Env) -> None:
    at = open_page()
    at.button(key=state.automation_key(state.BTN_TEST_AUTOMATION, SENSOR)).click().run()
    assert f"Nothing to run: no new or changed file in {env.requests / '*.json'}" in texts(at.info)


# --- the daemon's heartbeat -------------------------------------------------------------------


def _beat(env: Env, last_seen: datetime, stopped: bool = False, interval: float = 30) -> None:
    with store.open_writer(env.db) as con:
        ticks_store.beat(
            con, 4242, "box", last_seen - timedelta(hours=1), last_seen, interval, stopped
        )


def test_a_running_daemon_shows_its_pid_and_when_it_was_last_seen(env: Env) -> None:
    with daemon_lock(env.db, "the daemon"):
        _beat(env, datetime.now(UTC) - timedelta(seconds=3))
        at = open_page()
    text = texts(at.success)
    assert "**The daemon is running** (pid 4242 on box): last seen" in text
    assert "evaluating every 30 s" in text
    assert not at.code  # no start command while it runs


def test_a_stopped_or_vanished_daemon_says_so_and_how_to_start_it(env: Env) -> None:
    _beat(env, datetime(2026, 12, 1, 9, 30, tzinfo=UTC), stopped=True)
    at = open_page()
    assert "it stopped at 2026-12-01 09:30:00 UTC (pid 4242 on box)" in texts(at.warning)
    assert "python -m pipeline daemon" in at.code[0].value

    _beat(env, datetime.now(UTC) - timedelta(minutes=5), interval=5)  # killed: no clean stop
    at = open_page()
    text = texts(at.error)
    assert "not seen for 5 min (its interval is 5 s)" in text and "killed or crashed" in text
    assert "python -m pipeline daemon" in at.code[0].value


# --- runs launched by automation say so -------------------------------------------------------


def test_the_runs_page_and_overview_name_the_schedule_that_launched_a_run(env: Env) -> None:
    assert materialize(env.defs, db=env.db).ok
    env.tick(SUNDAY)
    weekly = {t.name: t for t in env.tick(MONDAY)}[WEEKLY]
    run_id = weekly.run_ids[0]
    label = f"schedule {WEEKLY} (tick {weekly.tick_id})"

    at = open_page("runs", run=str(run_id))
    table = at.dataframe[0].value
    assert dict(zip(table["Run"], table["From"], strict=True))[run_id] == label
    assert f"from {label}" in texts(at.caption)
    assert f"Launched by tick {weekly.tick_id} of {WEEKLY}: see it on the Automation page" in [
        label for label, _ in page_links(at)
    ]

    at = open_page("overview")
    assert f"Run {run_id}: Succeeded" in texts(at.success)
    assert f"from {label}" in texts(at.success)


def test_the_start_command_carries_the_settings_environment(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASSETBOARD_SALES_DATA", "/some where/data")
    at = open_page()
    assert at.code[0].value.startswith("ASSETBOARD_SALES_DATA='/some where/data' python -m")


def test_skipped_ticks_in_a_row_are_one_line_so_the_ticks_that_did_something_stay(
    env: Env,
) -> None:
    assert materialize(env.defs, db=env.db).ok
    env.request("r1.json", env.good_request())
    env.tick(SUNDAY)  # the request: a run
    for minutes in range(1, 9):  # then nothing new, eight times
        env.tick(SUNDAY + timedelta(minutes=minutes))

    page = everything(open_page())
    assert "Skipped 8 times · 2026-12-06 10:01:00 UTC to 2026-12-06 10:08:00 UTC" in page
    assert "Requested a run · 2026-12-06 10:00:00 UTC" in page


def test_the_report_pages_run_picker_names_the_sensor_that_launched_a_run(env: Env) -> None:
    assert materialize(env.defs, db=env.db).ok
    env.request("r1.json", env.good_request())
    sensor = env.tick(SUNDAY)[-1]
    run_id = sensor.run_ids[0]

    at = open_page("report")
    picker = at.selectbox(key=state.SELECT_REPORT_RUN)
    assert picker.options[0].startswith(f"Run {run_id} · Succeeded · materialize · 20")
    assert picker.options[0].endswith(f"· from sensor {SENSOR} (tick {sensor.tick_id})")
    assert picker.options[1].endswith("· from Python")


HOSTILE_DEFS = """
from pipeline import Definitions
from pipeline.automation import FileSensor, Schedule
from pipeline.examples.sales import build_definitions

base = build_definitions({data!r})


def keys_of(at):
    raise RuntimeError("no keys for [you](http://evil.invalid)")


defs = Definitions(
    assets=list(base.assets.values()),
    checks=list(base.checks),
    schedules=[
        Schedule(
            "odd [x](http://evil.invalid)",
            cron="0 0 1 * *",
            select="monthly_sales_performance",
            partitions=keys_of,
            description="**loud** :red[alarm]",
        )
    ],
    sensors=[
        FileSensor(
            "watcher",
            path={requests!r},
            select="adhoc_request",
            description="![img](http://evil.invalid/a.png)",
        )
    ],
)
"""


def test_names_and_descriptions_from_definitions_are_escaped_and_a_failing_test_says_why(
    tmp_path: Path, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = sample_data(tmp_path / "data")
    module = tmp_path / "hostile_defs.py"
    requests = str(data / "requests" / "*.json")
    module.write_text(HOSTILE_DEFS.format(data=str(data), requests=requests), encoding="utf-8")
    monkeypatch.setenv("ASSETBOARD_DEFS", str(module))
    monkeypatch.setenv("ASSETBOARD_DB", str(db_path))
    name = "odd [x](http://evil.invalid)"

    at = open_page()
    page = everything(at)
    assert name in page and "**loud** :red[alarm]" in page
    assert "![img](http://evil.invalid/a.png)" in page
    at.button(key=state.automation_key(state.BTN_TEST_AUTOMATION, name)).click().run()
    assert not at.exception
    expected = f"Could not test {name}: RuntimeError: no keys for [you](http://evil.invalid)"
    assert expected in texts(at.error)
    for source in raw_sources(at):
        assert "[x](" not in source and "![img]" not in source and "[you](" not in source
        assert "**loud**" not in source and ":red[alarm]" not in source
