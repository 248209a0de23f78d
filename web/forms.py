"""Every form on the pages, in one place: WTForms fields rendered by govuk-frontend-wtf's GOV.UK widgets.

Forms that write are FlaskForms (a CSRF token each); the filters and the date chooser only read, by GET.
(About 330 lines: one module, as notifications-admin keeps its forms, so that a field is defined once.)
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from govuk_frontend_wtf.wtforms_widgets import (
    GovDateInput,
    GovFileInput,
    GovPasswordInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    DateField,
    Form,
    HiddenField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import URL, DataRequired, EqualTo, InputRequired, Length, Optional, ValidationError

from api.schemas import LAST_DAY
from api.text import unstorable
from domain.timeline import RAGS, STATUSES
from service.access_log import PURPOSE_MAX
from service.credentials import PASSWORD_MIN
from web.filters import RAG, STATUS


class Given(InputRequired):
    """InputRequired without the `required` flag: govuk-frontend-wtf would put `required` on a date input's <div>,
    and GOV.UK pages validate on the server (forms are `novalidate`)."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message)
        self.field_flags: dict[str, bool] = {}


DATE_FORMAT = "%d %m %Y"  # Day, month and year, as the three boxes of GOV.UK's date input send them.


class DayMonthYear(DateField):
    """A date from GOV.UK's three boxes; a post without all three (not from the page) is an empty or wrong date,
    never a page that cannot be drawn."""

    def process_formdata(self, valuelist: list[str]) -> None:
        if len(valuelist) == 3:
            super().process_formdata(valuelist)
            return
        self.raw_data = ["", "", ""]
        self.data = None
        if any(valuelist):
            raise ValueError(self.gettext("Not a valid date value."))


LONG = 20_000
SHORT = 500


class SignInForm(FlaskForm):
    email = StringField(
        "Email address", widget=GovTextInput(), validators=[DataRequired("Enter your email address"), Length(max=254)]
    )
    password = PasswordField(
        "Password", widget=GovPasswordInput(), validators=[DataRequired("Enter your password"), Length(max=256)]
    )
    submit = SubmitField("Sign in", widget=GovSubmitInput())


class InvitationForm(FlaskForm):
    password = PasswordField(
        "Create a password",
        description=f"Use {PASSWORD_MIN} characters or more. A few unrelated words make a good password.",
        widget=GovPasswordInput(),
        validators=[
            DataRequired("Enter a password"),
            Length(min=PASSWORD_MIN, message=f"Password must be {PASSWORD_MIN} characters or more"),
            Length(max=256, message="Password must be 256 characters or fewer"),
        ],
    )
    confirm = PasswordField(
        "Confirm your password",
        widget=GovPasswordInput(),
        validators=[DataRequired("Confirm your password"), EqualTo("password", "The passwords do not match")],
    )
    submit = SubmitField("Set password and sign in", widget=GovSubmitInput())


class PurposeForm(FlaskForm):
    purpose = TextAreaField(
        "Why are you reading action histories and past views?",
        description="For example: Ofsted ILACS, sampling overdue actions. It is recorded with each history or past"
        " view you read while signed in, in the access log.",
        widget=GovTextArea(),
        validators=[
            DataRequired("Enter why you are reading histories and past views"),
            Length(max=PURPOSE_MAX, message=f"Purpose must be {PURPOSE_MAX} characters or fewer"),
        ],
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())


NO_CHANGE = ""


class UpdateForm(FlaskForm):
    """A partner's update; `version` is the action's version when the form was opened (sent as If-Match is),
    `key` makes a second submit of the same form write nothing (as an Idempotency-Key does)."""

    progress = TextAreaField(
        "Progress",
        description="What has been done since the last update.",
        widget=GovTextArea(),
        validators=[Optional(), Length(max=LONG)],
    )
    status = RadioField(
        "Status",
        choices=[(NO_CHANGE, "No change"), *((s, STATUS[s][0]) for s in STATUSES)],
        default=NO_CHANGE,
        widget=GovRadioInput(),
        validators=[Optional()],
    )
    rag = RadioField(
        "RAG rating",
        choices=[(NO_CHANGE, "No change"), *((r, RAG[r][0]) for r in RAGS)],
        default=NO_CHANGE,
        widget=GovRadioInput(),
        validators=[Optional()],
    )
    due_date = DayMonthYear(
        "Revised due date",
        description="Only if the due date changes. For example, 31 3 2027.",
        format=DATE_FORMAT,
        widget=GovDateInput(),
        validators=[Optional()],
    )
    due_label = StringField(
        "Revised due date as written in the plan (optional)",
        description="For example, End of March 2027.",
        widget=GovTextInput(),
        validators=[Optional(), Length(max=SHORT)],
    )
    reason = TextAreaField(
        "Reason",
        description="Needed for a revised due date, and to reopen a completed or withdrawn action.",
        widget=GovTextArea(),
        validators=[Optional(), Length(max=LONG)],
    )
    impact = TextAreaField(
        "Impact", description="What difference it has made for children.", widget=GovTextArea(), validators=[Optional()]
    )
    evidence_title = StringField("Evidence title", widget=GovTextInput(), validators=[Optional(), Length(max=SHORT)])
    evidence_url = StringField(
        "Evidence link (optional)",
        description="A link to the document, starting https://",
        widget=GovTextInput(),
        validators=[Optional(), URL(message="Enter a link starting https://"), Length(max=2000)],
    )
    effective_date = DayMonthYear(
        "When did this take effect?",
        description="For example, 27 3 2026. Today, unless you are reporting something that happened earlier.",
        format=DATE_FORMAT,
        widget=GovDateInput(),
        validators=[Given("Enter the date this took effect")],
    )
    version = HiddenField()
    key = HiddenField()
    submit = SubmitField("Save update", widget=GovSubmitInput())


class FilterForm(Form):
    """The board's filters (GET: a filtered board has an address of its own)."""

    agency = SelectField("Lead agency", widget=GovSelect(), validators=[Optional()])
    status = SelectField(
        "Status",
        choices=[("", "Any"), *((s, STATUS[s][0]) for s in STATUSES)],
        widget=GovSelect(),
        validate_choice=False,
    )
    rag = SelectField(
        "RAG rating", choices=[("", "Any"), *((r, RAG[r][0]) for r in RAGS)], widget=GovSelect(), validate_choice=False
    )
    overdue = SelectField(
        "Overdue", choices=[("", "Any"), ("true", "Overdue"), ("false", "Not overdue")], widget=GovSelect()
    )
    submit = SubmitField("Apply filters", widget=GovSubmitInput())


def what_accord_knew() -> RadioField:
    """As known on the day (the committee's view) or as known today: the knowledge-time choice of past views."""
    return RadioField(
        "Show what Accord knew",
        choices=[("then", "On that day: what the committee was told"), ("now", "Today: including reports made later")],
        default="then",
        widget=GovRadioInput(),
    )


class AsAtForm(Form):
    """The date chooser: the plan as reported to the committee on a date (GET, redirected to as_at/known_at)."""

    committee_date = DayMonthYear(
        "As reported to the committee on",
        description="For example, 18 9 2026.",
        format=DATE_FORMAT,
        widget=GovDateInput(),
        validators=[Given("Enter the committee date")],
    )
    known = what_accord_knew()
    show = SubmitField("Show the plan on this date", widget=GovSubmitInput())


class ChangesForm(Form):
    start = DayMonthYear("From", format=DATE_FORMAT, widget=GovDateInput(), validators=[Given("Enter the first date")])
    end = DayMonthYear("To", format=DATE_FORMAT, widget=GovDateInput(), validators=[Given("Enter the last date")])
    compare = SubmitField("Show changes", widget=GovSubmitInput())


def in_calendar(form: Form, field: DateField) -> None:
    """A date Accord can store (as the API's UP_TO_LAST_DAY)."""
    if field.data is not None and field.data > LAST_DAY:
        raise ValidationError(f"{field.label.text} must be on or before {LAST_DAY.strftime('%-d %B %Y')}")


def storable(form: Form, field: StringField) -> None:
    """Only text both stores can keep (as the API's Text fields)."""
    if field.data and (why := unstorable(field.data)):
        raise ValidationError(f"{field.label.text} {why}")


class MeetingForm(FlaskForm):
    """A committee or board meeting (coordinators); `key` makes a second submit write nothing."""

    title = StringField(
        "Meeting",
        description="For example, Children and Young People Select Committee.",
        widget=GovTextInput(),
        validators=[DataRequired("Enter the meeting's name"), Length(max=SHORT), storable],
    )
    meeting_date = DayMonthYear(
        "Date of the meeting",
        description="For example, 18 9 2026.",
        format=DATE_FORMAT,
        widget=GovDateInput(),
        validators=[Given("Enter the date of the meeting"), in_calendar],
    )
    updates_due = DayMonthYear(
        "Updates due by",
        description="When partners' updates are wanted: on or before the meeting. For example, 4 9 2026.",
        format=DATE_FORMAT,
        widget=GovDateInput(),
        validators=[Given("Enter the date updates are due by"), in_calendar],
    )
    key = HiddenField()
    submit = SubmitField("Add meeting", widget=GovSubmitInput())


class DigestsForm(FlaskForm):
    digests = RadioField(
        "Do you want the weekly digest email?",
        description="On Monday mornings: your agency's overdue actions and those due within 30 days.",
        choices=[("on", "Yes"), ("off", "No")],
        widget=GovRadioInput(),
        validators=[InputRequired("Select yes if you want the weekly digest email")],
    )
    submit = SubmitField("Save", widget=GovSubmitInput())


class ImportOptionsForm(FlaskForm):
    """The options of a plan import; the preview step adds a choice of field per heading (web.importing)."""

    default_lead_agency = SelectField(
        "Lead agency, where the file does not say",
        description="Rows whose lead agency is not in a column of the file are led by this agency.",
        widget=GovSelect(),
        validators=[Optional()],
    )
    start_date = DayMonthYear(
        "Actions raised on (optional)",
        description="When the plan's actions began. Leave it empty to use the earliest date in the file.",
        format=DATE_FORMAT,
        widget=GovDateInput(),
        validators=[Optional(), in_calendar],
    )


class UploadForm(ImportOptionsForm):
    file = FileField(
        "Plan file",
        description="An Excel workbook (.xlsx), a CSV file or a Word document (.docx) with the plan in tables.",
        widget=GovFileInput(),
        validators=[FileRequired("Select a plan file")],
    )
    submit = SubmitField("Upload and check", widget=GovSubmitInput())


class PreviewForm(ImportOptionsForm):
    check = SubmitField("Check again", widget=GovSubmitInput())
    confirm = SubmitField("Import the plan", widget=GovSubmitInput())


class ReportForm(Form):
    """The committee report's dates (GET, redirected to the API's as_at, known_at and since)."""

    report_date = DayMonthYear(
        "Position as at",
        description="Usually the committee's date. For example, 18 9 2026.",
        format=DATE_FORMAT,
        widget=GovDateInput(),
        validators=[Given("Enter the date of the position"), in_calendar],
    )
    known = what_accord_knew()
    since = DayMonthYear(
        "Mark what changed since (optional)",
        description="Leave it empty to mark what changed since the plan's previous meeting.",
        format=DATE_FORMAT,
        widget=GovDateInput(),
        validators=[Optional(), in_calendar],
    )
    show = SubmitField("Show the report", widget=GovSubmitInput())
