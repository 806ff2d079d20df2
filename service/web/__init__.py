"""The HTML front end: request glue shared by the blueprints.

- ``background``: work a request hands on once its transaction has committed: an import to run, a message to
  send.
- ``chain``: the chain of standards drawn on an instrument's page: the nodes, their links and the diagram.
- ``context``: per-request state: the database session (one commit per request), the actor, today's date.
- ``downloads``: file downloads: spooled while written, sent with a UTF-8 file name and a plain fallback.
- ``errors``: mapping errors to responses in one place: HTML pages for the UI, JSON for the API.
- ``forms``: small helpers for HTML forms: posted values and re-rendering with field errors.
- ``i18n``: language selection and translation of domain messages at the boundary.
- ``mail``: transactional email of the web front end (password resets, invitations).
- ``main``: the dashboard (a firm's, or the institute's home) and the health check.
- ``templating``: names of codes in the user's language, and helpers every template may use.
"""
