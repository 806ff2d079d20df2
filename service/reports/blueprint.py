"""The reports' blueprint: the firm's and the institute's report pages register on it."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("reports", __name__, url_prefix="/reports")
