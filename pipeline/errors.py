"""Every error the pipeline raises on purpose derives from one root, so callers catch one type."""

from __future__ import annotations


class PipelineError(Exception):
    """Root of the errors a user can act on; the message says what is wrong and how to fix it."""


class DefinitionError(PipelineError):
    """The definitions cannot be built: all problems are collected and reported at once."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = sorted(problems)
        lines = "\n".join(f"  - {problem}" for problem in self.problems)
        count = len(self.problems)
        super().__init__(f"{count} problem{'s' if count != 1 else ''} in the definitions:\n{lines}")


class SelectionError(PipelineError):
    """A selection string does not parse or names something that does not exist.

    `unknown` is what it names that does not exist ("asset", "group", "kind"), None when it does
    not parse: a page says which, as "does not parse" for a typo in a name misleads.
    """

    def __init__(self, message: str, unknown: str | None = None) -> None:
        super().__init__(message)
        self.unknown = unknown


class WarehouseLockedError(PipelineError):
    """Another process holds the DuckDB file; DuckDB allows only one writer process."""


class RunInProgressError(PipelineError):
    """A run is already materializing this database; two runs must never rebuild the same asset."""


class AssetFailure(PipelineError):
    """An asset could not be built; the previous table or view is left as it was."""


class ReportError(PipelineError):
    """No report can be built: no runs yet, or the run asked for does not exist."""

    def __init__(self, message: str, recent_run_ids: list[int] | None = None) -> None:
        super().__init__(message)
        self.recent_run_ids = recent_run_ids or []


class DatabaseFileError(PipelineError):
    """The --db path cannot be a DuckDB warehouse: empty, a folder, another kind of file."""


class HistoryError(PipelineError):
    """The run history beside the database cannot be read or written."""
