"""Synthetic worlds, leaks and labelled corpora for the demo, the tests and the benchmarks."""
