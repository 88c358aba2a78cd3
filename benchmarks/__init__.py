"""Benchmarks for airflow-provider-music (issue 6): ``python -m benchmarks [--quick]``; see BENCHMARKS.md."""
