"""A definitions module that fails while importing, as user code sometimes does."""

raise RuntimeError("boom while importing")
