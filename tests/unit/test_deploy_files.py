"""The deployment files, read the way Docker, Compose and systemd read them, checked against the
real CLI and settings: every command they run parses as an `overture` command, every
OVERTURE_* variable is a setting with a valid value, and the wiring holds (the image is
multi-stage, runs as a non-root user and probes /healthz on the port it serves; compose migrates
before the API and two workers start, on the PostgreSQL it runs). Docker itself cannot run in
CI, so the image build and `docker compose config` are documented in docs/operations/deploy.md.
"""

from __future__ import annotations

import configparser
import re
import shlex
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
import dockerfile
import pytest
import yaml

from overture.cli.main import cli
from overture.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SYSTEMD = ROOT / "deploy" / "systemd"


def overture_command(argv: list[str]) -> tuple[str, dict[str, Any]]:
    """The subcommand and its parsed options, as `overture ARGS` would parse them (not run)."""
    assert Path(argv[0]).name == "overture", argv
    name, *args = argv[1:]
    command = cli.get_command(click.Context(cli), name)
    assert command is not None, f"`overture {name}` is not a command"
    with command.make_context(name, args) as ctx:
        return name, dict(ctx.params)


def settings_from(env: dict[str, str]) -> Settings:
    """The settings a process with these OVERTURE_* variables gets (refused if one is unknown)."""
    prefix = "OVERTURE_"
    values: dict[str, Any] = {k[len(prefix) :].lower(): v for k, v in env.items() if k.startswith(prefix)}
    return Settings(**values)


# --- Dockerfile ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stages() -> list[list[dockerfile.Command]]:
    """The Dockerfile's instructions, one list per build stage (by BuildKit's own parser)."""
    found: list[list[dockerfile.Command]] = []
    for command in dockerfile.parse_file(str(ROOT / "Dockerfile")):
        if command.cmd == "FROM":
            found.append([])
        if found:
            found[-1].append(command)
    return found


def one(stage: list[dockerfile.Command], cmd: str) -> dockerfile.Command:
    (found,) = [c for c in stage if c.cmd == cmd]
    return found


def test_the_image_is_built_in_one_stage_and_run_from_another(stages: list[list[dockerfile.Command]]) -> None:
    assert len(stages) >= 2
    build_name = one(stages[0], "FROM").value[-1]
    runtime = stages[-1]
    copies = [c for c in runtime if c.cmd == "COPY"]
    assert copies and all(f"--from={build_name}" in c.flags for c in copies)
    assert not [c for c in runtime if c.cmd == "RUN" and "pip install" in c.value[0]]


def test_the_image_runs_as_a_user_who_is_not_root(stages: list[list[dockerfile.Command]]) -> None:
    runtime = stages[-1]
    user = one(runtime, "USER").value[0].split(":")[0]
    assert user not in {"root", "0"}
    created = " ".join(c.value[0] for c in runtime if c.cmd == "RUN")
    assert re.search(rf"useradd\b.*\b{user}\b", created), "the user is created in the runtime stage"
    last_user = max(i for i, c in enumerate(runtime) if c.cmd == "USER")
    assert one(runtime, "CMD") in runtime[last_user:]


def test_the_healthcheck_probes_healthz_on_the_port_the_image_serves(
    stages: list[list[dockerfile.Command]],
) -> None:
    runtime = stages[-1]
    (exposed,) = one(runtime, "EXPOSE").value
    name, params = overture_command(list(one(runtime, "CMD").value))
    assert name == "serve" and params["host"] == "0.0.0.0" and str(params["port"]) == exposed
    check = one(runtime, "HEALTHCHECK")
    assert check.value[0] == "CMD" and f"http://127.0.0.1:{exposed}/healthz" in " ".join(check.value)
    assert {f.split("=")[0] for f in check.flags} >= {"--interval", "--timeout", "--retries"}


def test_every_setting_the_image_sets_is_valid(stages: list[list[dockerfile.Command]]) -> None:
    env: dict[str, str] = {}
    for command in stages[-1]:
        if command.cmd == "ENV":
            env.update(zip(command.value[::2], command.value[1::2], strict=True))
    assert settings_from(env).log_format == "json"


def test_the_build_context_holds_what_the_dockerfile_copies(stages: list[list[dockerfile.Command]]) -> None:
    """.dockerignore leaves out everything but what the build stage copies in."""
    ignore = (ROOT / ".dockerignore").read_text().split()
    assert "*" in ignore, "everything is left out unless named"
    kept = {line.removeprefix("!").rstrip("/") for line in ignore if line.startswith("!")}
    copied = {s.rstrip("/") for c in stages[0] if c.cmd == "COPY" for s in c.value[:-1]}
    assert copied <= kept and all((ROOT / path).exists() for path in copied)


# --- compose.yaml ------------------------------------------------------------------------------


def substituted(text: str, env: dict[str, str]) -> str:
    """Compose's ${VAR:-default} and ${VAR} interpolation."""

    def value(match: re.Match[str]) -> str:
        name, default = match["name"], match["default"]
        return env.get(name) or (default if default is not None else "")

    return re.sub(r"\$\{(?P<name>[A-Z0-9_]+)(?::-(?P<default>[^}]*))?\}", value, text)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    text = substituted((ROOT / "compose.yaml").read_text(), {})
    loaded: dict[str, Any] = yaml.safe_load(text)  # anchors and `<<:` merges resolved
    return loaded


def overture_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: s for name, s in compose["services"].items() if s.get("build")}


def test_compose_runs_postgres_a_migration_the_api_and_two_workers(compose: dict[str, Any]) -> None:
    commands = {name: overture_command(s["command"]) for name, s in overture_services(compose).items()}
    assert {name: cmd for name, (cmd, _) in commands.items()} == {
        "migrate": "migrate",
        "serve": "serve",
        "worker": "worker",
    }
    assert compose["services"]["worker"]["deploy"]["replicas"] == 2
    assert compose["services"]["postgres"]["image"].startswith("postgres:")
    _, serve = commands["serve"]
    assert serve["host"] == "0.0.0.0" and serve["no_worker"], "jobs are left to the worker replicas"
    published = [p.rsplit(":", 1) for p in compose["services"]["serve"]["ports"]]
    assert [target for _, target in published] == [str(serve["port"])]


def test_compose_migrates_once_postgres_is_ready_and_starts_the_rest_after(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["postgres"]["healthcheck"]["test"]
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert services["migrate"]["restart"] == "no"
    for name in ("serve", "worker"):
        assert services[name]["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}


def test_compose_processes_without_http_turn_the_image_healthcheck_off(compose: dict[str, Any]) -> None:
    services = overture_services(compose)
    off = {name for name, s in services.items() if s.get("healthcheck", {}).get("disable")}
    assert off == {"migrate", "worker"}


def test_compose_settings_are_valid_and_point_at_its_postgres(compose: dict[str, Any]) -> None:
    postgres = compose["services"]["postgres"]["environment"]
    for name, service in overture_services(compose).items():
        settings = settings_from({k: str(v) for k, v in service["environment"].items()})
        url = urlsplit(settings.database_url)
        assert (url.scheme, url.hostname, url.port, url.path) == (
            "postgresql",
            "postgres",
            5432,
            f"/{postgres['POSTGRES_DB']}",
        ), name
        assert (url.username, url.password) == (postgres["POSTGRES_USER"], postgres["POSTGRES_PASSWORD"])
        mounts = [v.split(":")[1] for v in service["volumes"]]
        assert str(settings.outbox_dir) in mounts, "effects written as files outlive the container"


def test_compose_takes_the_database_password_from_the_environment() -> None:
    text = substituted((ROOT / "compose.yaml").read_text(), {"POSTGRES_PASSWORD": "s3cret"})
    loaded = yaml.safe_load(text)
    assert loaded["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"] == "s3cret"
    assert ":s3cret@" in loaded["services"]["worker"]["environment"]["OVERTURE_DATABASE_URL"]


# --- systemd -----------------------------------------------------------------------------------


def unit(name: str) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys keep their case
    parser.read(SYSTEMD / name)
    return parser


@pytest.mark.parametrize(
    ("name", "commands"),
    [("overture.service", ["migrate", "serve"]), ("overture-worker@.service", ["worker"])],
)
def test_each_unit_runs_overture_commands_as_the_overture_user(name: str, commands: list[str]) -> None:
    service = unit(name)["Service"]
    run = [service[key] for key in ("ExecStartPre", "ExecStart") if key in service]
    assert [overture_command(shlex.split(line))[0] for line in run] == commands
    assert service["User"] == "overture" and service["Restart"] == "on-failure"
    assert service["EnvironmentFile"] == "/etc/overture/overture.env"
    assert service["KillSignal"] == "SIGTERM"


def test_the_example_environment_file_holds_valid_settings() -> None:
    lines = (SYSTEMD / "overture.env.example").read_text().splitlines()
    env = dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))
    settings = settings_from(env)
    assert settings.database_url.startswith("postgresql://")
    assert all(k.startswith("OVERTURE_") for k in env)


def test_settings_from_refuses_an_unknown_variable() -> None:
    """The check above can fail: a misspelt setting is refused by name."""
    with pytest.raises(ValueError, match="databse_url"):
        settings_from({"OVERTURE_DATABSE_URL": "sqlite://"})
