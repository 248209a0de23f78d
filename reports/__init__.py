"""Renderers of the committee report (service.reports.Report): layout only, no business rules."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from service.reports import Report


@dataclass(frozen=True)
class Format:
    media_type: str
    extension: str
    render: Callable[[Report], bytes]


def _html(report: Report) -> bytes:
    from reports.html import render_html

    return render_html(report).encode()


def _pdf(report: Report) -> bytes:
    from reports.pdf import render_pdf

    return render_pdf(report)


def _docx(report: Report) -> bytes:
    from reports.word import render_docx

    return render_docx(report)


def _xlsx(report: Report) -> bytes:
    from reports.spreadsheet import render_xlsx

    return render_xlsx(report)


def _csv(report: Report) -> bytes:
    from reports.spreadsheet import render_csv

    return render_csv(report)


# Imported when first used: WeasyPrint alone takes a second to import.
FORMATS = {
    "html": Format("text/html; charset=utf-8", "html", _html),
    "pdf": Format("application/pdf", "pdf", _pdf),
    "docx": Format("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx", _docx),
    "xlsx": Format("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx", _xlsx),
    "csv": Format("text/csv; charset=utf-8", "csv", _csv),
}


def render(report: Report, fmt: str) -> bytes:
    return FORMATS[fmt].render(report)


def filename(report: Report, fmt: str) -> str:
    """<plan-slug>-as-at-<DATE>.<ext>"""
    return f"{report.slug}-as-at-{report.as_at.isoformat()}.{FORMATS[fmt].extension}"
