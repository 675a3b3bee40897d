"""Comments of the drafting side on units and on ranges of their text.

A comment belongs to a unit by GUID (never by position), so it follows its unit through
edits, renumbering and moves. A comment on a range also keeps where the range is as two Yjs
relative positions (the browser's y-prosemirror binding resolves them against the live text,
whatever was typed since) and the text it quoted when it was made, which locates or names the
range when the positions no longer can (its text was deleted, or the unit was moved).

Threads are one level deep: a comment and its replies. A thread is resolved and reopened as a
whole. Only `permissions.can_comment` accounts read or write comments.
"""
