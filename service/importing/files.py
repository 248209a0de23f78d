"""Reading a plan file (xlsx, csv or docx) into tables of cells, refusing any file that could hurt.

Before a parser sees a zip-based file, every member is checked: how many, their declared sizes, their actual
decompressed sizes (a zip bomb is refused before it is inflated in full), and no XML part may declare a DOCTYPE or
an ENTITY (billion laughs, external entities): openpyxl parses some parts with lxml when it is installed, and
python-docx always does, so this check does not rely on either parser's defaults.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from service.plan_sheet import ABOUT_SHEET, ACTIONS_SHEET, LISTS_SHEET, PLAN_FIELDS, PLAN_SHEET

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 5_000
MAX_SCANNED = 100_000  # Rows looked at, empty ones included (a sheet formatted far below its last row).
MAX_UNZIPPED = 100 * 1024 * 1024  # Everything a zip-based file holds, decompressed.
MAX_XML_PART = 30 * 1024 * 1024  # One XML part, decompressed: parsers hold a whole part in memory.
MAX_MEMBERS = 2_000
CHUNK = 1024 * 1024
# How an XML part would declare entities, in the encodings an XML parser detects on its own.
DECLARATIONS = tuple(
    marker.encode(encoding) for marker in ("<!DOCTYPE", "<!ENTITY") for encoding in ("utf-8", "utf-16-le", "utf-16-be")
)
XLSX, CSV, DOCX = "xlsx", "csv", "docx"
FORMATS = (XLSX, CSV, DOCX)
MEDIA_TYPES = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": XLSX,
    "text/csv": CSV,
    "application/csv": CSV,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": DOCX,
}
MACRO_MEDIA_TYPES = (
    "application/vnd.ms-excel.sheet.macroenabled.12",
    "application/vnd.ms-word.document.macroenabled.12",
)
MACRO_SUFFIXES = (".xlsm", ".xltm", ".xlam", ".docm", ".dotm")


MERGED = "\x00merged"  # A grid column covered by the cell to its left (Word tables).


class FileRefused(ValueError):
    """The file cannot be imported; the message says why, for the person who sent it."""


@dataclass
class Table:
    """One grid of cells: a sheet, the CSV file, or one Word table with the paragraph just before it."""

    name: str
    rows: list[tuple[int, list[Any]]]  # (row number as the file counts it, cells)
    heading: str | None = None


@dataclass
class PlanFile:
    format: str
    tables: list[Table]
    plan: dict[str, str] = field(default_factory=dict)  # From a "Plan" sheet: title, source, owner_agency.
    warnings: list[str] = field(default_factory=list)


def file_format(media_type: str | None, filename: str | None, data: bytes) -> str:
    """Which reader a file needs: by its media type, else its name, else its first bytes."""
    media = (media_type or "").split(";")[0].strip().lower()
    suffix = PurePath(filename or "").suffix.lower()
    if media in MACRO_MEDIA_TYPES or suffix in MACRO_SUFFIXES:
        raise FileRefused("macro-enabled files (.xlsm, .docm) are refused: save the workbook as .xlsx and send that")
    if media in MEDIA_TYPES:
        return MEDIA_TYPES[media]
    if media.startswith("text/") and suffix in ("", ".csv", ".txt"):
        return CSV
    if suffix.lstrip(".") in FORMATS:
        return suffix.lstrip(".")
    if media not in ("", "application/octet-stream"):
        raise FileRefused(f"files of type {media} cannot be imported: send xlsx, csv or docx")
    if data.startswith(b"PK"):
        names = _names(data)
        return DOCX if "word/document.xml" in names else XLSX
    return CSV


def read(data: bytes, fmt: str) -> PlanFile:
    if not data.strip():
        raise FileRefused("the file is empty")
    if len(data) > MAX_BYTES:
        raise FileRefused(f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB")
    if fmt == CSV:
        return read_csv(data)
    check_zip(data, fmt)
    reader: Callable[[bytes], PlanFile] = read_xlsx if fmt == XLSX else read_docx
    try:
        return reader(data)
    except FileRefused:
        raise
    except Exception as error:  # A malformed part: whatever the parser raised, the answer is the same.
        raise FileRefused(f"the {fmt} file could not be read ({type(error).__name__}): is it damaged?") from None


# Zip-based files.


def _names(data: bytes) -> list[str]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return archive.namelist()
    except (zipfile.BadZipFile, ValueError, EOFError):
        return []


def check_zip(data: bytes, fmt: str) -> None:
    """Refuse a file that is not a whole zip, holds a macro, would inflate too far, or declares XML entities."""
    what = "an Excel workbook (.xlsx)" if fmt == XLSX else "a Word document (.docx)"
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, EOFError):
        raise FileRefused(f"the file is not {what}: it is not a complete zip archive") from None
    with archive:
        members = archive.infolist()
        if len(members) > MAX_MEMBERS:
            raise FileRefused(f"the file holds more than {MAX_MEMBERS} parts")
        if sum(m.file_size for m in members) > MAX_UNZIPPED:
            raise FileRefused(f"the file would decompress to more than {MAX_UNZIPPED // (1024 * 1024)} MB")
        names = {m.filename for m in members}
        if any(name.lower().endswith("vbaproject.bin") for name in names):
            raise FileRefused("the file contains macros: save it as a plain .xlsx or .docx and send that")
        expected = "xl/workbook.xml" if fmt == XLSX else "word/document.xml"
        if expected not in names:
            raise FileRefused(f"the file is not {what}: it has no {expected}")
        inflated = 0
        for member in members:
            try:
                inflated += _check_member(archive, member, MAX_UNZIPPED - inflated)
            except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, NotImplementedError, RuntimeError):
                raise FileRefused(f"the file is damaged: part {member.filename} cannot be read") from None


def _check_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo, allowance: int) -> int:
    """Inflate one member in chunks, never past `allowance` bytes, looking for entity declarations."""
    is_xml = member.filename.lower().endswith((".xml", ".rels", ".vml"))
    size, tail = 0, b""
    with archive.open(member) as part:
        while chunk := part.read(CHUNK):
            size += len(chunk)
            if size > allowance or size > member.file_size:
                raise FileRefused("the file decompresses to more than it declares or than is allowed (zip bomb?)")
            if is_xml and size > MAX_XML_PART:
                raise FileRefused(f"part {member.filename} is larger than {MAX_XML_PART // (1024 * 1024)} MB")
            if is_xml:
                window = tail + chunk
                if any(marker in window for marker in DECLARATIONS):
                    raise FileRefused(
                        f"part {member.filename} declares a DOCTYPE or entities, which plan files never need"
                    )
                tail = window[-32:]
    return size


# Readers.


def read_xlsx(data: bytes) -> PlanFile:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    try:
        sheets = {sheet.title: sheet for sheet in book.worksheets}
        name = ACTIONS_SHEET if ACTIONS_SHEET in sheets else book.worksheets[0].title
        found = PlanFile(XLSX, [Table(f"sheet {name}", _rows(sheets[name].iter_rows(values_only=True)))])
        unread = [title for title in sheets if title not in (name, PLAN_SHEET, ABOUT_SHEET, LISTS_SHEET)]
        if unread:
            found.warnings.append(f"only sheet {name!r} was read, not {', '.join(map(repr, unread))}")
        if PLAN_SHEET in sheets:
            found.plan = plan_sheet(list(_rows(sheets[PLAN_SHEET].iter_rows(values_only=True), limit=10)))
        return found
    finally:
        book.close()


def plan_sheet(rows: list[tuple[int, list[Any]]]) -> dict[str, str]:
    """The "Plan" sheet: its header on one row and the values on the next."""
    if len(rows) < 2:
        return {}
    header, values = rows[0][1], rows[1][1]
    plan = {}
    for title, value in zip(header, values, strict=False):
        if title in PLAN_FIELDS and value not in (None, ""):
            plan[PLAN_FIELDS[title]] = str(value).strip()
    return plan


def read_csv(data: bytes) -> PlanFile:
    try:
        decoded = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise FileRefused(
            f'the CSV file is not UTF-8 (byte {error.start + 1} cannot be read): save it as "CSV UTF-8" and send that'
        ) from None
    sample = decoded[:8192]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    try:
        rows = _rows(csv.reader(io.StringIO(decoded, newline=""), dialect))
    except csv.Error as error:
        raise FileRefused(f"the CSV file could not be read: {error}") from None
    return PlanFile(CSV, [Table("the CSV file", rows)])


def read_docx(data: bytes) -> PlanFile:
    from docx import Document
    from docx.table import Table as WordTable

    document = Document(io.BytesIO(data))
    tables: list[Table] = []
    heading, total, title = None, 0, None
    for block in document.iter_inner_content():
        if not isinstance(block, WordTable):
            heading = block.text.strip() or heading
            title = title or heading  # The document's first words: its title, unless the person gives one.
            continue
        rows = _rows(_word_cells(row) for row in block.rows)
        total += len(rows)
        if total > MAX_ROWS:
            raise FileRefused(f"the document's tables hold more than {MAX_ROWS:,} rows")
        tables.append(Table(f"table {len(tables) + 1}", rows, heading))
        heading = None
    if not tables:
        raise FileRefused("the Word document has no tables: the plan's actions must be in a table")
    return PlanFile(DOCX, tables, plan={"title": title[:500]} if title else {})


def _word_cells(row: Any) -> list[Any]:
    """A row as grid cells: a cell merged across columns has its text in the first and MERGED in the others (a
    header names them all, a value counts once); a cell merged from the row above repeats that row's text."""
    cells: list[Any] = [None] * row.grid_cols_before
    previous = None
    for cell in row.cells:
        cells.append(MERGED if cell._tc is previous else cell.text)
        previous = cell._tc
    return cells


def _rows(source: Iterator[Any], *, numbered_from: int = 1, limit: int = MAX_ROWS + 1) -> list[tuple[int, list[Any]]]:
    """Rows with their numbers, empty ones left out; more than `limit` non-empty rows is refused."""
    rows: list[tuple[int, list[Any]]] = []
    for number, values in enumerate(source, start=numbered_from):
        if number > MAX_SCANNED:
            raise FileRefused(f"the sheet goes on past row {MAX_SCANNED:,}: delete the rows below the plan")
        cells = list(values)
        if all(v is None or v == MERGED or (isinstance(v, str) and not v.strip()) for v in cells):
            continue
        if len(rows) >= limit:
            raise FileRefused(f"the file has more than {MAX_ROWS:,} rows")
        rows.append((number, cells))
    return rows
