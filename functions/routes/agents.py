"""Agent endpoints: run (AI proxy), messages, media — Bearer-authenticated."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("agents", __name__, url_prefix="/agents")
