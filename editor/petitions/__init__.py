"""Petitions: signatures over time, thresholds and the obligations they create, hearings, and the
articles a petition's references name. `models` (the tables), `service` (import, thresholds,
references), `views` (the committee's pages), `cli` (`constituent petitions …`)."""
