"""The report printed: the HTML document through WeasyPrint (A4 landscape, page numbers, repeated table headers)."""

from __future__ import annotations

from weasyprint import HTML

from reports.html import render_html
from service.reports import Report


def render_pdf(report: Report) -> bytes:
    document = HTML(string=render_html(report), media_type="print")
    return document.write_pdf()  # type: ignore[no-any-return]
