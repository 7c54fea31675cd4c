"""Tests of the /sessions endpoints, /health, /internal/events, configuration and the database."""
