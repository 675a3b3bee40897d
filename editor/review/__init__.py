"""Petitioner review: private, revocable links through which each petition's petitioners read the
current wording of the units that come from their petition, compare it with their proposal and
with what they last reviewed, and approve or object; the committee's dashboard of outcomes; and
re-review requests (with outbox notifications) when a reviewed wording changes later.

Modules: `models` (links, reviews, re-review requests), `service` (the rules, no Flask request
needed), `views` (the petitioner's page, the committee dashboard and their JSON API).
"""
