"""The `ordergraph` command as an operator runs it: tokens name real customers, migrations are written from the
models."""

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ORDERGRAPH = str(Path(sys.executable).with_name("ordergraph"))


def _run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ORDERGRAPH, *args], env=env, capture_output=True, text=True, timeout=120, check=False)


def _claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("cli")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERGRAPH_")}
    env |= {"ORDERGRAPH_DATABASE_URL": f"sqlite:///{folder / 'og.db'}", "ORDERGRAPH_JWT_SECRET": "cli-test-secret"}
    seeded = _run("seed", "--customers", "3", "--orders", "5", env=env)
    assert seeded.returncode == 0, seeded.stderr
    return env


def test_a_customer_token_carries_the_customers_name_from_the_database(seeded: dict[str, str]) -> None:
    by_number = _run("token", "--role", "customer", "--customer", "2", env=seeded)
    assert by_number.returncode == 0, by_number.stderr
    claims = _claims(by_number.stdout.strip())
    assert claims["role"] == "customer"
    assert claims["name"]  # the seeded customer's name, never empty
    by_global_id = _run("token", "--role", "customer", "--customer", claims["sub"], "--name", "Other", env=seeded)
    assert _claims(by_global_id.stdout.strip())["name"] == claims["name"]


@pytest.mark.parametrize("customer", ["99", "99999999999999999999999", "٣", "T3JkZXI6MQ", "nonsense"])
def test_a_token_for_a_customer_who_does_not_exist_is_refused(seeded: dict[str, str], customer: str) -> None:
    refused = _run("token", "--role", "customer", "--customer", customer, env=seeded)
    assert refused.returncode != 0
    assert refused.stdout == ""
    assert f"no customer {customer} in the database" in refused.stderr


def test_a_customer_token_from_a_database_never_migrated_is_refused_plainly(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERGRAPH_")}
    env["ORDERGRAPH_DATABASE_URL"] = f"sqlite:///{tmp_path / 'empty.db'}"
    refused = _run("token", "--role", "customer", "--customer", "1", env=env)
    assert refused.returncode == 1
    assert "cannot read customers" in refused.stderr
    assert "Traceback" not in refused.stderr
