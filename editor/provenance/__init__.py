"""Provenance: why each clause exists.

Three sources motivate clauses: petitions (with signatures over time, thresholds, obligations and
hearings), a survey (questions, respondents, free-text answers coded into themes) and citizen
events (registered discussions and their conclusions). A `ProvenanceLink` ties a unit, by its
GUID, to one source; links therefore follow a unit through edits, renumbering and moves.

Modules: `models` (the tables), `text` (Spanish-aware folding and similarity), `petitions`,
`survey` and `coder`, `links` (linking, suggestions, what became of a linked unit), and the
pages and API built on them.
"""
