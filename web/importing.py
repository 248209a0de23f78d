"""Uploading a plan (coordinators): the file, then a preview (the mapping of each heading, which the person may
change; the first rows as they will be stored; every error by row and column), then confirm.

Each step calls the same `import_plan` use case as the API (a dry run, then the real one with the same file and
options); the file waits between steps in the server-side store of web.uploads, under an id only this session has.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for

from api import get_system
from service.importing import ImportOptions
from service.importing.mapping import FIELDS
from web.auth import me, page_errors
from web.filters import agency as agency_name
from web.forms import ImportOptionsForm, PreviewForm, UploadForm
from web.uploads import Upload, Uploads

bp = Blueprint("web_imports", __name__)
page_errors(bp)
KEPT = "import_upload"  # The session's one upload id.
IGNORE = "ignore"
FIELD_CHOICES = [(IGNORE, "Ignore this column"), *((f, f"{f.replace('_', ' ').capitalize()} ({f})") for f in FIELDS)]
SHOWN_ROWS = 10


def uploads() -> Uploads:
    found: Uploads = current_app.extensions["accord.uploads"]
    return found


def with_agencies(form: ImportOptionsForm) -> None:
    form.default_lead_agency.choices = [
        ("", "None: the file names each row's lead agency"),
        *((a, agency_name(a)) for a in get_system().settings.agencies),
    ]


@bp.route("/plans/import", methods=["GET", "POST"])
def upload() -> Any:
    me().check_may_manage_plans()
    form = UploadForm()
    with_agencies(form)
    if form.validate_on_submit():
        store = uploads()
        store.discard(session.pop(KEPT, None))
        sent = form.file.data
        kept = store.keep(me().user_id, sent.read(), sent.filename or None, sent.mimetype or None)
        kept.options = chosen(form)
        store.save(kept)
        session[KEPT] = kept.id
        return redirect(url_for("web_imports.preview"))
    limit = get_system().settings.import_max_bytes // (1024 * 1024)
    return render_template("import_upload.html", title="Upload a plan", form=form, limit_mb=limit)


@bp.route("/plans/import/preview", methods=["GET", "POST"])
def preview() -> Any:
    me().check_may_manage_plans()
    store = uploads()
    kept = store.find(session.get(KEPT), me().user_id)
    if kept is None:
        flash("Upload the plan file again: a file is kept for an hour, for the person who uploaded it.")
        return redirect(url_for("web_imports.upload"))
    form = PreviewForm()
    with_agencies(form)
    if form.validate_on_submit():
        kept.options = {**chosen(form), "mapping": mapping_chosen(kept), "headings": kept.options.get("headings")}
        store.save(kept)
        if form.confirm.data:
            data = store.claim(kept)
            if data is None:  # Another click of "Import the plan" is importing it.
                flash("This plan is already being imported: find it in the plans.")
                return redirect(url_for("web_plans.plans"))
            result = run(kept, dry_run=False, data=data)
            if not result["errors"]:
                store.discard(session.pop(KEPT, None))
                flash(f"The plan was imported: {counted(result)}.")
                return redirect(url_for("web_plans.board", plan_id=result["plan_id"]))
            store.release(kept)
            return page(kept, form, result, refused=True)
        return redirect(url_for("web_imports.preview"))
    if request.method == "GET":
        form.default_lead_agency.data = kept.options.get("default_lead_agency") or ""
        start = kept.options.get("start_date")
        form.start_date.data = date.fromisoformat(start) if start else None
    result = run(kept, dry_run=True)
    if kept.options.get("headings") is None or kept.options.get("mapping") is None:
        kept.options["headings"] = list(result["mapping"])  # The select names of the preview (field-0, field-1...).
        store.save(kept)
    return page(kept, form, result)


def page(kept: Upload, form: PreviewForm, result: dict[str, Any], refused: bool = False) -> str:
    headings = kept.options.get("headings") or list(result["mapping"])
    return render_template(
        "import_preview.html",
        title="Check the plan before importing it",
        form=form,
        upload=kept,
        result=result,
        headings=[
            {"index": i, "heading": heading, "items": field_items(result["mapping"].get(heading))}
            for i, heading in enumerate(headings)
        ],
        rows=result["preview"][:SHOWN_ROWS],
        refused=refused,
        counted=counted(result),
    )


def field_items(field: str | None) -> list[dict[str, Any]]:
    return [{"value": value, "text": text, "selected": value == (field or IGNORE)} for value, text in FIELD_CHOICES]


def run(kept: Upload, *, dry_run: bool, data: bytes | None = None) -> dict[str, Any]:
    """The use case the API calls, on the kept file with the options last chosen."""
    o = kept.options
    options = ImportOptions(
        mapping=o.get("mapping"),
        default_lead_agency=o.get("default_lead_agency") or None,
        start_date=date.fromisoformat(o["start_date"]) if o.get("start_date") else None,
    )
    result: dict[str, Any] = (
        get_system()
        .app.import_plan(
            me(),
            uploads().data(kept) if data is None else data,
            media_type=kept.media_type,
            filename=kept.filename,
            options=options,
            dry_run=dry_run,
        )
        .as_dict()
    )
    return result


def chosen(form: ImportOptionsForm) -> dict[str, Any]:
    return {
        "default_lead_agency": form.default_lead_agency.data or None,
        "start_date": form.start_date.data.isoformat() if form.start_date.data else None,
    }


def mapping_chosen(kept: Upload) -> dict[str, str | None] | None:
    """Heading to field (None: ignored) from the preview's selects; a choice not offered keeps the proposal."""
    headings = kept.options.get("headings") or []
    mapping: dict[str, str | None] = {}
    for i, heading in enumerate(headings):
        field = request.form.get(f"field-{i}")
        if field == IGNORE:
            mapping[heading] = None
        elif field in FIELDS:
            mapping[heading] = field
    return mapping or kept.options.get("mapping")


def counted(result: dict[str, Any]) -> str:
    parts = [(result[f"{word}s"], word) for word in ("recommendation", "action", "update")]
    return ", ".join(f"{n} {word}{'s' if n != 1 else ''}" for n, word in parts)


def allow_plan_files() -> None:
    """The upload takes files up to ACCORD_IMPORT_MAX_BYTES, as the API's import does; other pages keep the
    usual limit. Before the CSRF check, which reads the form."""
    if request.endpoint == "web_imports.upload":
        request.max_content_length = get_system().settings.import_max_bytes


def init_app(app: Any) -> None:
    app.extensions["accord.uploads"] = Uploads()
    app.before_request(allow_plan_files)
