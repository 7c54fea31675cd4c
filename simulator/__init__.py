"""Offline stand-in for WhatsApp Web (page + control API) and a demo AI backend."""
