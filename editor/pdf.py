"""HTML to PDF with WeasyPrint: the weekly report and the public text, from the same markup as
their pages.

Nothing is fetched while rendering: stylesheets are given as files of web/static, charts are
inline SVG, and every other URL the markup names (a stylesheet link, an image) is refused, so a
PDF never reaches the network or reads files it was not given.

WeasyPrint needs Pango (≥ 1.44) on the machine: on Debian, the packages libpango-1.0-0,
libpangoft2-1.0-0 and libharfbuzz-subset0, and a font (fonts-dejavu-core).
"""

from __future__ import annotations

from pathlib import Path

STATIC = Path(__file__).resolve().parent.parent / "web" / "static"

#: Page rules for a document's text: A4, margins, its title and the page number in the margins.
DOCUMENT_PAGE_CSS = """
@page { size: A4; margin: 22mm 20mm 24mm;
  @bottom-center { content: counter(page) " / " counter(pages); font: 9pt 'DejaVu Sans', sans-serif; color: #4b5563; }
  @top-center { content: string(doc-title); font: 9pt 'DejaVu Sans', sans-serif; color: #4b5563; } }
@page :first { @top-center { content: none; } }
h1 { string-set: doc-title content(); }
main { max-width: none; padding: 0; }
.permalink { display: none; }
h2, h3, h4, h5 { break-after: avoid; }
p { orphans: 2; widows: 2; }
"""


class PdfUnavailable(RuntimeError):
    """WeasyPrint or the libraries it needs (Pango) are not installed."""


def _weasyprint():
    try:
        import weasyprint
    except (ImportError, OSError) as exc:  # OSError: Pango missing
        raise PdfUnavailable(f"WeasyPrint cannot be loaded ({exc})") from None
    return weasyprint


def available() -> bool:
    try:
        _weasyprint()
    except PdfUnavailable:
        return False
    return True


def _no_fetching():
    weasyprint = _weasyprint()
    from weasyprint.urls import URLFetcher

    class NoFetcher(URLFetcher):
        """Refuses every URL: what a PDF shows is in its markup and the stylesheets given."""

        def fetch(self, url, headers=None):
            if url.startswith("data:"):
                return super().fetch(url, headers)
            raise ValueError(f"not fetched while making a PDF: {url[:200]}")

    return weasyprint, NoFetcher()


def html_to_pdf(html: str, stylesheets: tuple[str, ...] = (), page_css: str = "") -> bytes:
    """The PDF of `html` (its <title> becomes the PDF's), styled by `stylesheets` (file names in
    web/static) and `page_css`."""
    weasyprint, fetcher = _no_fetching()
    sheets = [weasyprint.CSS(filename=str(STATIC / name), url_fetcher=fetcher) for name in stylesheets]
    if page_css:
        sheets.append(weasyprint.CSS(string=page_css, url_fetcher=fetcher))
    document = weasyprint.HTML(string=html, base_url=str(STATIC) + "/", url_fetcher=fetcher, media_type="print")
    return document.write_pdf(stylesheets=sheets)
