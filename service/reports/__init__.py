<<<<<<< HEAD
"""Reports: dashboards and statistics over the figures of :mod:`service.figures`."""
=======
"""Reports: the figures firms and the institute measure themselves by, as pages, charts, xlsx and API."""
>>>>>>> main
