"""The container setup: docker-compose.yml and the Dockerfile describe services that can actually start.

There is no Docker engine here, so these tests read the files and check them against the project itself:
each command is a real entry point, each service waits for what it needs, and the image runs what compose runs.
"""

from __future__ import annotations

import ast
import importlib
import json
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from gunicorn.config import Config as GunicornConfig
from packaging.requirements import Requirement

from cli import build_parser
from service.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
PYPROJECT = ROOT / "pyproject.toml"

BACKING_SERVICES = ("postgres", "redis")
APP_SERVICES = ("api", "worker")


def compose_services() -> dict[str, dict[str, Any]]:
    return yaml.safe_load(COMPOSE_FILE.read_text())["services"]


def pyproject() -> dict[str, Any]:
    return tomllib.loads(PYPROJECT.read_text())


def is_built_from_project(service: dict[str, Any]) -> bool:
    build = service.get("build")
    context = build.get("context", ".") if isinstance(build, dict) else build
    return context is not None and (COMPOSE_FILE.parent / context).resolve() == ROOT


def environment(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment, whether written as a mapping or as a list of KEY=value."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) for item in env if "=" in item)
    return {key: "" if value is None else str(value) for key, value in env.items()}


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with comments dropped and continuation lines joined."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for line in DOCKERFILE.read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        keyword, _, arguments = (pending + stripped).partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        pending = ""
    return instructions


def dockerfile_cmd() -> list[str]:
    commands = [arguments for keyword, arguments in dockerfile_instructions() if keyword == "CMD"]
    assert commands, "the Dockerfile has no CMD"
    try:
        command = json.loads(commands[-1])  # Docker uses the last CMD
    except json.JSONDecodeError:
        pytest.fail(f"the Dockerfile's CMD is not in JSON (exec) form: {commands[-1]}")
    assert isinstance(command, list), f"the Dockerfile's CMD is not a JSON list: {commands[-1]}"
    return command


def runtime_dependencies() -> set[str]:
    return {Requirement(spec).name.lower() for spec in pyproject()["project"]["dependencies"]}


def check_accord_command(arguments: list[str]) -> None:
    scripts = pyproject()["project"].get("scripts", {})
    assert "accord" in scripts, "`accord` is not a console script in pyproject.toml [project.scripts]"
    module_name, _, attribute = scripts["accord"].partition(":")
    assert callable(getattr(importlib.import_module(module_name), attribute, None)), (
        f"the `accord` console script points at {scripts['accord']}, which is not a callable"
    )
    command = " ".join(["accord", *arguments])
    try:
        build_parser().parse_args(arguments)
    except SystemExit as exit_:
        pytest.fail(
            f"`{command}` is not a command that cli.build_parser() accepts (argparse exited with status "
            f"{exit_.code}; its message is in the captured stderr)"
        )


def check_gunicorn_command(arguments: list[str]) -> None:
    assert "gunicorn" in runtime_dependencies(), "gunicorn is not a runtime dependency, so the image lacks it"
    command = " ".join(["gunicorn", *arguments])
    try:
        options = GunicornConfig().parser().parse_args(arguments)
    except SystemExit as exit_:
        pytest.fail(f"gunicorn rejects the options of `{command}` (exit status {exit_.code})")
    assert len(options.args) == 1, f"`{command}` must name exactly one APP (module:callable), not {options.args}"
    app = options.args[0]
    module_name, separator, expression = app.partition(":")
    assert separator and module_name and expression, f"gunicorn's APP {app!r} is not in the form module:callable"
    try:
        node = ast.parse(expression, mode="eval").body
    except SyntaxError:
        pytest.fail(f"gunicorn's APP {app!r}: {expression!r} is not a name or a call")
    if isinstance(node, ast.Call):
        for argument in [*node.args, *(keyword.value for keyword in node.keywords)]:
            ast.literal_eval(argument)  # gunicorn accepts literal arguments only
        node = node.func
    assert isinstance(node, ast.Name), f"gunicorn's APP {app!r}: {expression!r} is not a name or a call"
    module = importlib.import_module(module_name)
    # Not called: building the app bootstraps the system, which connects to the database.
    target = getattr(module, node.id, None)
    assert callable(target), f"gunicorn's APP {app!r}: {module_name}.{node.id} is not a callable"


PROJECT_SERVICES = sorted(name for name, service in compose_services().items() if is_built_from_project(service))


def test_every_service_has_a_healthcheck() -> None:
    for name, service in compose_services().items():
        healthcheck = service.get("healthcheck") or {}
        test = healthcheck.get("test")
        assert test and not healthcheck.get("disable"), f"service {name} has no healthcheck"
        assert test not in (["NONE"], "NONE"), f"service {name} disables its healthcheck"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_start_only_once_postgres_and_redis_are_healthy(name: str) -> None:
    depends_on = compose_services()[name].get("depends_on") or {}
    assert isinstance(depends_on, dict), f"service {name} lists depends_on without conditions: {depends_on}"
    for backing in BACKING_SERVICES:
        condition = (depends_on.get(backing) or {}).get("condition")
        assert condition == "service_healthy", f"service {name} does not wait for {backing} to be healthy"


def test_api_and_worker_are_built_from_this_project() -> None:
    assert set(APP_SERVICES) <= set(PROJECT_SERVICES)


@pytest.mark.parametrize("name", PROJECT_SERVICES)
def test_services_built_from_this_project_run_a_real_entry_point_of_it(name: str) -> None:
    command = compose_services()[name].get("command")
    assert isinstance(command, list) and command, f"service {name}: command must be a non-empty list, not {command!r}"
    assert all(isinstance(word, str) for word in command), f"service {name}: command has non-string words"
    program, *arguments = command
    if program == "accord":
        check_accord_command(arguments)
    elif program == "gunicorn":
        check_gunicorn_command(arguments)
    else:
        pytest.fail(f"service {name} runs {program!r}, which is not an entry point of this project")


def test_image_runs_by_default_the_same_gunicorn_command_as_the_compose_api() -> None:
    command = dockerfile_cmd()
    assert command[0] == "gunicorn"
    assert command == compose_services()["api"]["command"]


def test_image_runs_as_a_non_root_user_and_exposes_the_port_compose_publishes() -> None:
    instructions = dockerfile_instructions()
    users = [arguments for keyword, arguments in instructions if keyword == "USER"]
    assert users, "the image runs as root: the Dockerfile has no USER"
    assert users[-1].split(":")[0] not in ("root", "0"), f"the image runs as {users[-1]}"
    exposed = {
        port.split("/")[0] for keyword, arguments in instructions if keyword == "EXPOSE" for port in arguments.split()
    }
    published = {str(mapping).rsplit(":", 1)[-1].split("/")[0] for mapping in compose_services()["api"]["ports"]}
    assert published <= exposed, f"compose publishes container ports {published}; the image exposes {exposed}"
    assert any(keyword == "HEALTHCHECK" for keyword, _ in instructions), "the image has no HEALTHCHECK"


def test_image_installs_the_project_without_dev_extras() -> None:
    installs = [
        arguments for keyword, arguments in dockerfile_instructions() if keyword == "RUN" and "pip install" in arguments
    ]
    assert installs, "the Dockerfile never pip-installs the project"
    assert not any("[dev]" in arguments for arguments in installs), "the image installs the dev extras"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_are_configured_for_the_compose_postgres_and_redis(name: str) -> None:
    services = compose_services()
    env = environment(services[name])
    database_url = env.get("ACCORD_DATABASE_URL", "")
    redis_url = env.get("ACCORD_REDIS_URL", "")
    assert database_url.startswith("postgresql://"), f"service {name}: ACCORD_DATABASE_URL is {database_url!r}"
    assert redis_url.startswith("redis://"), f"service {name}: ACCORD_REDIS_URL is {redis_url!r}"
    settings = Settings.from_env(env)
    assert settings.is_postgres
    assert settings.redis_url == redis_url
    assert urlsplit(database_url).hostname == "postgres"
    assert urlsplit(redis_url).hostname == "redis"
    # The URL's credentials and database are the ones the postgres service is initialised with.
    postgres = environment(services["postgres"])
    store = settings.eventsourcing_env()
    assert store["POSTGRES_USER"] == postgres["POSTGRES_USER"]
    assert store["POSTGRES_PASSWORD"] == postgres["POSTGRES_PASSWORD"]
    assert store["POSTGRES_DBNAME"] == postgres["POSTGRES_DB"]


def test_worker_service_runs_accord_worker() -> None:
    assert compose_services()["worker"]["command"] == ["accord", "worker"]


def test_image_builds_the_pages_assets_by_the_makefiles_rule_and_installs_them() -> None:
    """Without them the image's pages are unstyled: a node stage runs the Makefile's rule, the Python stage copies
    its web/static/ into the sources before installing them (package data), and the context leaves out local
    node_modules and web/static."""
    instructions = dockerfile_instructions()
    stages = [i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM"]
    assert len(stages) == 2, "the Dockerfile has no separate stage for the pages' assets"
    node_stage = instructions[stages[0] : stages[1]]
    base, _, name = node_stage[0][1].partition(" AS ")
    assert base.startswith("node:") and name, f"the first stage is {node_stage[0][1]!r}, not a named node stage"
    makefile = (ROOT / "Makefile").read_text()
    target = next(line.split(":=")[1].strip() for line in makefile.splitlines() if line.startswith("ASSETS :="))
    assert ("RUN", f"make {target}") in node_stage, "the node stage does not run the Makefile's assets rule"
    python_stage = instructions[stages[1] :]
    copy = next(i for i, (k, a) in enumerate(python_stage) if k == "COPY" and a.startswith(f"--from={name} "))
    install = next(i for i, (k, a) in enumerate(python_stage) if k == "RUN" and "pip install" in a)
    assert copy < install, "the assets are copied after the project is installed"
    assert python_stage[copy][1].split()[1:] == ["/build/web/static", "/src/web/static"]
    assert (
        "web = " in (ROOT / "pyproject.toml").read_text() and '"static/**/*"' in (ROOT / "pyproject.toml").read_text()
    )
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert "node_modules" in ignored and "web/static" in ignored
