"""Reports: the figures firms and the institute measure themselves by, as pages, charts, xlsx and API."""
