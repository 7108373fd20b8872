"""Benchmarks of leaktrace against its peers; `python -m bench.run` writes bench/RESULTS.md."""
