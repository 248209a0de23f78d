"""Plan import (issue 13): a council's plan file in, a whole plan out, or nothing at all.

Every row is read and checked first (agencies, statuses, RAG, dates, unique action numbers, required fields, and the
domain's own rules for each update, by building the Plan and its Actions in memory); only when no row has an error
are the plan and all its actions saved, in one call to `app.save`, so in one transaction of the event store.
Updates in the file are recorded now, with their own effective dates, by the importing coordinator on behalf of
each action's lead agency (the actor's `on_behalf_of`).
"""

from __future__ import annotations

from service.importing.build import Importer
from service.importing.model import ImportOptions, ImportResult, Progress

__all__ = ["ImportOptions", "ImportResult", "Importer", "Progress"]
