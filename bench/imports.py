"""Plan import speed and memory (issue 13): a 2,000-action workbook in Accord's template, each action with a dated
update, imported by `accord import` into an empty PostgreSQL store; goal < 10 s and < 300 MB.

Measured as a user runs it: the whole process (start, read, check every row, one save), its wall time and its own
peak RSS. With Redis, as in production, the import writes and nudges the workers, which build the views; a second
run without Redis also builds the four views in the same process before it exits.
"""

from __future__ import annotations

import os
import sys
import tempfile
import uuid
from pathlib import Path

from redis import Redis

from bench.common import ACCORD, fresh_schema, redis_url, settings, worker_env
from bench.rebuild import timed
from service.bootstrap import bootstrap
from tests.plan_files import large_xlsx


def import_once(workbook: Path, with_redis: bool) -> dict[str, object]:
    with fresh_schema() as database_url:
        system = bootstrap(settings(database_url), in_process=False)
        token = system.app.add_user(name="Bench importer", agency="lscb", role="coordinator")[1]
        system.close()
        env = {**worker_env(database_url, f"accord-bench-{uuid.uuid4().hex[:8]}"), "ACCORD_TOKEN": token}
        if not with_redis:
            env.pop("ACCORD_REDIS_URL")
        seconds, rss = timed([ACCORD, "import", str(workbook)], env)
        system = bootstrap(settings(database_url), in_process=False)
        events = system.app.recorder.max_notification_id() or 0
        system.close()
    return {"seconds": round(seconds, 1), "peak_rss_mb": round(rss), "events": events}


def run(actions: int = 2_000) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as folder:
        workbook = Path(folder) / "plan.xlsx"
        workbook.write_bytes(large_xlsx(actions))
        results: dict[str, object] = {"actions": actions, "file_kb": round(os.path.getsize(workbook) / 1024)}
        results["import, views by workers"] = import_once(workbook, with_redis=True)
        results["import and views in one process"] = import_once(workbook, with_redis=False)
    Redis.from_url(redis_url()).flushdb()
    print(results, file=sys.stderr)
    return results
