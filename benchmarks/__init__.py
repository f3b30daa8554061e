"""Benchmarks: each script measures one claim and prints ratios from one run."""
