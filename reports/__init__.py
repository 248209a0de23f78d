"""Renderers of the committee report (service.reports.Report): layout only, no business rules."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, fields, is_dataclass, replace
from typing import Any

from service.reports import Report

# What XML 1.0 (Word, Excel, and so HTML and the PDF made from it) cannot hold: control characters but tab,
# newline and carriage return. An update posted with one is shown without it, never refused at print time.
NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


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
    return FORMATS[fmt].render(report if fmt == "csv" else xml_safe(report))


def xml_safe(value: Any) -> Any:
    """The report with every text stripped of what XML cannot hold (the CSV keeps the text as posted)."""
    if isinstance(value, str):
        return NOT_XML.sub("", value)
    if isinstance(value, tuple):
        return tuple(xml_safe(v) for v in value)
    if isinstance(value, dict):
        return {k: xml_safe(v) for k, v in value.items()}
    if is_dataclass(value) and not isinstance(value, type):
        return replace(value, **{f.name: xml_safe(getattr(value, f.name)) for f in fields(value) if f.init})
    return value


def filename(report: Report, fmt: str) -> str:
    """<plan-slug>-as-at-<DATE>.<ext>"""
    return f"{report.slug}-as-at-{report.as_at.isoformat()}.{FORMATS[fmt].extension}"
