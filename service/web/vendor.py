"""Front-end packages installed from the npm registry (`make assets`), served by the app itself.

Nothing third-party is committed or loaded from a CDN: the Makefile installs the pinned packages of
``package-lock.json`` into ``node_modules/`` and this blueprint serves the few files pages use.
Without them (no npm on the machine) the file is a 404 and pages keep their tables.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, send_file

from service.web.access import open_to_experts

bp = Blueprint("vendor", __name__, url_prefix="/vendor")

NODE_MODULES = Path(__file__).resolve().parents[2] / "node_modules"
#: The files pages may ask for, by the name they ask for. ECharts' "common" build holds the bar,
#: line and pie charts with their grid, legend, tooltip and mark lines: all the reports draw.
FILES = {"echarts.js": NODE_MODULES / "echarts" / "dist" / "echarts.common.min.js"}
#: The files change only with package-lock.json; a day keeps pages fast without stale versions.
MAX_AGE = 24 * 3600


@bp.get("/<name>")
@open_to_experts
def asset(name: str):
    """Send an installed front-end file, or 404 when it is unknown or not installed."""
    path = FILES.get(name)
    if path is None or not path.is_file():
        abort(404)
    return send_file(path, mimetype="text/javascript", max_age=MAX_AGE, conditional=True)
