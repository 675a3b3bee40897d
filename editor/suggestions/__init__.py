"""Suggestion mode (issue 22): insertions, deletions and new units proposed in the live text,
accepted or rejected by others on the server. See `service` for the rules."""
