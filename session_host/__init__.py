"""Stateful daemon: one headless Chrome per agent driving WhatsApp Web, consuming RQ jobs."""
