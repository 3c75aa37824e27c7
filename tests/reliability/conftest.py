"""Fault-injection tests start real processes: none may outlive its test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from harness import kill_leftovers


@pytest.fixture(autouse=True)
def _no_leftover_processes() -> Iterator[None]:
    yield
    kill_leftovers()
