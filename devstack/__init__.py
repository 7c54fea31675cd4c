"""Start the gateway's processes for tests, benchmarks, the demo and `make run`, and stop them by pid."""
