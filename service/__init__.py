"""The application: domain operations, web views, JSON API, CLI and jobs."""
