"""The measurement pages' blueprint: each subpackage's views register on it."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("measurement", __name__)
