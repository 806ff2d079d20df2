"""Reminders: the policy, planning digests into the outbox, dispatching them, the calendar feed.

- ``calendar_feed``: A personal iCalendar feed of due dates, served at a secret, revocable address.
- ``case_reminders``: reminders of open nonconformity cases, planned with the firm's due-date reminders.
- ``channels``: the channel adapters a send needs, built once from the configuration (robots per firm).
- ``dispatch``: dispatch: claim messages from the outbox, send them, record what the provider said.
- ``feed_views``: the calendar feed: its secret address for calendar apps, and creating or stopping it.
- ``messages``: the words of reminders: digests rendered per channel and language from
  ``templates/reminders/messages``.
- ``notices``: messages other than digests: a test message to oneself, the SMS-ceiling notice, notices of
  changes.
- ``operations``: what people and providers do to reminders: channel choices, opt-outs, delivery reports,
  the outbox.
- ``outbox``: rows of the notifications outbox: their addresses, idempotency keys and initial state.
- ``planning``: planning: once a day per firm, turn the instruments that reach a step of the ladder into
  digests.
- ``policy``: A firm's reminder policy: reading it (with defaults), checking and saving changes.
- ``queries``: reading reminders: the outbox, a user's in-app reminders, the reminders an instrument caused.
- ``rules``: reminder rules as pure functions: the ladder, the overdue escalation, the sending window.
- ``views``: reminder pages: the firm's policy, the outbox, one's own reminders and channels, a test
  message.
- ``webhook_views``: Twilio's callbacks: delivery status reports and inbound SMS (STOP/退订, START).
"""
