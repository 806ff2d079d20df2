"""Award nominations: an institute's campaigns and recommenders, a firm's nomination and its evidence.

- ``dossier``: the evidence dossier as of a date: every figure with its parts and the instruments behind it.
- ``self_check``: the 33 items of the programme's self-check table, and the answers the dossier gives.
- ``phases``: a campaign's phases and what its dates allow (pure rules).
- ``operations``: campaigns, recommenders and nominations created, changed, moved on, submitted;
  nominations recommended or returned, ranked, and recommenders' lists submitted; winners decided,
  objections to the public notice lodged and handled, certificates numbered.
- ``queries``: reading campaigns, recommenders, nominations (a firm's through its client link), the dossier.
- ``schemas``: what the API and the forms take and show.
- ``documents``: the recommendation form, the commitment letter and the honour certificate (Word).
- ``summary``: the summary table of recommended nominations (推荐汇总表), as xlsx and Word.
- ``views``: the firm's evidence and nomination pages, the institute's campaign and recommender pages.
- ``recommender_views``: a recommender's pages (decide, rank, submit its list), on the same blueprint.
- ``review_views``: the reviews: the organiser assigns reviewers and reads the ranking; reviewers score.

- ``award_views``: the organisers' winners and objections, the certificates, and the public notice
  page (公示, no sign-in), on the same blueprint.

The figures themselves (coverage, on-time rate, inspection rate) are in :mod:`service.figures`,
which the reports share.
"""
