"""How import reads cells and headings as people write them (issue 13): dates, statuses, RAG, agencies, numbers,
and a council's own column headings."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from domain.principals import Principal
from service.importing import cells
from service.importing.mapping import propose
from service.importing.rows import split_number
from service.plan_sheet import ACTIONS_HEADER, TEMPLATE_FIELDS

AGENCIES = ("council", "health", "police", "education", "lscb")


@pytest.mark.parametrize(
    ("cell", "day"),
    [
        (datetime(2013, 2, 28, 0, 0), date(2013, 2, 28)),
        ("2013-02-28", date(2013, 2, 28)),
        ("28/02/2013", date(2013, 2, 28)),
        ("1/12/08", date(2008, 12, 1)),
        ("28 February 2013", date(2013, 2, 28)),
        ("7th January 2009", date(2009, 1, 7)),
        (41333, date(2013, 2, 28)),  # A date cell saved without its format: the spreadsheet's day number.
        (None, None),
    ],
)
def test_a_date_cell_is_read_as_written_in_england(cell: object, day: date | None) -> None:
    assert cells.parse_date(cell) == day


@pytest.mark.parametrize("cell", ["31/02/2013", "next week", "02/28/2013"])
def test_a_cell_that_is_no_date_is_refused_with_a_message(cell: str) -> None:
    with pytest.raises(ValueError, match="date"):
        cells.parse_date(cell)


@pytest.mark.parametrize(
    ("label", "day"),
    [
        ("End of April 2013", date(2013, 4, 30)),
        ("March 2014", date(2014, 3, 31)),
        ("By end Sept 2011", date(2011, 9, 30)),
        ("Target implementation March 2011", date(2011, 3, 31)),
        ("01/12/2008", date(2008, 12, 1)),
        ("By end June", None),  # No year: a label, not a date.
        ("now", None),
        ("Ongoing 2010/11", None),
        ("March 2011 or June 2011", None),  # Two dates: which one is meant is not for Accord to guess.
    ],
)
def test_a_due_label_gives_a_due_date_only_when_it_names_one(label: str, day: date | None) -> None:
    assert cells.date_in_words(label) == day


def test_an_update_heading_dates_its_updates_on_the_last_day_of_its_month() -> None:
    assert cells.month_in_header("Update September 2013") == date(2013, 9, 30)
    assert cells.month_in_header("Progress Feb 2012") == date(2012, 2, 29)
    assert cells.month_in_header("Progress Review") is None


@pytest.mark.parametrize(
    ("cell", "status"),
    [("In progress", "in_progress"), ("IN_PROGRESS", "in_progress"), ("not started", "not_started"),
     ("Complete", "completed"), ("withdrawn", "withdrawn")],
)  # fmt: skip
def test_statuses_in_api_values_or_words_any_case(cell: str, status: str) -> None:
    assert cells.status(cell) == status


def test_rag_in_words_or_letters_and_anything_else_refused() -> None:
    assert [cells.rag(c) for c in ("Amber", "RED", "g", "blue")] == ["amber", "red", "green", "blue"]
    with pytest.raises(ValueError, match="RAG"):
        cells.rag("Purple")
    with pytest.raises(ValueError, match="status"):
        cells.status("Half done")


def test_agencies_by_slug_or_name_any_case_and_unknown_ones_refused() -> None:
    assert cells.agency("Health", AGENCIES) == "health"
    assert cells.agency_list("Police; LSCB,council", AGENCIES) == ["police", "lscb", "council"]
    with pytest.raises(ValueError, match="unknown agency 'Fire service'"):
        cells.agency("Fire service", AGENCIES)


def test_numbers_stay_as_written() -> None:
    assert cells.text("1.10") == "1.10"
    assert cells.text(2.0) == "2"
    assert cells.text(" — ") is None  # A dash says there is nothing (the report writes one for no due date).
    assert split_number("7. That an extra member of staff") == ("7", "That an extra member of staff")
    assert split_number("2) SG: Health capacity") == ("2", "SG: Health capacity")
    assert split_number("Recommendation No. 3: Share reports") == ("3", "Share reports")
    assert split_number("That the First Option programme") == (None, "That the First Option programme")


def test_the_templates_columns_map_exactly() -> None:
    assert propose(list(ACTIONS_HEADER)) == TEMPLATE_FIELDS


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (
            ["No.", "What we will do", "By when", "Lead", "Update September 2013"],
            ["action_number", "description", "due_label", "lead_person", "update"],
        ),
        (
            ["Action", "Progress", "Impact", "What do we still need to do", "Cost", "Lead person responsible"],
            ["description", "update", "impact", None, "cost", "lead_person"],
        ),
        (
            ["No", "Standard", "Requirement", "Actions", "Person Responsible", "Timescale for action"],
            ["recommendation_number", "reference", "recommendation_text", "description", "lead_person", "due_label"],
        ),
        (
            ["OBJECTIVE", "Target", "Date", "Who", "Specific action/s", "Progress"],
            ["recommendation_text", "description", "due_label", "lead_person", "description", "update"],
        ),
        (
            ["Recommendation", "Response", "Action", "Timescale", "Lead agency", "RAG status"],
            ["recommendation_text", "update", "description", "due_label", "lead_agency", "rag"],
        ),
    ],
)
def test_a_councils_own_headings_map_by_synonyms(headers: list[str], expected: list[str | None]) -> None:
    assert list(propose(headers).values()) == expected


def test_a_mapping_given_overrides_the_proposed_one_by_heading_any_case() -> None:
    mapping = propose(["Who", "Notes", "Action"], {"who": "lead_agency", "NOTES": "update", "Action": None})
    assert mapping == {"Who": "lead_agency", "Notes": "update", "Action": None}


def test_an_actor_recorded_for_another_agency_reads_back_and_older_actors_are_unchanged() -> None:
    coordinator = Principal("u1", "Coordinator", "lscb", "coordinator")
    assert coordinator.as_actor() == {"user_id": "u1", "name": "Coordinator", "agency": "lscb", "role": "coordinator"}
    on_behalf = Principal("u1", "Coordinator", "lscb", "coordinator", on_behalf_of="health")
    assert Principal.from_actor(on_behalf.as_actor()) == on_behalf
    assert Principal.from_actor({**coordinator.as_actor(), "something_new": 1}) == coordinator


def test_a_reports_revised_by_when_reads_back_as_the_plans_own_words() -> None:
    revised = "31 December 2026 (End of 2026); revised from Target implementation March 2011 (slipped)"
    assert cells.own_words(revised) == "End of 2026"
    assert cells.own_words("31 December 2026; revised from March 2011 (slipped)") == "31 December 2026"
    assert cells.own_words("End of April 2013") == "End of April 2013"
