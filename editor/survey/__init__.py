"""The survey: questionnaires, respondents and their free-text answers, coded into themes.
`models` (the tables), `service` (import, synthesis, receipts), `coder` (theme coding, trends),
`views` (the survey pages), `cli` (`constituent survey …`)."""
