"""Excel and CSV import and export of ledgers, in the layout real firms keep them.

- ``changes``: what an import creates and changes, row by row: the preview's "what will change".
- ``columns``: the ledger's spreadsheet layout: one column per instrument field, with the headers people
  use.
- ``export_runner``: ledger exports as background jobs: claimed under a lease, written row by row, kept for
  a day.
- ``exporter``: Export a ledger to xlsx or CSV in the import template's layout, streamed row by row.
- ``headers``: what a column header names: the exact names of the columns, then the words it contains.
- ``importer``: importing a ledger spreadsheet: read and check it without writing, then create or update
  instruments.
- ``operations``: what users do to a ledger import: upload a file, correct how it is read, confirm, discard;
  and queue an export.
- ``parsing``: reading a ledger sheet as people keep it: where the header is, what each column means, what
  each cell says.
- ``queries``: reading ledger imports and exports: one job, the firm's recent jobs, an import's changes,
  progress.
- ``reader``: reading an uploaded spreadsheet into rows of cell values, refusing hostile or unusable files
  first.
- ``runner``: ledger imports as background jobs: claiming a job under a lease, running it, saving its
  progress.
- ``sandbox``: reading an uploaded file in a child process under resource limits, so that no file takes the
  caller down.
- ``stored``: an import report as JSON in the database, and back, with its messages still untranslated.
- ``template``: the downloadable import template: the export's header, one example row, and a sheet of
  notes.
- ``views``: import and export pages: upload, watch, correct, preview and import a file; export to xlsx.
- ``writing``: writing an import's rows in bulk, by the same rules as one edit at a time.
"""
