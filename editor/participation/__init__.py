"""The public takes part: residents comment on clauses and support them, moderators keep it civil.

* **Participants** are light accounts: an e-mail address, verified by a one-time link or a
  6-digit code sent through the outbox, and a display name. No password. A participant's
  sign-in lives under its own key of the session, beside (never instead of) a staff account's.
* **Comments and support** attach to a unit by GUID, like the drafting side's comments, but are
  a separate stream: they are public, moderated, and written by people without an account role.
  A comment may quote words of its clause; replies are one level deep. Support is one per
  participant and target (a clause or a comment), and can be withdrawn.
* **When** the public may comment is a stage setting: open in a consultation stage, closed
  otherwise, unless the document's administrator opens or closes a stage by hand.
* **Moderation** is per document: pre-moderation (nothing shows until a moderator approves it)
  or post-moderation (it shows at once and can be hidden later, with a public reason). Rate
  limits and spam heuristics (too many links, the same text again) send comments to the queue
  even under post-moderation. Every moderator's action is in the audit log, and a participant
  whose comment is hidden is told why by e-mail.
* **Citizen events** (`calendar`, `event_files`, `ical`, `event_views`): a participant registers a
  discussion on the public calendar; it shows once a moderator approves it (then it is a
  `CitizenEvent`, the provenance feature's source). After it, its organiser uploads conclusions
  with PDF and image attachments checked by their content; they are moderated too, reach the
  committee's weekly report, and the committee links the event to clauses. An iCal feed lists the
  approved events to come.
* **Nothing a participant writes reaches the legal text.** This package reads the live text
  (to find the clause a comment is about) and never changes it: it imports no writer of the
  text, and tests/test_participation.py holds it to that.
"""
