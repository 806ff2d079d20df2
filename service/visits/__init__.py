"""The institute's workspace: technicians, the due board, visit planning, client confirmation, on-site work.

- ``batching``: visit planning (上门校准): batch each client's due instruments into as few visits as possible.
- ``board``: the institute's view across its linked clients: the directory's counts and the due board.
- ``board_views``: the institute's pages: the due board across linked clients (and its xlsx), and the
  technicians.
- ``disciplines``: disciplines (专业) of measurement: which kind of technician and standard an instrument
  needs.
- ``home``: the institute's home: what staff and technicians need on arrival, across its linked clients.
- ``operations``: visits from proposal to completion: created by staff, answered by the client, worked on
  site.
- ``proposals``: planning visits from the database: the linked clients' due instruments and the technicians'
  time.
- ``queries``: reading visits as each side sees them: the institute's to linked clients, a firm's from its
  institutes.
- ``schemas``: what technicians and visit plans accept and show (web forms and API alike).
- ``technicians``: the institute's technicians: their disciplines, daily capacity and days off.
- ``views``: visit pages: the institute's plan and visits, the technician's worksheet, the client's answers.
"""
