"""dbt-style warn_if / error_if thresholds on a count of failing rows.

`warn_if=">0", error_if=">10"` means: one to ten failing rows warn, more fail. A trailing `%`
compares the failing rows as a share of all rows instead (`error_if=">1%"`). Strings are parsed
when the check is defined, so a typo is a DefinitionError at import, not a surprise mid-run.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass

from pipeline.definitions import Severity, normalise_severity
from pipeline.errors import DefinitionError

_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    "!=": operator.ne,
    "==": operator.eq,
    "=": operator.eq,
    ">": operator.gt,
    "<": operator.lt,
}
_PATTERN = re.compile(r"\s*(>=|<=|!=|==|=|>|<)\s*(\d+(?:\.\d+)?)\s*(%?)\s*")
_EXAMPLES = "'>0', '>=5', '!=0' or '>1%' (a share of all rows)"


@dataclass(frozen=True)
class Threshold:
    """One comparison, e.g. '> 10' or '> 1%', applied to a failing-row count."""

    op: str
    number: float
    percent: bool

    def triggered(self, failing: int, total: int) -> bool:
        value = (100.0 * failing / total if total else 0.0) if self.percent else failing
        return _OPERATORS[self.op](value, self.number)

    def __str__(self) -> str:
        number = f"{self.number:g}"
        return f"{self.op} {number}{'%' if self.percent else ''}"


def parse_threshold(text: object, check: str, option: str) -> Threshold:
    """'>10' -> Threshold; anything else is a DefinitionError naming the check and the option."""
    match = _PATTERN.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise DefinitionError(
            [f"check '{check}': {option}={text!r} is not a threshold; write a comparison such as"
             f" {_EXAMPLES}"]
        )  # fmt: skip
    threshold = Threshold(match[1], float(match[2]), bool(match[3]))
    if threshold.percent and threshold.number > 100:
        raise DefinitionError(
            [f"check '{check}': {option}={text!r} can never be reached; a share of rows is 0-100%"]
        )
    return threshold


@dataclass(frozen=True)
class Thresholds:
    """The rules of one check, ERROR first: the first that triggers decides the severity."""

    severity: Severity  # the CheckDef's severity: the worst outcome this check can have
    rules: tuple[tuple[Severity, Threshold], ...]

    def evaluate(self, failing: int, total: int) -> Severity | None:
        """The severity of the first rule the count triggers, or None when the check passes."""
        for severity, threshold in self.rules:
            if threshold.triggered(failing, total):
                return severity
        return None

    def __str__(self) -> str:
        return ", ".join(f"{severity} if {threshold}" for severity, threshold in self.rules[::-1])


def thresholds(
    check: str,
    severity_name: Severity | str | None = None,
    warn_if: str | None = None,
    error_if: str | None = None,
) -> Thresholds:
    """Resolve a check's severity (any case) and thresholds; without thresholds any failing row
    counts."""
    severity = None if severity_name is None else normalise_severity(severity_name, check)
    if warn_if is None and error_if is None:
        chosen = severity or "error"
        return Thresholds(chosen, ((chosen, Threshold(">", 0, False)),))
    if error_if is not None and severity == "warn":
        raise DefinitionError(
            [f"check '{check}' has severity 'warn' and error_if={error_if!r}: drop one of them"
             " (error_if already makes it an ERROR check)"]
        )  # fmt: skip
    if error_if is None and severity == "error":
        raise DefinitionError(
            [f"check '{check}' has severity 'error' but only warn_if={warn_if!r}: add error_if"
             " (e.g. error_if='>10') or drop severity"]
        )  # fmt: skip
    rules: list[tuple[Severity, Threshold]] = []
    if error_if is not None:
        rules.append(("error", parse_threshold(error_if, check, "error_if")))
    if warn_if is not None:
        rules.append(("warn", parse_threshold(warn_if, check, "warn_if")))
    return Thresholds("error" if error_if is not None else "warn", tuple(rules))
