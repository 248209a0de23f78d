"""The report as HTML (Jinja): a whole document with its print CSS, or the article alone for a page to embed."""

from __future__ import annotations

from functools import cache

from jinja2 import Environment, PackageLoader, select_autoescape

from reports import words
from service.reports import Report


@cache
def environment() -> Environment:
    return Environment(loader=PackageLoader("reports", "templates"), autoescape=select_autoescape(["html"]))


@cache
def css() -> str:
    return environment().loader.get_source(environment(), "report.css")[0]  # type: ignore[union-attr]


def render_html(report: Report) -> str:
    """A standalone document: opened in a browser, printed, or handed to WeasyPrint."""
    return environment().get_template("report.html").render(report=report, w=words, css=css())


def render_fragment(report: Report) -> str:
    """The report's <article> alone, for a page (/plans/<id>/report) to embed; its styles are `css()`."""
    return environment().get_template("report_body.html").render(report=report, w=words)
