"""Award nominations: the evidence dossier a firm's own history gives, and the self-check table.

- ``dossier``: the evidence dossier as of a date: every figure with its parts and the instruments behind it.
- ``self_check``: the 33 items of the programme's self-check table, and the answers the dossier gives.
- ``queries``: reading the dossier and the pre-filled self-check for the organisation being worked on.
- ``schemas``: the dossier's query string and output, for the API.
- ``views``: the firm's evidence page and the instruments behind each figure.

The figures themselves (coverage, on-time rate, inspection rate) are in :mod:`service.figures`,
which the reports share.
"""
