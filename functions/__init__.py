"""Stateless HTTP edge of the gateway: auth, validation, AI proxy, metadata, job enqueueing."""
