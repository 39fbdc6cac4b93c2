"""Benchmarks that print figures, each scenario next to its baselines; none of them asserts a time.
`python -m bench` runs them all (bench/__main__.py)."""
