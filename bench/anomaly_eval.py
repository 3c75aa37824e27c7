"""How well `pipeline.checks_anomaly.detect` finds injected anomalies: precision and recall.

`python -m bench.anomaly_eval` generates seeded synthetic series of row counts per scenario,
injects anomalies at known points, runs the detector on every point (trained on the
`--window` values before it, as a volume check trained on its previous builds is) and prints
precision and recall per scenario and overall as a Markdown table. Same arguments, same table.

Anomalies are isolated (no two in one training window) except in the "clustered" scenario, which
shows what an earlier anomaly left in the training window does. An injected anomaly stays in the
series, so later points train on it, as they would in a real history. A point is *flagged* when
the detector calls it anomalous; a flagged injected point is a true positive, a flagged ordinary
point a false alarm.
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Callable
from dataclasses import dataclass

from pipeline.checks_anomaly import detect

LENGTH = 120  # builds per series
FIRST_ANOMALY = 70  # anomalies fall in the last 50 builds: even a seasonal window is full
ANOMALIES = 3  # injected per series
ISOLATED = 15  # builds between two anomalies: none is in another's 14-build training window


@dataclass(frozen=True)
class Scenario:
    name: str
    what: str
    base: Callable[[random.Random, int], float]  # the ordinary value at step t, before noise
    noise: float  # relative gaussian noise on ordinary values
    inject: Callable[[random.Random, float], float]  # ordinary value -> the anomaly
    seasonality: int | None = None  # given to the detector
    tiny_changes: float = 0.0  # flat scenario: share of points nudged by at most 3 %
    spacing: int = ISOLATED  # least distance between two injected anomalies
    widest: int = LENGTH  # greatest distance between two neighbouring ones


def _spike(rng: random.Random, value: float) -> float:
    return value * rng.uniform(1.6, 3.0)


def _drop(rng: random.Random, value: float) -> float:
    return value * rng.uniform(0.3, 0.6)


def _either(rng: random.Random, value: float) -> float:
    return _spike(rng, value) if rng.random() < 0.5 else _drop(rng, value)


def _moderate(rng: random.Random, value: float) -> float:
    change = rng.uniform(0.20, 0.35)
    return value * (1 + change if rng.random() < 0.5 else 1 - change)


def _weekly(rng: random.Random, t: int) -> float:
    return 300.0 if t % 7 in (5, 6) else 1000.0  # weekends are quiet


def _seasonal_break(rng: random.Random, value: float) -> float:
    # A weekday falling to a weekend's level, or a weekend rising to half a weekday's:
    # inside the range the whole week spans, so only a same-weekday comparison can see it.
    return value * 0.45 if value > 500 else value * 1.8


SCENARIOS = (
    Scenario(
        "drop to zero (noisy)",
        "30 % noise; the count falls to 0",
        lambda rng, t: 1000.0,
        0.30,
        lambda rng, value: 0.0,
    ),
    Scenario(
        "clustered drops to zero",
        "as above, but three zeros within 3 to 14 builds of each other",
        lambda rng, t: 1000.0,
        0.30,
        lambda rng, value: 0.0,
        spacing=3,
        widest=14,
    ),
    Scenario("spike", "5 % noise; x1.6 to x3", lambda rng, t: 1000.0, 0.05, _spike),
    Scenario("drop", "5 % noise; to 30-60 %", lambda rng, t: 1000.0, 0.05, _drop),
    Scenario(
        "moderate change",
        "5 % noise; up or down by 20-35 %",
        lambda rng, t: 1000.0,
        0.05,
        _moderate,
    ),
    Scenario(
        "slow drift",
        "+1 % per build, 3 % noise; a spike or a drop",
        lambda rng, t: 1000.0 * 1.01**t,
        0.03,
        _either,
    ),
    Scenario(
        "weekly seasonal",
        "weekends 30 % of weekdays, 5 % noise; a day at the other kind's level",
        _weekly,
        0.05,
        _seasonal_break,
    ),
    Scenario(
        "weekly seasonal, seasonality=7",
        "the same series, the detector compares same weekdays",
        _weekly,
        0.05,
        _seasonal_break,
        seasonality=7,
    ),
    Scenario(
        "flat with tiny changes",
        "exactly 1000, 15 % of builds nudged by <= 3 % (not anomalies); a spike or a drop",
        lambda rng, t: 1000.0,
        0.0,
        _either,
        tiny_changes=0.15,
    ),
)


@dataclass
class Score:
    series: int = 0
    points: int = 0
    anomalies: int = 0
    true_positives: int = 0
    false_alarms: int = 0

    @property
    def missed(self) -> int:
        return self.anomalies - self.true_positives

    @property
    def precision(self) -> float | None:
        flagged = self.true_positives + self.false_alarms
        return self.true_positives / flagged if flagged else None

    @property
    def recall(self) -> float | None:
        return self.true_positives / self.anomalies if self.anomalies else None

    def add(self, other: Score) -> None:
        for name in ("series", "points", "anomalies", "true_positives", "false_alarms"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def series(scenario: Scenario, seed: int) -> tuple[list[float], set[int]]:
    """One seeded series of row counts and the positions of its injected anomalies."""
    rng = random.Random(f"{scenario.name}/{seed}")
    values = []
    for t in range(LENGTH):
        value = scenario.base(rng, t) * (1 + rng.gauss(0, scenario.noise))
        if scenario.tiny_changes and rng.random() < scenario.tiny_changes:
            value *= 1 + rng.choice((-1, 1)) * rng.uniform(0.001, 0.03)
        values.append(float(max(1, round(value))))
    room = LENGTH - 1 - FIRST_ANOMALY - (ANOMALIES - 1) * scenario.spacing
    extra = [rng.randint(0, min(room, scenario.widest - scenario.spacing) // 2)]
    extra += [rng.randint(0, min(room, scenario.widest - scenario.spacing) // 2)]
    spot = FIRST_ANOMALY + rng.randint(0, room - sum(extra))
    positions = {spot}
    for gap in extra[: ANOMALIES - 1]:
        spot += scenario.spacing + gap
        positions.add(spot)
    for spot in positions:
        values[spot] = float(round(scenario.inject(rng, values[spot])))
    return values, positions


def evaluate(
    scenario: Scenario,
    n_series: int,
    *,
    window: int = 14,
    sensitivity: float = 3.0,
    min_history: int = 5,
) -> Score:
    """Run the detector on every point of `n_series` series of one scenario."""
    score = Score()
    span = window * (scenario.seasonality or 1)
    for seed in range(n_series):
        values, positions = series(scenario, seed)
        score.series += 1
        score.anomalies += len(positions)
        for t in range(1, LENGTH):
            verdict = detect(
                values[t],
                values[max(0, t - span) : t],
                sensitivity=sensitivity,
                min_history=min_history,
                seasonality=scenario.seasonality,
                min_width=1.0,
            )
            score.points += 1
            if verdict.anomalous and t in positions:
                score.true_positives += 1
            elif verdict.anomalous:
                score.false_alarms += 1
    return score


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f} %"


def table(n_series: int, **options: float | int) -> str:
    """The Markdown table: one row per scenario, then overall."""
    lines = [
        "| scenario | series | points | anomalies | found | false alarms | missed"
        " | precision | recall |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    overall = Score()
    for scenario in SCENARIOS:
        score = evaluate(scenario, n_series, **options)  # type: ignore[arg-type]
        overall.add(score)
        lines.append(_row(f"{scenario.name} ({scenario.what})", score))
    lines.append(_row("**overall**", overall))
    return "\n".join(lines)


def _row(label: str, score: Score) -> str:
    return (
        f"| {label} | {score.series} | {score.points} | {score.anomalies}"
        f" | {score.true_positives} | {score.false_alarms} | {score.missed}"
        f" | {_pct(score.precision)} | {_pct(score.recall)} |"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--series", type=int, default=200, help="series per scenario")
    parser.add_argument("--window", type=int, default=14, help="training values per point")
    parser.add_argument("--sensitivity", type=float, default=3.0)
    parser.add_argument("--min-history", type=int, default=5)
    args = parser.parse_args(argv)
    print(
        table(
            args.series,
            window=args.window,
            sensitivity=args.sensitivity,
            min_history=args.min_history,
        )
    )


if __name__ == "__main__":
    main()
