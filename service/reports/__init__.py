"""Reports: dashboards and statistics over the figures of :mod:`service.figures`."""
