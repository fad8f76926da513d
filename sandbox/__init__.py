"""Local fake Box and DAM servers for tests, the demo and benchmarks (`python -m sandbox serve`)."""
