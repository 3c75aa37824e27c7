"""Settings read from the environment: a bad value is a clear error, never a traceback."""

import pytest

from pipeline.config import DEFAULT_LOCK_WAIT_SECONDS, LOCK_WAIT_VARIABLE, lock_wait_seconds
from pipeline.errors import PipelineError


def test_lock_wait_defaults_when_unset_or_blank(monkeypatch):
    monkeypatch.delenv(LOCK_WAIT_VARIABLE, raising=False)
    assert lock_wait_seconds() == DEFAULT_LOCK_WAIT_SECONDS == 10.0
    monkeypatch.setenv(LOCK_WAIT_VARIABLE, "  ")
    assert lock_wait_seconds() == 10.0


@pytest.mark.parametrize(("text", "seconds"), [("0", 0.0), ("2.5", 2.5), (" 30 ", 30.0)])
def test_lock_wait_reads_seconds(monkeypatch, text, seconds):
    monkeypatch.setenv(LOCK_WAIT_VARIABLE, text)
    assert lock_wait_seconds() == seconds


@pytest.mark.parametrize("text", ["abc", "-1", "nan", "inf", "1e400", "10s"])
def test_lock_wait_refuses_what_is_not_a_number_of_seconds(monkeypatch, text):
    monkeypatch.setenv(LOCK_WAIT_VARIABLE, text)
    with pytest.raises(
        PipelineError,
        match=rf"ASSETBOARD_LOCK_WAIT={text!r} is not a number of seconds >= 0: set it to e\.g\."
        r" ASSETBOARD_LOCK_WAIT=10 \(seconds to wait for a database held by another process\)"
        r" or unset it",
    ):
        lock_wait_seconds()
