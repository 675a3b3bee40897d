"""Provenance: why each clause exists.

Three sources motivate clauses: petitions (editor.petitions), a survey coded into themes
(editor.survey) and citizen events (registered discussions and their conclusions, here). A
`ProvenanceLink` ties a unit, by its GUID, to one source; links therefore follow a unit through
edits, renumbering and moves.

Modules: `models` (events, links, suggestion verdicts), `text` (Spanish-aware folding and
similarity), `links` (linking, suggestions, what became of a linked unit), `summaries` (a unit's
sources for the pages and the AKN export), `labels`, `views` (the public "why" pages), `api` (the
editor's provenance panel), `handlers` (the panel's live events).
"""
