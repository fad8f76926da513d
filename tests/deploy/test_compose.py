"""The deployment files, checked without a Docker engine, and no secret committed anywhere.

docker-compose.yaml against Airflow 3's official file, the Dockerfile and .dockerignore, the
env files, the Helm values, and against what the code reads (connections, the Variable).
"""

from __future__ import annotations

import fnmatch
import importlib.util
import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import dotenv
import pytest
import yaml

from campaigns.connection_fields import DAM
from campaigns.hooks.box import BoxHook
from campaigns.hooks.dam import DamHook
from campaigns.hooks.retry_state import RetryStateHook
from campaigns.settings import PipelineSettings
from deploy import sandbox_env
from sandbox.box import fixture as box_fixture
from sandbox.dam import fixture as dam_fixture

REPO = Path(__file__).resolve().parents[2]
COMPOSE_TEXT = (REPO / "docker-compose.yaml").read_text()
SERVICES = yaml.safe_load(COMPOSE_TEXT)["services"]
DOCKERFILE = (REPO / "Dockerfile").read_text()
ENV_EXAMPLE = dotenv.dotenv_values(REPO / ".env.example")
HELM = yaml.safe_load((REPO / "deploy" / "helm" / "values.yaml").read_text())
AIRFLOW_HOME = "/opt/airflow"

# Airflow 3's official docker-compose.yaml: its services, and the command of the long-running ones.
OFFICIAL_SERVICES = {
    "postgres": None,
    "redis": None,
    "airflow-apiserver": "api-server",
    "airflow-scheduler": "scheduler",
    "airflow-dag-processor": "dag-processor",
    "airflow-worker": "celery worker",
    "airflow-triggerer": "triggerer",
    "airflow-init": None,
    "airflow-cli": None,
    "flower": "celery flower",
}
OFFICIAL_PROFILES = {"airflow-cli": ["debug"], "flower": ["flower"]}
RUN_ONCE = {"airflow-init", "airflow-cli"}
SANDBOX_SERVICES = {"sandboxes", "mailcatcher"}
# What the code is known to read; the grep below must find at least these.
KNOWN_CONNECTIONS = {"tracking_db", "dam_default", "box_default", "smtp_default"}
KNOWN_VARIABLES = {"a1_to_a2_settings"}


def airflow_services() -> dict[str, dict]:
    return {
        name: s for name, s in SERVICES.items() if s.get("build", {}).get("target") == "airflow"
    }


def required_parameters() -> set[str]:
    """The variables docker compose refuses to run without (``${NAME:?...}``)."""
    return set(re.findall(r"\$\{(\w+):?\?", COMPOSE_TEXT))


def pinned_airflow() -> str:
    text = (REPO / "requirements.txt").read_text()
    return re.search(r"^apache-airflow==(\S+)$", text, re.MULTILINE).group(1)


def dockerfile_copies() -> dict[str, list[tuple[str, str]]]:
    """Each stage's COPY (source, destination) pairs, a stage including those of its base."""
    stages: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] = []
    for line in DOCKERFILE.splitlines():
        if match := re.match(r"FROM (\S+) AS (\w+)$", line):
            base, name = match.groups()
            current = stages[name] = list(stages.get(base, []))
        elif line.startswith("COPY "):
            *_, source, destination = line.split()
            current.append((source, destination))
    return stages


def mounts(service: dict, bind: bool = True) -> list[tuple[str, str]]:
    """(source, container path) of the service's bind mounts, or of its named volumes."""
    found = []
    for volume in service.get("volumes", []):
        source, target = volume.split(":")[:2]
        if source.startswith((".", "/")) == bind:
            found.append((source, target))
    return found


def command_of(service: dict) -> list[str]:
    parts = []
    for key in ("entrypoint", "command"):
        value = service.get(key) or []
        parts += shlex.split(value) if isinstance(value, str) else value
    return parts


def code_files() -> list[Path]:
    return sorted([*(REPO / "plugins").rglob("*.py"), *(REPO / "dags").rglob("*.py")])


def connections_read_by_the_code() -> set[str]:
    """Connection ids: hooks' ``default_conn_name``, ``conn_id`` parameters' defaults and
    ``..._CONN_ID`` constants."""
    pattern = re.compile(
        r"""(?:default_conn_name\s*=|conn_id:\s*str\s*=|\b[A-Z_]*CONN_ID\s*=)\s*["'](\w+)["']"""
    )
    return {match for path in code_files() for match in pattern.findall(path.read_text())}


def variables_read_by_the_code() -> set[str]:
    """Variable names: ``Variable.get("name")`` and the ``VARIABLE = "name"`` constants."""
    pattern = re.compile(r"""(?:Variable\.get\(|\bVARIABLE\s*=)\s*["'](\w+)["']""")
    return {match for path in code_files() for match in pattern.findall(path.read_text())}


# The compose file against the official one


def test_every_service_of_the_official_compose_file_is_there():
    for name, command in OFFICIAL_SERVICES.items():
        assert name in SERVICES, name
        service = SERVICES[name]
        if command:
            assert service["command"] == command, name
        assert service.get("profiles") == OFFICIAL_PROFILES.get(name), name
        if name not in RUN_ONCE:
            assert service["healthcheck"]["test"], name
            assert service["restart"] == "always", name


def test_airflow_services_keep_the_official_settings():
    services = airflow_services()
    assert set(services) == {n for n in OFFICIAL_SERVICES if n.startswith("airflow")} | {"flower"}
    for name, service in services.items():
        env = service["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert env["AIRFLOW__CORE__AUTH_MANAGER"].endswith(".FabAuthManager"), name
        assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == (
            "http://airflow-apiserver:8080/execution/"
        )
        assert env["AIRFLOW__CELERY__BROKER_URL"] == "redis://:@redis:6379/0", name
        assert "_PIP_ADDITIONAL_REQUIREMENTS" not in env, name
        assert {"redis", "postgres", "tracking-db"} <= set(service["depends_on"]), name
    assert services["airflow-worker"]["environment"]["DUMB_INIT_SETSID"] == "0"
    init_env = services["airflow-init"]["environment"]
    assert init_env["_AIRFLOW_DB_MIGRATE"] == init_env["_AIRFLOW_WWW_USER_CREATE"] == "true"


def test_the_tracking_tables_have_their_own_database_and_the_init_job_migrates_it():
    tracking, metadata = SERVICES["tracking-db"], SERVICES["postgres"]
    assert tracking["environment"]["POSTGRES_DB"] != metadata["environment"]["POSTGRES_DB"]
    assert tracking["volumes"] != metadata["volumes"]
    init = " ".join(command_of(SERVICES["airflow-init"]))
    assert init.index("/entrypoint airflow version") < init.index("python -m campaigns.migrate")
    tracking_url = airflow_services()["airflow-worker"]["environment"]["AIRFLOW_CONN_TRACKING_DB"]
    assert "@tracking-db:5432/tracking}" in tracking_url


def test_the_sandbox_profile_adds_the_sandboxes_and_a_mail_catcher():
    for name, service in SERVICES.items():
        in_profile = service.get("profiles") == ["sandbox"]
        assert in_profile == (name in SANDBOX_SERVICES), name
        assert (service.get("build", {}).get("target") == "sandbox") == in_profile, name


# The image


def test_the_image_is_the_official_one_with_the_requirements_installed():
    base = re.search(r"^FROM apache/airflow:(\S+) AS airflow$", DOCKERFILE, re.MULTILINE)
    assert base, "the first stage must be built FROM apache/airflow:<version> AS airflow"
    assert base.group(1).split("-")[0] == pinned_airflow()
    assert "COPY requirements.txt /requirements.txt" in DOCKERFILE
    assert "pip install --no-cache-dir -r /requirements.txt" in DOCKERFILE
    for name, service in SERVICES.items():
        if "build" in service:
            assert service["build"]["context"] == ".", name
            assert service["build"]["target"] in dockerfile_copies(), name


def test_mounted_paths_build_contexts_and_copied_files_exist():
    ignored = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for name, service in SERVICES.items():
        if "build" in service:
            assert (REPO / service["build"]["context"] / "Dockerfile").is_file(), name
        for source, _ in mounts(service):
            assert (REPO / source).exists(), f"{name} mounts {source}, missing from the repo"
    for copies in dockerfile_copies().values():
        for source, _ in copies:
            assert (REPO / source).exists(), f"COPY {source}: missing from the repo"
            top = source.strip("/").split("/")[0]
            assert not any(fnmatch.fnmatch(top, pattern) for pattern in ignored), source


def test_airflow_containers_keep_the_repository_layout():
    """The code finds include/ beside plugins/ (``parents[2]``): both under /opt/airflow."""
    layout = {f"./{name}": f"{AIRFLOW_HOME}/{name}" for name in ("dags", "plugins", "include")}
    for name, service in airflow_services().items():
        assert layout.items() <= dict(mounts(service)).items(), name
    copied = dict(dockerfile_copies()["airflow"])
    for source, target in layout.items():
        assert copied[source.removeprefix("./") + "/"] == target + "/"


def test_every_file_and_module_a_service_names_exists():
    stages = dockerfile_copies()
    for name, service in SERVICES.items():
        command = command_of(service)
        in_image = stages.get(service.get("build", {}).get("target"), [])
        sources = [(f"./{s.rstrip('/')}", d.rstrip("/")) for s, d in in_image]
        for word in " ".join(command).split():
            path = word.strip("'\"")
            volumes = [target for _, target in mounts(service, bind=False)]
            if not path.startswith(AIRFLOW_HOME + "/") or any(
                Path(path).is_relative_to(target) for target in volumes
            ):
                continue
            found = [
                REPO / source / Path(path).relative_to(target)
                for source, target in mounts(service) + sources
                if Path(path).is_relative_to(target)
            ]
            assert found, f"{name}: nothing provides {path}"
            assert found[0].exists(), f"{name}: {path} is {found[0]}, missing from the repo"
        for module in re.findall(r"python -m ([\w.]+)", " ".join(command)):
            relative = Path(*module.split("."))
            local = [
                REPO / root / relative
                for root in ("plugins", ".")
                if (REPO / root / relative).with_suffix(".py").is_file()
                or (REPO / root / relative / "__main__.py").is_file()
            ]
            assert local or importlib.util.find_spec(module), f"{name}: no module {module}"


@pytest.mark.parametrize("name", sorted(SANDBOX_SERVICES))
def test_sandbox_commands_use_options_their_programs_have(name):
    command = command_of(SERVICES[name])
    assert command[:2] == ["python", "-m"]
    first_option = next(i for i, word in enumerate(command[2:], 2) if word.startswith("-"))
    subcommand = command[2:first_option]
    shown = subprocess.run(
        [sys.executable, "-m", *subcommand, "--help"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert shown.returncode == 0, shown.stderr
    for option in (w for w in command if w.startswith("--")):
        assert option in shown.stdout, f"{name}: {option} unknown to {' '.join(subcommand)}"


def test_the_sandbox_env_points_where_the_sandboxes_listen():
    sandboxes = command_of(SERVICES["sandboxes"])
    ports = {sandboxes[i]: sandboxes[i + 1] for i, w in enumerate(sandboxes) if w.endswith("-port")}
    assert (
        f"http://127.0.0.1:{ports['--box-port']}",
        f"http://127.0.0.1:{ports['--dam-port']}",
    ) == (sandbox_env.BOX_URL, sandbox_env.DAM_URL)
    # The sandboxes listen on 127.0.0.1 only: the worker, which runs the tasks, shares it.
    assert SERVICES["sandboxes"]["network_mode"] == "service:airflow-worker"
    mail = command_of(SERVICES["mailcatcher"])
    listen = mail[mail.index("--listen") + 1]
    assert listen == f"0.0.0.0:{sandbox_env.SMTP_PORT}"
    assert sandbox_env.SMTP_HOST in SERVICES


# Connections, the Variable and the env files


def test_every_connection_and_variable_the_code_reads_is_provided():
    connections = connections_read_by_the_code()
    variables = variables_read_by_the_code()
    assert connections >= KNOWN_CONNECTIONS
    assert variables >= KNOWN_VARIABLES
    wanted = {f"AIRFLOW_CONN_{c.upper()}" for c in connections} | {
        f"AIRFLOW_VAR_{v.upper()}" for v in variables
    }
    for name, service in airflow_services().items():
        assert wanted <= set(service["environment"]), name
    helm = {item["envName"] for item in HELM["secret"]} | {item["name"] for item in HELM["env"]}
    assert wanted <= helm


def test_every_parameter_compose_requires_is_in_both_env_files():
    required = required_parameters()
    assert {"AIRFLOW_DB_PASSWORD", "AIRFLOW_CONN_DAM_DEFAULT"} <= required
    generated = sandbox_env.sandbox_env()
    assert required <= set(ENV_EXAMPLE)
    assert required <= {name for name, value in generated.items() if value}
    for keys in (set(ENV_EXAMPLE), set(generated)):
        unknown = keys - set(re.findall(r"\$\{(\w+)", COMPOSE_TEXT)) - {"COMPOSE_PROFILES"}
        assert not unknown, f"not read by docker-compose.yaml: {unknown}"
    assert generated["COMPOSE_PROFILES"] == "sandbox"


def test_the_env_example_holds_no_secret_and_well_formed_connections():
    hooks = {hook.default_conn_name: hook.conn_type for hook in (DamHook, BoxHook, RetryStateHook)}
    hooks["smtp_default"] = "smtp"
    for name, value in ENV_EXAMPLE.items():
        if re.search(r"PASSWORD|SECRET|KEY", name):
            assert value == "", f"{name} must be left empty in .env.example"
        if name.startswith("AIRFLOW_CONN_"):
            conn = json.loads(value)
            assert conn["conn_type"] == hooks[name.removeprefix("AIRFLOW_CONN_").lower()]
            assert conn.get("password", "") == "", name
    dam = json.loads(ENV_EXAMPLE["AIRFLOW_CONN_DAM_DEFAULT"])
    assert {e.name for e in DAM.extras if e.required} <= set(dam["extra"])


def test_the_generated_sandbox_env_reads_back_with_fresh_secrets(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text(sandbox_env.render(sandbox_env.sandbox_env()))
    first = dotenv.dotenv_values(env_file)
    assert first == sandbox_env.sandbox_env() | {
        name: first[name] for name in first if re.search(r"PASSWORD|SECRET|KEY", name)
    }
    again = sandbox_env.sandbox_env()
    for name in ("AIRFLOW_DB_PASSWORD", "AIRFLOW_JWT_SECRET", "_AIRFLOW_WWW_USER_PASSWORD"):
        assert first[name] != again[name]
    box = json.loads(first["AIRFLOW_CONN_BOX_DEFAULT"])
    assert box["extra"]["base_url"] == sandbox_env.BOX_URL


def test_the_settings_given_to_the_variable_are_valid():
    values = [
        ENV_EXAMPLE["AIRFLOW_VAR_A1_TO_A2_SETTINGS"],
        sandbox_env.sandbox_env()["AIRFLOW_VAR_A1_TO_A2_SETTINGS"],
        *(item["value"] for item in HELM["env"] if item["name"].startswith("AIRFLOW_VAR_")),
    ]
    for value in values:
        assert PipelineSettings.from_sources(json.loads(value)).recipients


# Helm


def test_helm_values_run_the_image_with_celery_and_migrate_the_tracking_database():
    assert HELM["airflowVersion"] == pinned_airflow()
    assert HELM["executor"] == "CeleryExecutor"
    assert HELM["defaultAirflowRepository"] != "apache/airflow"
    assert not HELM["dags"]["gitSync"]["enabled"]
    assert not HELM["dags"]["persistence"]["enabled"]
    for key in ("fernetKeySecretName", "apiSecretKeySecretName", "jwtSecretName"):
        assert HELM[key], key
    assert HELM["data"]["metadataSecretName"]
    job = HELM["migrateDatabaseJob"]
    assert job["applyCustomEnv"]
    script = job["args"][-1]
    assert script.index("airflow db migrate") < script.index("python -m campaigns.migrate")


# No secret committed

# Values that look like credentials but are fakes, and why each is committed.
FAKE_CREDENTIALS = {
    box_fixture.CLIENT_SECRET: "the Box sandbox's client secret, used by tests and the demo",
    dam_fixture.PASSWORD: "the DAM sandbox's service user password, used by tests and the demo",
    dam_fixture.CLIENT_SECRET: "the DAM sandbox's OAuth client secret, used by tests",
    "not-the-secret": "tests: a wrong Box client secret the sandbox must refuse",
    "wrong": "tests: a wrong credential the sandboxes must refuse",
    "no": "tests: a wrong credential the sandboxes must refuse",
    "dev-token": "tests: a developer token the Box sandbox is seeded with",
    "client-cert-password": "tests: protects a client certificate generated during the test",
}
PLACEHOLDER = re.compile(
    r"""^(|\$\{.*|\$\(.*|\$\w+|<[^>]*>|\{\{.*\}\}|%\(\w+\)s|\*+|\.\.\.|none|null|~|true|false)$""",
    re.IGNORECASE,
)
TOKEN_PATTERNS = {
    "private key": re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----"),
    "AWS access key id": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),
    "Slack token": re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    "Google API key": re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),
}
URL_CREDENTIALS = re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s:/@'\"]*:(?P<value>[^\s@/'\"]*)@")
ASSIGNMENT = re.compile(
    r"""(?<![\w${-])(?P<key>(?:[A-Za-z_][\w.-]*?)?"""
    r"""(?:password|passwd|secret|token|api_?key|private_?key)[\w-]*)"""
    r"""["']?[ \t]*[:=][ \t]*(?P<value>"[^"\n]*"|'[^'\n]*'|\$\{\S*|[^\s,;()\[\]{}#]*)""",
    re.IGNORECASE,
)
# Keys naming where a secret is kept (a Kubernetes Secret, a file, a field), not the secret.
REFERENCE_KEY = re.compile(
    r"(?:name|ref|file|path|field|type|ttl|route|backend|secretkey)s?$", re.IGNORECASE
)
SETTING_START = re.compile(r"\s*(?:export\s+|-\s+)?[\"']?")


def committed_files() -> list[Path]:
    """Tracked files and untracked ones not ignored: what a commit could take."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        check=True,
        cwd=REPO,
    ).stdout.decode()
    return [REPO / name for name in listed.split("\0") if name and (REPO / name).is_file()]


def secrets_in(path: Path) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return []
    found = [kind for kind, pattern in TOKEN_PATTERNS.items() if pattern.search(text)]
    for match in URL_CREDENTIALS.finditer(text):
        if not _harmless(match["value"]):
            found.append(f"password in a URL: {match[0]}")
    for match in ASSIGNMENT.finditer(text):
        key, value = match["key"], match["value"]
        quoted = value[:1] in ("'", '"')
        line_start = text[text.rfind("\n", 0, match.start()) + 1 : match.start()]
        # Unquoted, only a setting that starts its line counts: in code it is an expression,
        # elsewhere prose ("password = client secret") or a comment.
        if not quoted and (path.suffix == ".py" or not SETTING_START.fullmatch(line_start)):
            continue
        value = value[1:-1] if quoted else value
        if REFERENCE_KEY.search(key) or value.isdigit() or " " in value or _harmless(value):
            continue
        found.append(f"{key} = {value!r}")
    return found


def _harmless(value: str) -> bool:
    return bool(PLACEHOLDER.match(value)) or value in FAKE_CREDENTIALS


def test_no_secret_is_committed():
    files = committed_files()
    assert REPO / "docker-compose.yaml" in files
    # This file is left out: its tests below feed the scan deliberate examples of secrets.
    found = {
        str(path.relative_to(REPO)): hits
        for path in files
        if path != Path(__file__).resolve() and (hits := secrets_in(path))
    }
    assert not found, f"likely secrets (placeholders or FAKE_CREDENTIALS if fake): {found}"


@pytest.mark.parametrize(
    ("name", "line"),
    [
        ("key.pem", "-----BEGIN RSA PRIVATE KEY-----"),
        ("key.pem", "-----BEGIN PRIVATE KEY-----"),
        (".env", "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE"),
        (".env", "SQL_ALCHEMY_CONN=postgresql://airflow:hunter22@postgres/airflow"),
        (".env", "AIRFLOW_DB_PASSWORD=s3cr3t-Value"),
        ("conn.json", '{"password": "Tr0ub4dor&3"}'),
        ("hook.py", "    client_secret='5f2b9c0e'"),
        ("values.yaml", "  jwt-secret: abcdef0123456789"),
    ],
)
def test_the_secret_scan_finds(name, line, tmp_path):
    path = tmp_path / name
    path.write_text(line + "\n")
    assert secrets_in(path)


@pytest.mark.parametrize(
    "line",
    [
        "AIRFLOW_DB_PASSWORD=",
        "POSTGRES_PASSWORD: ${AIRFLOW_DB_PASSWORD:?set it in .env}",
        "redis://:@redis:6379/0",
        "postgresql://tracking:<password>@tracking.example.com:5432/tracking",
        '{"login": "", "password": ""}',
        f'"client_secret": "{box_fixture.CLIENT_SECRET}"',
        "  secretKey: tracking_db",
        "fernetKeySecretName: a1-to-a2-fernet-key",
        '"token_ttl": 3600',
    ],
)
def test_the_secret_scan_lets_pass(line, tmp_path):
    path = tmp_path / "file.yaml"
    path.write_text(line + "\n")
    assert secrets_in(path) == []


def test_python_expressions_are_not_secrets(tmp_path):
    path = tmp_path / "code.py"
    path.write_text("password = conn.password or ''\nsecret = secrets.token_hex(32)\n")
    assert secrets_in(path) == []
