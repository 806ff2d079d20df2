"""Excel and CSV import and export of ledgers, in the layout real firms keep them."""
