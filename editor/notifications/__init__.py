"""Notifications (issue 22): mentions in comments, replies, threshold crossings, obligations due
and stage changes reach people in-app and by e-mail as each chooses per document.

* `texts`: a notification's text is a catalogue key and JSON arguments, rendered in the reader's
  language when it is read (the page, the API, the e-mail in the recipient's language).
* `models`: preferences per person, document and kind; e-mail waiting for the daily digest.
* `service`: who is told what (`notify`), mentions in comments, the digest.
* `views`: the preferences page and the JSON API; `cli`: `constituent notifications …`.
* `handlers`: the stage changes.
"""
