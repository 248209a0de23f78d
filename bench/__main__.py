"""`python -m bench [lag|rebuild|timetravel|reports ...]`: run the benchmarks and print their figures as JSON lines."""

from __future__ import annotations

import json
import sys

from bench import imports, lag, pages, rebuild, reports, timetravel

BENCHES = {
    "lag": lag.run,
    "rebuild": rebuild.run,
    "timetravel": timetravel.run,
    "imports": imports.run,
    "pages": pages.run,
    "reports": reports.run,
}


def main(argv: list[str]) -> None:
    for name in argv or list(BENCHES):
        print(json.dumps({"bench": name, **BENCHES[name]()}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
