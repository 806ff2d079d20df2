"""Reads of the reports, for the views, the API and the CLI."""

from __future__ import annotations

from service.reports.regions import (  # noqa: F401 (the reports' reads, in one place)
    UNKNOWN,
    Dashboard,
    Figures,
    RegionRow,
    check_region,
    parse_year,
    region_dashboard,
    region_detail,
    require_reports,
)
from service.reports.service_stats import NOT_ATTRIBUTED, ServiceStats, service_stats  # noqa: F401
