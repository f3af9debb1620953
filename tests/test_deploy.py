"""The compose stack, the image and the example configuration agree with the code."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

from reminders import settings_care
from reminders.settings import KNOWN_VARIABLES, PROJECT_ROOT, VARIABLES, Settings

COMPOSE = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
# Variables the compose file itself uses (interpolation), not ones our settings read.
COMPOSE_ONLY = {"FLOWER_BASIC_AUTH", "STACK_REDIS_URL", "STACK_SENTINEL_MASTER",
                "STACK_BROKER_URL", "RABBITMQ_PASSWORD", "REDIS_PASSWORD", "STACK_BASE_IMAGE",
                "STACK_REDIS_IMAGE", "STACK_RABBITMQ_IMAGE", "STACK_ENV_FILE", "STACK_WEB_PORT",
                "STACK_FLOWER_PORT"}


def test_compose_has_the_production_shaped_services() -> None:
    default = {name for name, service in SERVICES.items() if "profiles" not in service}
    assert default == {"redis", "web", "worker", "beat", "flower"}
    profiles = {name: service["profiles"] for name, service in SERVICES.items()
                if "profiles" in service}
    assert profiles == {"redis-replica": ["sentinel"], "sentinel-1": ["sentinel"],
                        "sentinel-2": ["sentinel"], "sentinel-3": ["sentinel"],
                        "rabbitmq": ["rabbitmq"]}
    replica = " ".join(SERVICES["redis-replica"]["command"])
    assert "--replicaof redis 6379" in replica and "--maxmemory-policy noeviction" in replica
    for name in ("sentinel-1", "sentinel-2", "sentinel-3"):
        assert "sentinel monitor reminders redis 6379 2" in SERVICES[name]["command"][-1]
    redis_cmd = " ".join(SERVICES["redis"]["command"])
    assert "--appendonly yes" in redis_cmd and "--maxmemory-policy noeviction" in redis_cmd
    assert "--appendfsync everysec" in redis_cmd
    assert SERVICES["redis"]["volumes"] and "healthcheck" in SERVICES["redis"]
    assert "/healthz" in " ".join(SERVICES["web"]["healthcheck"]["test"])
    assert "container_name" not in SERVICES["worker"]  # so --scale worker=N works
    assert "--basic-auth" in " ".join(SERVICES["flower"]["command"])


def test_every_command_is_a_real_entry_point_of_ours() -> None:
    import worker

    assert worker.app.main == "reminders"
    for name in ("web", "worker", "beat", "flower"):
        command = SERVICES[name]["command"]
        if command[0] == "gunicorn":
            module, _, call = command[-1].partition(":")
            assert module == "reminders.web" and call == "wsgi_app()"
            from reminders.entry.web import app as web

            assert callable(web.wsgi_app)
        else:
            assert command[:3] == ["celery", "-A", "worker"], command
            assert command[3] in {"worker", "beat", "flower"}
    # The task names the contract promises are registered on that app.
    assert {"reminders.dispatch_due", "reminders.send_reminder"} <= set(worker.app.tasks)


def test_every_variable_set_is_one_our_settings_know() -> None:
    for name, service in SERVICES.items():
        if "build" not in service:
            continue  # not ours (redis, sentinels, rabbitmq)
        for variable in service.get("environment", {}):
            assert variable in KNOWN_VARIABLES, (name, variable)
    interpolated = set(re.findall(r"\$\{([A-Z_]+)", (PROJECT_ROOT / "docker-compose.yml")
                                  .read_text()))
    assert interpolated <= set(KNOWN_VARIABLES) | COMPOSE_ONLY


def test_env_example_documents_exactly_the_known_variables() -> None:
    text = (PROJECT_ROOT / ".env.example").read_text()
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, re.MULTILINE))
    assert documented - COMPOSE_ONLY == set(KNOWN_VARIABLES)


def test_every_known_variable_sets_a_setting_or_is_read_by_logs() -> None:
    fields = set(Settings.model_fields)
    for variable in VARIABLES:
        if variable.field is None:
            logs_source = (PROJECT_ROOT / "reminders" / "logs.py").read_text()
            assert f'"{variable.name}"' in logs_source, f"{variable.name} is never read"
        else:
            assert variable.field in fields, f"{variable.name} sets no setting"
    # and every setting but the derived backends' inputs comes from exactly one variable
    set_by = [variable.field for variable in VARIABLES if variable.field]
    assert len(set_by) == len(set(set_by))
    # `care` is the care-team loop's own table (settings_care.py): each of its names sets one
    # of its fields
    assert fields - {"care"} == set(set_by)
    care_fields = settings_care.CareSettings.model_fields.values()
    assert sorted(settings_care.NAMES) == sorted(str(info.alias) for info in care_fields)


def test_image_is_slim_non_root_and_dependencies_pinned() -> None:
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text()
    # python:3.11-slim unless the build says otherwise (scripts/stack_images.sh's local base).
    assert re.search(r"^ARG BASE_IMAGE=python:3\.11-slim$", dockerfile, re.MULTILINE)
    assert re.search(r"^FROM \$\{BASE_IMAGE\} AS app$", dockerfile, re.MULTILINE)
    assert re.search(r"^USER app$", dockerfile, re.MULTILINE)
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    for requirement in [*project["dependencies"], *project["optional-dependencies"]["dev"]]:
        assert re.match(r"^[A-Za-z0-9_.\[\]-]+==[0-9][\w.]*$", requirement), requirement
    assert (Path(PROJECT_ROOT) / "templates" / "content" / "library.toml").is_file()


def test_the_lua_scripts_ship_with_an_installed_package() -> None:
    """The image installs the package (not editable): its data files must be declared."""
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())
    declared = project["tool"]["setuptools"]["package-data"]["reminders.storage"]
    scripts = sorted((PROJECT_ROOT / "reminders" / "storage").glob("lua/*.lua"))
    assert scripts
    for script in scripts:
        relative = script.relative_to(PROJECT_ROOT / "reminders" / "storage")
        assert any(relative.match(pattern) for pattern in declared), relative


def test_the_stack_runs_nothing_without_a_password_and_publishes_flower_locally() -> None:
    redis_command = " ".join(SERVICES["redis"]["command"])
    assert "--requirepass ${REDIS_PASSWORD:?" in redis_command
    assert "${REDIS_PASSWORD}@redis:6379" in SERVICES["web"]["environment"]["REDIS_URL"]
    assert "--masterauth" in SERVICES["redis-replica"]["command"]
    assert "auth-pass" in " ".join(SERVICES["sentinel-1"]["command"])
    rabbit = SERVICES["rabbitmq"]["environment"]["RABBITMQ_DEFAULT_PASS"]
    assert rabbit.startswith("${RABBITMQ_PASSWORD:?")
    assert SERVICES["flower"]["ports"] == ["127.0.0.1:${STACK_FLOWER_PORT:-5555}:5555"]
