"""The public face of a document's process: what it is and where it stands, and what became of
what the public gave it.

* the process page (`/d/<slug>/process`): the stages as a timeline with the dates they actually
  started and their planned dates, the next deadline, what anyone can do now, participation
  figures counted from the records, and the latest changes to the text (timeline, figures);
* accountability for every petition: its review outcome and the adopted amendments that later
  changed its clauses, on its public page, and the results page of every petition that crossed
  a threshold (accountability);
* the public dashboard (`/d/<slug>/dashboard`): the aggregate, anonymous parts of the
  committee's weekly report (editor.report computes them; nothing is computed twice).

Everything here only reads. Readers of a document see it; an unpublished document's pages are
404 to those who may not read it, like every page of a document.
"""
