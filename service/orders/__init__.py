"""Service orders (网上申报、样品邮寄、专人受理): a client's instruments calibrated by its institute.

- ``operations``: service orders from submission to return: the client asks, the institute does the work.
- ``queries``: reading service orders, as each side sees them: the firm's own, the institute's from linked
  clients.
- ``schemas``: what service orders accept (web forms and API alike).
- ``views``: service order pages: the client's orders and order form, the institute's orders and their work.
"""
