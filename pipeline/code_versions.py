"""Default code versions: a hash of what a function does, so an asset goes stale when its code
or the values its factory closed over change, and not when the file around it is reformatted."""

from __future__ import annotations

import functools
import hashlib
import inspect
import re
from collections.abc import Callable, Mapping
from dataclasses import fields, is_dataclass
from datetime import date, time, timedelta
from decimal import Decimal
from enum import Enum
from fractions import Fraction
from pathlib import PurePath
from types import CodeType
from typing import Any
from uuid import UUID


def source_hash(fn: Callable[..., Any]) -> str:
    """Default code version: changes whenever the function's source changes, or a value it
    closes over or takes as a default (`row_count("t", min=1)` -> `min=5`, the SQL text given
    to a user's factory).

    The source is hashed once per code object: a factory making 2,000 assets makes 2,000
    closures of one function, and inspect.getsource reads and parses the file every time (half
    of `list` on 2,000 assets). A function closing over nothing keeps its source's hash.
    """
    if isinstance(fn, functools.partial):
        bound = _stable((fn.args, fn.keywords))
        return hashlib.sha256(f"{source_hash(fn.func)}\n{bound}".encode()).hexdigest()[:12]
    code = getattr(fn, "__code__", None)
    if isinstance(code, CodeType):
        values = _closed_over(fn, code, 0)
        if not values:
            return _code_hash(code)  # closures of one function share their code object
        return hashlib.sha256(f"{_code_hash(code)}\n{values}".encode()).hexdigest()[:12]
    return _hash(fn, f"{getattr(fn, '__module__', '')}.{getattr(fn, '__qualname__', repr(fn))}")


# Values whose repr is the value itself, the same in every process: counted by value, so an
# asset reading `Path("data")` changes version when pointed at `Path("/tmp/other")`.
_PLAIN = (
    str,
    int,
    float,
    complex,
    bool,
    bytes,
    type(None),
    date,  # and datetime
    time,
    timedelta,
    Decimal,
    Fraction,
    UUID,
    PurePath,  # Path, PosixPath, WindowsPath
    range,
)
_MAX_DEPTH = 4  # functions and dataclasses inside closures: far enough, and no endless loop


def _closed_over(fn: Any, code: CodeType, depth: int) -> str:
    """The values `fn` closes over and its defaults, as text that is the same in every process.

    Plain values (text, numbers, paths, dates, UUIDs, enums) and containers, dataclasses and
    functions made of them count by value. Any other object counts by its type's name only:
    its repr may hold a memory address (`<Conn object at 0x7f...>`) or live state (a
    connection, a lock), which would give it a new version in every process."""
    parts = []
    for name, cell in zip(code.co_freevars, getattr(fn, "__closure__", None) or (), strict=False):
        try:
            value = cell.cell_contents
        except ValueError:  # a cell not yet filled
            parts.append(f"{name}=<empty>")
            continue
        parts.append(f"{name}={_stable(value, depth)}")
    if defaults := getattr(fn, "__defaults__", None):
        parts.append(f"defaults={_stable(defaults, depth)}")
    if kwdefaults := getattr(fn, "__kwdefaults__", None):
        parts.append(f"kwdefaults={_stable(kwdefaults, depth)}")
    return "\n".join(parts)


def _stable(value: Any, depth: int = 0) -> str:
    """`value` as text that only changes when the value does, across processes."""
    if isinstance(value, Enum):
        return f"{type(value).__qualname__}.{value.name}"
    if isinstance(value, _PLAIN):
        return repr(value)
    if isinstance(value, re.Pattern):
        return f"re.compile({value.pattern!r}, {value.flags})"
    kind = type(value).__qualname__
    if depth >= _MAX_DEPTH:
        return kind
    if isinstance(value, list | tuple):
        return f"{kind}({', '.join(_stable(v, depth + 1) for v in value)})"
    if isinstance(value, set | frozenset):
        return f"{kind}({', '.join(sorted(_stable(v, depth + 1) for v in value))})"
    if isinstance(value, Mapping):
        items = (f"{_stable(k, depth + 1)}: {_stable(v, depth + 1)}" for k, v in value.items())
        return f"{kind}({', '.join(items)})"
    if inspect.isfunction(value):
        values = _closed_over(value, value.__code__, depth + 1)
        return f"function({_code_hash(value.__code__)}; {values})"
    if is_dataclass(value) and not isinstance(value, type):
        shown = (f"{f.name}={_stable(getattr(value, f.name), depth + 1)}" for f in fields(value))
        return f"{kind}({', '.join(shown)})"
    return kind


@functools.lru_cache(maxsize=4096)
def _code_hash(code: CodeType) -> str:
    return _hash(code, f"{code.co_filename}:{code.co_qualname}")


def _hash(source_of: Any, fallback: str) -> str:
    try:
        source = inspect.getsource(source_of)
    except (OSError, TypeError):
        source = fallback
    return hashlib.sha256(source.encode()).hexdigest()[:12]
