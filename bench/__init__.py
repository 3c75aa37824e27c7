"""Assetboard's benchmark harness: `python -m bench --help` (or `make bench`); see BENCHMARKS.md."""
