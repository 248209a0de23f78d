"""Write throughput over HTTP against the bare library, in the same run, on PostgreSQL.

8 clients post updates over HTTP to `accord serve` (gunicorn sized as `make run` sizes it, Redis configured,
one `accord worker` building the projections, rate limit off), each on actions of its own. In the same run, 8
threads do the same load-update-save by hand with the library on the same kind of store (the Accord application's
repository and `save`, no HTTP, no service layer): once on the chained store Accord keeps, once on the library's
own recorder without the chain. Each update stores two events (progress and RAG), as in bench/lag.py.
"""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any
from uuid import UUID

from redis import Redis

from bench.common import (
    ACCORD,
    fresh_schema,
    percentile,
    plan_with_actions,
    redis_url,
    settings,
    start_workers,
    worker_env,
)
from domain.action import Action
from domain.principals import Principal
from service.app import Accord
from service.bootstrap import bootstrap

CLIENTS = 8
ACTIONS = 64  # 8 per client: clients never race for an action.
SECONDS = 15.0
WARM_UP = 2.0  # Seconds of writes before measuring (connections, caches, the first gunicorn requests).
RAGS = ("red", "amber", "green")


def run(seconds: float = SECONDS, clients: int = CLIENTS) -> dict[str, Any]:
    queue = f"accord-bench-{uuid.uuid4().hex[:8]}"
    try:
        with fresh_schema() as database_url:
            library = library_rate(database_url, seconds, clients, chained=True)
            api = api_rate(database_url, queue, seconds, clients)
        with fresh_schema() as database_url:
            plain = library_rate(database_url, seconds, clients, chained=False)
    finally:
        Redis.from_url(redis_url()).flushdb()
    return {
        "clients": clients,
        "api_per_s": round(api["rate"], 1),
        "api_p50_ms": round(api["p50_ms"], 1),
        "api_p99_ms": round(api["p99_ms"], 1),
        "api_errors": api["errors"],
        "gunicorn": api["gunicorn"],
        "library_per_s": round(library["rate"], 1),
        "library_p50_ms": round(library["p50_ms"], 1),
        "library_p99_ms": round(library["p99_ms"], 1),
        "ratio": round(api["rate"] / library["rate"], 2),
        "library_unchained_per_s": round(plain["rate"], 1),
        "ratio_to_unchained": round(api["rate"] / plain["rate"], 2),
    }


def measure(clients: int, seconds: float, write: Callable[[int, int], None]) -> dict[str, Any]:
    """Run `write(client, n)` in `clients` threads for WARM_UP + `seconds`; time the writes after the warm-up."""
    started = time.perf_counter()
    measuring, stop = started + WARM_UP, started + WARM_UP + seconds
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors: list[str] = []

    def client(i: int) -> None:
        n = 0
        while (now := time.perf_counter()) < stop:
            try:
                write(i, n)
            except Exception as error:  # Counted and reported: a bench must not hide a failing write.
                errors.append(type(error).__name__)
            if now >= measuring:
                latencies[i].append((time.perf_counter() - now) * 1000)
            n += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [latency for per_client in latencies for latency in per_client]
    return {
        "rate": len(every) / seconds,
        "p50_ms": percentile(every, 50),
        "p99_ms": percentile(every, 99),
        "errors": len(errors),
    }


def library_rate(database_url: str, seconds: float, clients: int, *, chained: bool) -> dict[str, Any]:
    env = settings(database_url).eventsourcing_env()
    if not chained:
        env.pop("APPLICATION_RECORDER_TOPIC")
    app = Accord(env, agencies=settings(database_url).agencies)
    try:
        actions = plan_with_actions(app, ACTIONS)
        today = app.today()

        def write(i: int, n: int) -> None:
            action_id, editor = actions[(i + n * clients) % len(actions)]
            action: Action = app.repository.get(action_id)
            action.post_update(
                actor=editor,
                update_id=str(uuid.uuid4()),
                effective_date=today,
                today=today,
                progress=f"bench update {n}",
                rag=RAGS[n % 3],
            )
            app.save(action)

        return measure(clients, seconds, write)
    finally:
        app.close()


def api_rate(database_url: str, queue: str, seconds: float, clients: int) -> dict[str, Any]:
    system = bootstrap(settings(database_url, redis_url=redis_url(), queue=queue), in_process=False)
    try:
        actions = plan_with_actions(system.app, ACTIONS)
        tokens = editor_tokens(system.app, actions)
    finally:
        system.close()
    port = free_port()
    env = {**worker_env(database_url, queue), "ACCORD_RATE_LIMIT": "off", "ACCORD_PORT": str(port)}
    server = subprocess.Popen(
        [ACCORD, "serve", "--no-demo"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    workers = start_workers(database_url, queue, 1)
    try:
        wait_until_serving(port)
        connections = [http.client.HTTPConnection("127.0.0.1", port, timeout=30) for _ in range(clients)]

        def write(i: int, n: int) -> None:
            action_id, editor = actions[(i + n * clients) % len(actions)]
            body = json.dumps({"progress": f"bench update {n}", "rag": RAGS[n % 3]})
            headers = {"Authorization": f"Bearer {tokens[editor.agency]}", "Content-Type": "application/json"}
            connection = connections[i]
            connection.request("POST", f"/api/v1/actions/{action_id}/updates", body, headers)
            response = connection.getresponse()
            response.read()
            if response.status != 201:
                raise RuntimeError(f"HTTP {response.status}")

        result = measure(clients, seconds, write)
        return {**result, "gunicorn": gunicorn_size(server.pid)}
    finally:
        for process in [server, *workers]:
            process.terminate()
            process.wait(timeout=30)


def editor_tokens(app: Accord, actions: list[tuple[UUID, Principal]]) -> dict[str, str]:
    """A real editor (and bearer token) for each lead agency of the actions."""
    agencies = sorted({editor.agency for _, editor in actions})
    return {agency: app.add_user(name=f"Bench editor {agency}", agency=agency, role="editor")[1] for agency in agencies}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_serving(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("accord serve did not answer /healthz")


def gunicorn_size(pid: int) -> str:
    """How many worker processes the server runs (its children), as sized from the CPU count or WEB_CONCURRENCY."""
    children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False).stdout.split()
    return f"{len(children)} processes"
