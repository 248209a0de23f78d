"""Write throughput over HTTP against the bare library, in the same run, on PostgreSQL.

8 clients post updates over HTTP to `accord serve` (gunicorn sized as `make run` sizes it, Redis configured,
one `accord worker` building the projections, rate limit off), each on actions of its own. In the same run, 8
threads do the same load-update-save by hand with the library on the same kind of store (the Accord application's
repository and `save`, no HTTP, no service layer): once on the chained store Accord keeps, once on the library's
own recorder without the chain. Each update stores two events (progress and RAG), as in bench/lag.py. Each store
is a schema of its own; the three writers take turns for ROUNDS rounds, and rates are the medians of the rounds.
"""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from http import HTTPStatus
from statistics import median
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
from cli import web_concurrency
from domain.action import Action
from domain.principals import Principal
from service.app import Accord
from service.bootstrap import bootstrap

CLIENTS = 8
ACTIONS = 64  # 8 per client: clients never race for an action.
ROUNDS = 3  # Each round runs the three writers in turn, so a machine busy for a while slows all three alike.
SECONDS = 6.0  # Measured per writer per round.
WARM_UP = 1.0  # Seconds of writes before measuring (connections, caches).
RAGS = ("red", "amber", "green")
Write = Callable[[int, int], None]


@dataclass(frozen=True)
class Writer:
    write: Write  # write(client, n): the client's n-th update.
    settle: Callable[[], object] = lambda: None  # Called after each turn: let background work finish.


def run(rounds: int = ROUNDS, seconds: float = SECONDS, clients: int = CLIENTS) -> dict[str, Any]:
    queue = f"accord-bench-{uuid.uuid4().hex[:8]}"
    with ExitStack() as stack:
        stack.callback(lambda: Redis.from_url(redis_url()).flushdb())
        writers = {
            "library": stack.enter_context(library_writer(stack.enter_context(fresh_schema()), clients, chained=True)),
            "api": stack.enter_context(api_writer(stack.enter_context(fresh_schema()), queue, clients)),
            "unchained": stack.enter_context(
                library_writer(stack.enter_context(fresh_schema()), clients, chained=False)
            ),
        }
        results: dict[str, list[dict[str, Any]]] = {name: [] for name in writers}
        for _ in range(rounds):
            for name, writer in writers.items():
                results[name].append(measure(clients, seconds, writer.write))
                writer.settle()
    rates = {name: [r["rate"] for r in rounds_] for name, rounds_ in results.items()}
    ratios = [api / library for api, library in zip(rates["api"], rates["library"], strict=True)]
    figures: dict[str, Any] = {"clients": clients, "rounds": rounds, "seconds_each": seconds}
    for name, rounds_ in results.items():
        latencies = [latency for r in rounds_ for latency in r["latencies"]]
        figures |= {
            f"{name}_per_s": round(median(rates[name]), 1),
            f"{name}_per_s_range": [round(min(rates[name]), 1), round(max(rates[name]), 1)],
            f"{name}_p50_ms": round(percentile(latencies, 50), 1),
            f"{name}_p99_ms": round(percentile(latencies, 99), 1),
            f"{name}_p99_ms_by_round": [round(percentile(r["latencies"], 99), 1) for r in rounds_],
            f"{name}_errors": sum(r["errors"] for r in rounds_),
        }
    return {
        **figures,
        "ratio": round(median(ratios), 2),
        "ratio_range": [round(min(ratios), 2), round(max(ratios), 2)],
        "ratio_to_unchained": round(median(rates["api"]) / median(rates["unchained"]), 2),
        "gunicorn_processes": web_concurrency(),
    }


def measure(clients: int, seconds: float, write: Write) -> dict[str, Any]:
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
                time.sleep(WARM_UP)  # A failing writer must not spin.
            else:
                if now >= measuring:
                    latencies[i].append((time.perf_counter() - now) * 1000)
            n += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [latency for per_client in latencies for latency in per_client]
    return {"rate": len(every) / seconds, "latencies": every, "errors": len(errors)}


@contextmanager
def library_writer(database_url: str, clients: int, *, chained: bool) -> Iterator[Writer]:
    """Load-update-save by hand with the library: the Accord application's repository and save, nothing else."""
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

        yield Writer(write)
    finally:
        app.close()


@contextmanager
def api_writer(database_url: str, queue: str, clients: int) -> Iterator[Writer]:
    """POST updates over HTTP to `accord serve` (sized as `make run` sizes it) with one `accord worker`; after each
    turn, wait for the worker to apply everything, so its backlog does not load the library's turns."""
    system = bootstrap(settings(database_url, redis_url=redis_url(), queue=queue), in_process=False)
    actions = plan_with_actions(system.app, ACTIONS)
    tokens = editor_tokens(system.app, actions)
    port = free_port()
    env = {**worker_env(database_url, queue), "ACCORD_RATE_LIMIT": "off", "ACCORD_PORT": str(port)}
    server = subprocess.Popen(
        [ACCORD, "serve", "--no-demo"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
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
            try:
                connection.request("POST", f"/api/v1/actions/{action_id}/updates", body, headers)
                response = connection.getresponse()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # gunicorn closed the idle keep-alive connection between turns: reconnect, as any client would.
                connection.close()
                connection.request("POST", f"/api/v1/actions/{action_id}/updates", body, headers)
                response = connection.getresponse()
            response.read()
            if response.status != HTTPStatus.CREATED:
                raise RuntimeError(f"HTTP {response.status}")

        yield Writer(write, lambda: system.projections.wait(system.app.recorder.max_notification_id() or 0, 120))
    finally:
        for process in [server, *workers]:
            process.terminate()
            process.wait(timeout=30)
        system.close()


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
