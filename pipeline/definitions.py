"""What a user declares: assets, checks and the Definitions that bind them into a valid graph.

Shaped like Dagster's API so its users feel at home, but small: a decorator turns a function into
an immutable definition, and `Definitions` validates everything once, when it is built.
"""

from __future__ import annotations

import functools
import graphlib
import hashlib
import importlib
import importlib.util
import inspect
import logging
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, is_dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal

from pipeline.code_versions import source_hash
from pipeline.errors import DefinitionError, PipelineError, SelectionError
from pipeline.graph import AssetGraph, format_cycle, suggest, unknown_dependencies
from pipeline.partitions import BackfillPolicy, Partitions, TimeWindow
from pipeline.states import CheckKey

if TYPE_CHECKING:
    from pipeline.automation import FileSensor, Schedule

Kind = Literal["table", "view"]
Severity = Literal["error", "warn"]
KINDS = ("table", "view")
SEVERITIES = ("error", "warn")


def normalise_severity(severity: object, check: str) -> Severity:
    """'WARN', 'Error' or Severity.WARN -> 'warn' / 'error'; anything else is a DefinitionError."""
    word = severity.lower() if isinstance(severity, str) else severity
    if word == "error":
        return "error"
    if word == "warn":
        return "warn"
    raise DefinitionError(
        [f"check '{check}' has severity {severity!r}: use error or warn (in any case)"]
    )


@dataclass(frozen=True)
class AssetDef:
    """One table or view the engine builds from `fn(con)` or `fn(con, context)`."""

    name: str
    fn: Callable[..., Any] = field(repr=False, compare=False)
    deps: tuple[str, ...] = ()
    group: str = "default"
    description: str | None = None
    kind: Kind = "table"
    tags: Mapping[str, str] = field(default_factory=dict, compare=False)
    code_version: str = ""
    partitions: Partitions | None = None
    partition_column: str | None = None  # the column whose value says a row's partition
    takes_context: bool = False  # fn(con, context)
    backfill_policy: BackfillPolicy | None = None  # partitions per call; None: one
    profile: bool = True  # record a column profile after each table build (pipeline/profiles)
    config: type | None = None  # a dataclass: values given per run arrive in context.config
    run_config: Any = field(default=None, compare=False, repr=False)  # this run's (run_config)

    def build(self, con: Any, context: AssetContext) -> Any:
        """Call the function the way it was written: with or without `context`."""
        if self.run_config is not None:
            context = replace(context, config=self.run_config)
        return self.fn(con, context) if self.takes_context else self.fn(con)

    def __call__(self, con: Any, context: AssetContext | None = None) -> Any:
        """What the function returns, for unit tests: `my_asset(con)`; a function written
        `fn(con, context)` gets `context` or a bare one naming this asset."""
        return self.build(con, context or AssetContext(self.name))


@dataclass(frozen=True)
class AssetContext:
    """What an asset function (`fn(con, context)`) or a check learns about its run."""

    asset: str
    run_id: int | None = None
    partition_key: str | None = None  # None when one call builds several partitions
    partition_window: TimeWindow | None = None  # [start, end) of the time partition(s)
    partition_keys: tuple[str, ...] = ()  # every partition this call builds
    # The warehouse file whose run history (store.open_store) a check may read; set by the
    # engine for checks, None elsewhere. Anomaly checks read their training values there.
    history_db: Path | None = None
    config: Any = None  # the run's config for this asset: an instance of its `config=` class

    @property
    def partition_key_range(self) -> tuple[str, str] | None:
        """(first, last) of the partitions this call builds."""
        return (self.partition_keys[0], self.partition_keys[-1]) if self.partition_keys else None

    @property
    def log(self) -> logging.Logger:
        return logging.getLogger(f"pipeline.asset.{self.asset}")

    @property
    def has_partition_key(self) -> bool:
        return self.partition_key is not None


@dataclass(frozen=True)
class CheckResult:
    """What a check function returns; `passed` is the verdict, the rest explains it."""

    passed: bool
    metadata: Mapping[str, Any] = field(default_factory=dict)
    failing_rows_sql: str | None = None
    observed_value: float | None = None
    threshold: str | None = None
    # Set by checks with warn_if/error_if: overrides the CheckDef's severity for this execution.
    severity: Severity | None = None
    # Named parameters ($name) bound when failing_rows_sql runs, so values never enter the SQL.
    failing_rows_params: Mapping[str, Any] | None = None
    # How many rows failing_rows_sql selects, when the check counted them already: the engine
    # then only fetches the sample (a second count of 10 M rows is not free).
    failing_count: int | None = None
    # Which check of a @multi_asset_check this result is for (its spec's name), and, when the
    # function checks several assets with specs of one name, which asset's.
    check_name: str | None = None
    asset: str | None = None


@dataclass(frozen=True)
class CheckDef:
    """A data-quality test on one asset; a failed blocking ERROR check stops its downstream."""

    name: str
    asset: str
    fn: Callable[..., CheckResult] = field(repr=False, compare=False)
    severity: Severity = "error"
    blocking: bool = False
    description: str | None = None
    # Failing rows kept per execution; None uses Definitions.failing_sample_size, 0 keeps none.
    sample_size: int | None = None
    # Other assets the check reads (e.g. the parent table of a foreign key): in a run that
    # rebuilds them, the check waits for them instead of reading an old or missing table.
    additional_deps: tuple[str, ...] = ()
    # On a partitioned asset: run once per partition built, reading only that partition's rows
    # (False: once on the whole table, after the run's partitions).
    per_partition: bool = True
    takes_context: bool = False  # fn(con, context)
    code_version: str = ""  # a hash of the function's source and the values it closes over
    # Set on each check of a @multi_asset_check: the function reporting it with its siblings.
    multi: MultiCheckDef | None = field(default=None, repr=False, compare=False)

    def run(self, con: Any, context: AssetContext) -> CheckResult:
        """The function's one CheckResult (a PipelineError when it reports none or several)."""
        if self.multi is not None:
            return self.multi.result_for(self, self.multi.results(con, context))
        returned = self.fn(con, context) if self.takes_context else self.fn(con)
        return single_result(self.key, returned)

    def __call__(self, con: Any, context: AssetContext | None = None) -> CheckResult:
        """The check's CheckResult, for unit tests: `my_check(con)`; a function written
        `fn(con, context)` gets `context` or a bare one naming this check's asset."""
        return self.run(con, context or AssetContext(self.asset))

    @property
    def key(self) -> str:
        """Check names are unique per asset, so the pair identifies a check: 'asset.check'."""
        return f"{self.asset}.{self.name}"

    @property
    def check_key(self) -> CheckKey:
        """The pair itself, for code that must not split 'asset.check' text on a dot."""
        return CheckKey(self.asset, self.name)

    @property
    def waits_for(self) -> tuple[str, ...]:
        """The other assets a run must build before this check runs: those it reads, and for
        a check of a @multi_asset_check the assets (and reads) of its siblings too, so that
        the function runs once, when all of them are there (as Dagster runs it)."""
        if self.multi is None:
            return self.additional_deps
        return tuple(n for n in self.multi.reads if n != self.asset)


def single_result(key: str, returned: object) -> CheckResult:
    """The CheckResult a plain check returned or yielded; a PipelineError otherwise."""
    if isinstance(returned, CheckResult):
        return returned
    if isinstance(returned, Iterator | list | tuple):
        results = list(returned)
        if len(results) == 1 and isinstance(results[0], CheckResult):
            return results[0]
        if not results:
            raise PipelineError(f"check '{key}' reported no CheckResult; return one")
        if len(results) > 1:
            raise PipelineError(
                f"check '{key}' reported {len(results)} results; a check reports one. To report"
                " several checks from one function, declare them with"
                " @multi_asset_check(specs=[AssetCheckSpec(...), ...])"
            )
    shown = "no CheckResult" if returned is None else type(returned).__name__
    raise PipelineError(
        f"check '{key}' returned {shown}; return CheckResult(passed=..., metadata={{...}})"
    )


@dataclass(frozen=True)
class AssetCheckSpec:
    """One check a @multi_asset_check function reports, as Dagster's AssetCheckSpec: its name,
    its asset, and how a failure counts (the same options as @asset_check)."""

    name: str
    asset: str | AssetDef
    severity: Severity | str = "error"
    blocking: bool = False
    description: str | None = None
    additional_deps: Iterable[str | AssetDef] = ()
    sample_size: int | None = None


@dataclass(frozen=True, eq=False)
class MultiCheckDef:
    """Several checks reported by one function: `checks` holds one CheckDef per spec, each
    selected, run, recorded and blocking on its own; the function runs once for those of them
    run together: in a run that builds several of its assets, once they are all built."""

    name: str
    fn: Callable[..., Any] = field(repr=False)
    specs: tuple[AssetCheckSpec, ...]
    takes_context: bool = False

    @functools.cached_property
    def checks(self) -> tuple[CheckDef, ...]:
        return tuple(
            replace(
                asset_check(
                    self.fn,
                    asset=spec.asset,
                    name=spec.name,
                    severity=spec.severity,
                    blocking=spec.blocking,
                    description=spec.description,
                    sample_size=spec.sample_size,
                    additional_deps=spec.additional_deps,
                ),
                multi=self,
            )
            for spec in self.specs
        )

    @functools.cached_property
    def reads(self) -> tuple[str, ...]:
        """Every asset the function's checks are on or read, in the order first named."""
        names = [n for check in self.checks for n in (check.asset, *check.additional_deps)]
        return tuple(dict.fromkeys(names))

    def results(self, con: Any, context: AssetContext) -> list[CheckResult]:
        """Every CheckResult the function returned or yielded."""
        returned = self.fn(con, context) if self.takes_context else self.fn(con)
        results = list(returned) if isinstance(returned, Iterator | list | tuple) else [returned]
        for result in results:
            if not isinstance(result, CheckResult):
                shown = "None" if result is None else type(result).__name__
                raise PipelineError(
                    f"multi_asset_check '{self.name}' reported {shown}; return or yield"
                    " CheckResult(check_name=..., passed=...) for each of its checks"
                )
        return results

    def by_key(self, results: Iterable[CheckResult]) -> dict[str, CheckResult]:
        """The results by the key of the check each names; a PipelineError when one names
        none of the checks, two checks, or a check already reported."""
        found: dict[str, CheckResult] = {}
        for result in results:
            check = self._check_of(result)
            if check.key in found:
                raise PipelineError(
                    f"multi_asset_check '{self.name}' reported check '{check.key}' twice;"
                    " report each check once"
                )
            found[check.key] = result
        return found

    def result_for(self, check: CheckDef, results: Iterable[CheckResult]) -> CheckResult:
        """The result reporting `check`; a PipelineError when the function left it out."""
        found = self.by_key(results)
        if check.key not in found:
            raise PipelineError(self.missing(check))
        return found[check.key]

    def missing(self, check: CheckDef) -> str:
        return (
            f"multi_asset_check '{self.name}' did not report check '{check.key}': return or"
            f" yield CheckResult(check_name={check.name!r}, passed=...) for it"
        )

    def _check_of(self, result: CheckResult) -> CheckDef:
        if result.check_name is None and len(self.checks) > 1:
            raise PipelineError(
                f"multi_asset_check '{self.name}' reported a CheckResult without check_name;"
                f" name one of its checks: {self._known()}"
            )
        found = [
            check
            for check in self.checks
            if result.check_name in (None, check.name) and result.asset in (None, check.asset)
        ]
        if len(found) == 1:
            return found[0]
        label = ".".join(filter(None, (result.asset, result.check_name)))
        if found:
            raise PipelineError(
                f"multi_asset_check '{self.name}' reported check '{label}', which names"
                f" {len(found)} of its checks: add asset= to the CheckResult ({self._known()})"
            )
        raise PipelineError(
            f"multi_asset_check '{self.name}' reported check '{label}', which is none of its"
            f" checks: {self._known()}{suggest(label, [c.name for c in self.checks])}"
        )

    def _known(self) -> str:
        return ", ".join(sorted(check.key for check in self.checks))

    def __call__(self, con: Any, context: AssetContext | None = None) -> list[CheckResult]:
        """Every result the function reports, for unit tests: `my_checks(con)`."""
        return self.results(con, context or AssetContext(_asset_name(self.specs[0].asset)))


def multi_asset_check(
    fn: Callable[..., Any] | None = None,
    *,
    specs: Iterable[AssetCheckSpec],
    name: str | None = None,
) -> Any:
    """Declare several checks reported by one function, `fn(con)` or `fn(con, context)`, which
    returns or yields one `CheckResult(check_name=..., passed=...)` per spec.

    Each spec is a check of its own, as if declared with @asset_check: a spec the function does
    not report is recorded as an error, and so are all of them when it reports an unknown one.
    """

    def wrap(func: Callable[..., Any]) -> MultiCheckDef:
        label = name or str(getattr(func, "__name__", "multi_asset_check"))
        listed = list(specs)
        problems = [
            f"multi_asset_check '{label}': {spec!r} is not an AssetCheckSpec"
            for spec in listed
            if not isinstance(spec, AssetCheckSpec)
        ]
        if not listed:
            problems.append(
                f"multi_asset_check '{label}' has no specs: give"
                ' specs=[AssetCheckSpec("name", asset="...")]'
            )
        if problems:
            raise DefinitionError(problems)
        multi = MultiCheckDef(label, func, tuple(listed), _takes_context(label, func, "check"))
        keys = Counter(check.key for check in multi.checks)
        if repeated := sorted(key for key, count in keys.items() if count > 1):
            raise DefinitionError(
                [f"multi_asset_check '{label}' has two specs named '{key}'" for key in repeated]
            )
        return multi

    return wrap(fn) if fn is not None else wrap


@dataclass(frozen=True, order=True)
class CheckNode:
    """A check scheduled on its own because it reads assets rebuilt in the same run."""

    key: str

    def __str__(self) -> str:
        return f"check {self.key}"


def _asset_name(ref: str | AssetDef) -> str:
    if isinstance(ref, AssetDef):
        return ref.name
    if isinstance(ref, str):
        return ref
    raise DefinitionError(
        [f"{ref!r} is not an asset: pass an asset name or a function decorated with @asset"]
    )


def asset(
    fn: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    deps: Iterable[str | AssetDef] = (),
    group: str = "default",
    description: str | None = None,
    kind: Kind = "table",
    tags: Mapping[str, str] | None = None,
    code_version: str | None = None,
    partitions: Partitions | None = None,
    partition_column: str | None = None,
    backfill_policy: BackfillPolicy | None = None,
    profile: bool = True,
    config: type | None = None,
) -> Any:
    """Declare an asset built by `fn(con)` or `fn(con, context)`; usable as `@asset` or
    `@asset(...)`. A partitioned asset's function returns the rows of `context.partition_key`,
    which the engine writes in place of that partition's rows (`partition_column`). A table's
    builds record a column profile unless `profile=False`. With `config=` a dataclass, each
    run's values for it (pipeline/run_config.py) arrive validated in `context.config`."""

    def wrap(func: Callable[..., Any]) -> AssetDef:
        asset_name = name or func.__name__
        if kind not in KINDS:
            raise DefinitionError(
                [f"asset '{asset_name}' has kind {kind!r}; use 'table' or 'view'"]
            )
        if problems := _partition_problems(asset_name, kind, partitions, partition_column):
            raise DefinitionError(problems)
        if backfill_policy is not None and partitions is None:
            raise DefinitionError(
                [f"asset '{asset_name}' has a backfill_policy but no partitions= to apply it to"]
            )
        takes_context = _takes_context(asset_name, func)
        if config is not None and not (isinstance(config, type) and is_dataclass(config)):
            raise DefinitionError(
                [f"asset '{asset_name}' has config={config!r}: pass a @dataclass class"]
            )
        if config is not None and not takes_context:
            raise DefinitionError(
                [f"asset '{asset_name}' has config= but its function takes no context: write"
                 " it `fn(con, context)` and read `context.config`"]
            )  # fmt: skip
        return AssetDef(
            name=name or func.__name__,
            fn=func,
            deps=tuple(_asset_name(dep) for dep in deps),
            group=group,
            description=description or inspect.getdoc(func),
            kind=kind,
            tags=dict(tags or {}),
            code_version=code_version or source_hash(func),
            partitions=partitions,
            partition_column=partition_column,
            takes_context=takes_context,
            backfill_policy=backfill_policy,
            profile=bool(profile),
            config=config,
        )

    return wrap(fn) if fn is not None else wrap


def _partition_problems(
    name: str, kind: str, partitions: Partitions | None, column: str | None
) -> list[str]:
    if partitions is None:
        if column is not None:
            return [f"asset '{name}' has partition_column={column!r} but no partitions="]
        return []
    if not isinstance(partitions, Partitions):
        return [
            f"asset '{name}' has partitions={partitions!r}: use MonthlyPartitions(...),"
            " WeeklyPartitions, DailyPartitions or StaticPartitions([...])"
        ]
    if kind != "table":
        return [f"asset '{name}' is partitioned, so it must be a table: a view cannot keep"
                " one partition while another is rebuilt"]  # fmt: skip
    if not column:
        return [
            f"asset '{name}' is partitioned but has no partition_column: name the column"
            ' holding each row\'s partition, e.g. partition_column="month"'
        ]
    return []


def _takes_context(name: str, func: Callable[..., Any], what: str = "asset") -> bool:
    """Whether `func` is written `fn(con, context)`: a second parameter without a default, or
    one named `context` (`lambda con, i=i: ...` keeps its `i`). One taking nothing is refused."""
    if inspect.isfunction(func):  # read from the code object: inspect.signature is 20x slower
        code = func.__code__
        count, takes_varargs = code.co_argcount, bool(code.co_flags & inspect.CO_VARARGS)
        second = code.co_varnames[1] if count >= 2 else None
        second_required = count - len(func.__defaults__ or ()) >= 2
    else:
        try:
            parameters = list(inspect.signature(func).parameters.values())
        except (TypeError, ValueError):  # a builtin or C function: called as fn(con)
            return False
        positional = [
            p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        count, takes_varargs = len(positional), any(p.kind == p.VAR_POSITIONAL for p in parameters)
        second = positional[1].name if count >= 2 else None
        second_required = count >= 2 and positional[1].default is positional[1].empty
    if not count and not takes_varargs:
        shown = getattr(func, "__name__", "")
        shown = shown if shown.isidentifier() else "fn"
        raise DefinitionError(
            [
                f"{what} '{name}' is a function of no arguments: the engine passes it a"
                f" DuckDB connection, so write it `def {shown}(con):` (or"
                f" `def {shown}(con, context):` to read the run's context)"
            ]
        )
    return second is not None and (second_required or second == "context")


def asset_check(
    fn: Callable[..., CheckResult] | None = None,
    *,
    asset: str | AssetDef,
    name: str | None = None,
    severity: Severity | str = "error",
    blocking: bool = False,
    description: str | None = None,
    sample_size: int | None = None,
    additional_deps: Iterable[str | AssetDef] = (),
    per_partition: bool = True,
) -> Any:
    """Declare a check on `asset`, run by the engine right after the asset is built, as
    `fn(con)` or `fn(con, context)`.

    A check that also reads other assets names them in `additional_deps`, so that it runs once
    they are built too. On a partitioned asset it runs per partition (reading the asset's name
    gives that partition's rows) unless `per_partition=False`.
    """

    def wrap(func: Callable[..., CheckResult]) -> CheckDef:
        level = normalise_severity(severity, name or func.__name__)
        if sample_size is not None and (type(sample_size) is not int or sample_size < 0):
            raise DefinitionError(
                [
                    f"check '{name or func.__name__}' has sample_size {sample_size!r}: use a"
                    " whole number of rows >= 0 (0 keeps no failing rows), or None for the default"
                ]
            )
        return CheckDef(
            name=name or func.__name__,
            asset=_asset_name(asset),
            fn=func,
            severity=level,
            blocking=blocking,
            description=description or inspect.getdoc(func),
            sample_size=sample_size,
            additional_deps=tuple(_asset_name(dep) for dep in additional_deps),
            per_partition=per_partition,
            takes_context=_takes_context(name or func.__name__, func, "check"),
            code_version=source_hash(func),
        )

    return wrap(fn) if fn is not None else wrap


class Definitions:
    """A validated set of assets and checks; a broken set never reaches run time."""

    def __init__(
        self,
        assets: Iterable[AssetDef] = (),
        checks: Iterable[CheckDef | MultiCheckDef] = (),
        *,
        schedules: Iterable[Schedule] = (),
        sensors: Iterable[FileSensor] = (),
        failing_sample_size: int = 20,
    ) -> None:
        self.assets: dict[str, AssetDef] = {}
        self.checks: list[CheckDef] = []
        self.schedules: tuple[Schedule, ...] = tuple(schedules)
        self.sensors: tuple[FileSensor, ...] = tuple(sensors)
        self.failing_sample_size = failing_sample_size
        problems = self._collect(list(assets), _each_check(checks))
        deps = {name: [d for d in a.deps if d in self.assets] for name, a in self.assets.items()}
        try:
            graphlib.TopologicalSorter(deps).prepare()
        except graphlib.CycleError as exc:
            problems.append(f"dependency cycle: {format_cycle(exc.args[1])}")
        if problems:
            raise DefinitionError(problems)
        self.graph = AssetGraph({name: a.deps for name, a in self.assets.items()})
        self.checks.sort(key=lambda check: check.key)
        if problems := self._check_dependency_problems():
            raise DefinitionError(problems)
        if self.schedules or self.sensors:
            from pipeline import automation  # imports the selection parser, which imports us

            if problems := automation.problems(self):
                raise DefinitionError(problems)

    @property
    def automations(self) -> dict[str, Schedule | FileSensor]:
        """Every schedule and sensor by name."""
        items: list[Schedule | FileSensor] = [*self.schedules, *self.sensors]
        return {item.name: item for item in items}

    def _check_dependency_problems(self) -> list[str]:
        problems = []
        for check in self.checks:
            for dep in check.additional_deps:
                if dep not in self.assets:
                    problems.append(
                        f"check '{check.key}' reads unknown asset '{dep}'."
                        f"{suggest(dep, self.assets)}"
                    )
                elif dep == check.asset or dep in self.graph.downstream(check.asset):
                    problems.append(
                        f"check '{check.key}' reads '{dep}', which is built from"
                        f" '{check.asset}': a check can only read assets upstream of or"
                        " independent from its own"
                    )
            if check.blocking and check.multi is not None:
                later = [n for n in check.waits_for if n in self.graph.downstream(check.asset)]
                if later:
                    problems.append(
                        f"check '{check.key}' is blocking, but its @multi_asset_check"
                        f" '{check.multi.name}' also checks '{later[0]}', which is built from"
                        f" '{check.asset}': the function runs once '{later[0]}' is built, too"
                        " late to hold it back. Make the spec non-blocking, or declare it as"
                        " an @asset_check of its own"
                    )
        # Only a blocking check that reads other assets adds an edge into the asset graph, which
        # is already known to be acyclic: without one, this sort cannot fail and is skipped
        # (it was a third of building 10,000 assets, see BENCHMARKS.md).
        if not problems and any(c.blocking and c.waits_for for c in self.checks):
            try:
                graphlib.TopologicalSorter(self.execution_graph(set(self.assets))).prepare()
            except graphlib.CycleError as exc:
                path = format_cycle([str(node) for node in exc.args[1]])
                problems.append(f"blocking checks wait on each other in a cycle: {path}")
        return problems

    def deferred_checks(self, names: set[str]) -> dict[str, CheckDef]:
        """Checks of `names` that must wait for other assets rebuilt in the same run, by key."""
        return {
            check.key: check
            for check in self.checks
            if check.asset in names and names.intersection(check.waits_for)
        }

    def execution_graph(self, names: set[str]) -> dict[str | CheckNode, set[str | CheckNode]]:
        """What waits for what when `names` are rebuilt: assets, plus deferred checks as nodes.

        A deferred check waits for its asset and the other assets it reads; when it is blocking,
        the downstream of its asset waits for it.
        """
        graph: dict[str | CheckNode, set[str | CheckNode]] = {
            name: {parent for parent in self.graph.parents(name) if parent in names}
            for name in names
        }
        for key, check in self.deferred_checks(names).items():
            node = CheckNode(key)
            graph[node] = {check.asset, *names.intersection(check.waits_for)}
            if check.blocking:
                for child in self.graph.children(check.asset):
                    if child in names:
                        graph[child].add(node)
        return graph

    def _collect(self, assets: list[AssetDef], checks: list[CheckDef]) -> list[str]:
        problems = []
        for item in [*assets, *checks]:
            if not isinstance(item, AssetDef | CheckDef):
                problems.append(
                    f"{item!r} is not an @asset, @asset_check or @multi_asset_check definition"
                )
        assets = [a for a in assets if isinstance(a, AssetDef)]
        checks = [c for c in checks if isinstance(c, CheckDef)]
        for name, count in Counter(a.name for a in assets).items():
            if count > 1:
                problems.append(
                    f"asset name '{name}' is defined {count} times; names must be unique"
                )
        problems += _name_problems(assets)
        self.assets = {a.name: a for a in sorted(assets, key=lambda a: a.name)}
        problems += unknown_dependencies({name: a.deps for name, a in self.assets.items()})
        for key, count in Counter(c.key for c in checks).items():
            if count > 1:
                problems.append(f"check '{key}' is defined {count} times; give each a unique name")
        for check in checks:
            if check.asset not in self.assets:
                problems.append(
                    f"check '{check.name}' targets unknown asset '{check.asset}'."
                    f"{suggest(check.asset, self.assets)}"
                )
        self.checks = checks
        return problems

    def find_check(self, wanted: CheckKey | str) -> CheckDef:
        """The check with key `wanted` ('asset.check' text, or a CheckKey); SelectionError
        with the nearest keys when there is none, or when the text names two checks."""
        if isinstance(wanted, CheckKey):
            found = [c for c in self.checks if c.check_key == wanted]
        else:
            found = [c for c in self.checks if c.key == wanted]
        if len(found) == 1:
            return found[0]
        if found:  # asset 'a.b' check 'c' and asset 'a' check 'b.c' read alike
            pairs = ", ".join(f"asset {c.asset!r} check {c.name!r}" for c in found)
            raise SelectionError(f"'{wanted}' names {len(found)} checks ({pairs}); rename one")
        hint = suggest(str(wanted), [c.key for c in self.checks])
        raise SelectionError(f"no check '{wanted}': write it as asset.check.{hint}")

    def checks_for(self, asset_name: str) -> list[CheckDef]:
        return [check for check in self.checks if check.asset == asset_name]


def _each_check(checks: Iterable[Any]) -> list[Any]:
    """The checks given, each @multi_asset_check replaced by the checks of its specs."""
    return [
        check
        for item in checks
        for check in (item.checks if isinstance(item, MultiCheckDef) else (item,))
    ]


def _name_problems(assets: list[AssetDef]) -> list[str]:
    """Names DuckDB cannot keep apart or hold: each would make two assets share one table."""
    problems = []
    by_folded: dict[str, set[str]] = {}
    for item in assets:
        by_folded.setdefault(item.name.casefold(), set()).add(item.name)
    for names in by_folded.values():
        if len(names) > 1:
            shown = " and ".join(repr(n) for n in sorted(names))
            problems.append(
                f"assets {shown} differ only in case; DuckDB ignores case in names, so they"
                " would be one table: rename one of them"
            )
    for item in assets:
        if not item.name.strip() or any(ord(ch) < 32 or ord(ch) == 127 for ch in item.name):
            problems.append(
                f"asset name {item.name!r} is empty or holds control characters; use a name"
                " such as 'daily_sales'"
            )
        elif item.name.casefold().startswith("__assetboard_"):
            problems.append(
                f"asset name {item.name!r} starts with '__assetboard_', which Assetboard keeps"
                " for its scratch views; rename it"
            )
    return problems


def load_definitions(target: str, *, reload: bool = False) -> Definitions:
    """Import `package.module` (or a path to a .py file) and return its Definitions.

    A module-level `defs` wins; otherwise every decorated asset and check in the module is used.
    A .py file is executed afresh each time; a dotted module is imported once per process
    unless `reload` (the dashboard reloads it when its file changed).
    """
    module = _import(target, reload)
    defs = getattr(module, "defs", None)
    if isinstance(defs, Definitions):
        return defs
    members = vars(module).values()
    assets = [m for m in members if isinstance(m, AssetDef)]
    if not assets:
        raise DefinitionError(
            [
                f"module '{target}' has no `defs = Definitions(...)` and no @asset functions;"
                " define one of them"
            ]
        )
    return Definitions(
        assets=assets, checks=[m for m in members if isinstance(m, CheckDef | MultiCheckDef)]
    )


def file_module_name(path: Path) -> str:
    """The name a definitions file is imported under: unique per path, never an existing module.

    Registering a user's `pipeline.py` as `pipeline` would replace this very package, and two
    projects' `defs.py` would replace each other; a name made from the path's hash avoids both.
    """
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:12]
    stem = re.sub(r"\W", "_", path.stem)
    return f"_assetboard_defs_{digest}_{stem}"


def _import_file(path: Path) -> ModuleType:
    """Import a .py file as `python path` would see it: its folder first on sys.path (for its
    sibling imports) while it runs, then sys.path as it was. It stays in sys.modules, where
    dataclasses and pickling look modules up; a failed import leaves nothing behind."""
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    name = file_module_name(path)
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    folder = str(path.parent)
    sys.path.insert(0, folder)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    finally:
        if sys.path[:1] == [folder]:
            del sys.path[0]
        elif folder in sys.path:  # the module moved our entry: remove it wherever it is
            sys.path.remove(folder)
    return module


def definitions_stamp(target: str) -> float | None:
    """When the file behind `target` last changed (None when it cannot be found): a cache of
    loaded definitions is good until this changes."""
    try:
        if target.endswith(".py"):
            return Path(target).resolve().stat().st_mtime
        spec = importlib.util.find_spec(target)
        origin = spec.origin if spec is not None else None
        return Path(origin).stat().st_mtime if origin else None
    except (ImportError, OSError, ValueError):
        return None


def _import(target: str, reload: bool = False) -> ModuleType:
    try:
        if target.endswith(".py"):
            return _import_file(Path(target).resolve())
        if reload and target in sys.modules:
            return importlib.reload(sys.modules[target])
        return importlib.import_module(target)
    except DefinitionError:
        raise
    except Exception as exc:  # any import-time failure is the user's module, not ours
        raise DefinitionError(
            [
                f"cannot load definitions module '{target}': {type(exc).__name__}: {exc}."
                " Pass --defs a dotted module importable from the current directory"
                " (e.g. pipeline.examples.sales) or a path to a .py file"
            ]
        ) from exc
