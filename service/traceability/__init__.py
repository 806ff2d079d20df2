"""Traceability: calibration records, certificates, QR labels, interval review and the chain of standards.

- ``audit_export``: an instrument's complete history as an xlsx workbook, for auditors.
- ``certificates``: the institute's certificates: running numbers, and results written into a client's
  ledger.
- ``chain``: the chain of standards above an instrument: its calibration, the standards used, theirs, and so
  on.
- ``chain_svg``: the traceability chain of an instrument, drawn as a server-side SVG diagram.
- ``check``: the public certificate check: what an inspector sees when scanning a record's QR label.
- ``check_links``: the public address of a record's certificate check: what its QR label encodes.
- ``check_views``: QR labels and the public certificate check their code opens.
- ``files``: attachment files of calibration records: content-addressed storage, type checks, download
  headers.
- ``interval_review``: interval review of one instrument: its as-found history in, a suggestion out, a
  person decides.
- ``interval_suggestion``: suggesting a new calibration interval from an instrument's own as-found history:
  pure functions.
- ``labels``: QR labels: the data a record's label carries, its QR code and the label as a 60 × 40 mm SVG.
- ``operations``: recording verification and calibration results, correcting them, confirming calibrations.
- ``queries``: reading records, their attachments and an instrument's record history.
- ``reverse``: reverse traceability: what an institute's standard calibrated, once it is found out of
  tolerance.
- ``schemas``: what a calibration record accepts and shows (web forms and API alike).
- ``standards_views``: the chain of standards on an instrument's page, and the institute's reverse
  traceability pages.
- ``views``: record pages: record a result, read a record, confirm a calibration, correct, attach files.
"""
