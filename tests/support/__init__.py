"""Helpers for tests: real processes started and stopped by pid, and condition waits."""
