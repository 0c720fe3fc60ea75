"""The CLI: plain sentences on mistakes, secrets printed once on the last line, exit codes that mean something."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import update

from jaju.cli.main import cli
from jaju.store import Database
from jaju.store.tables import AuditEvent


@pytest.fixture
def run(tmp_path: Path, monkeypatch):
    monkeypatch.delenv("JAJU_CONFIG", raising=False)
    runner = CliRunner()

    def invoke(*args: str, data_dir: Path = tmp_path / "data"):
        return runner.invoke(cli, ["--data-dir", str(data_dir), *args], catch_exceptions=False)

    return invoke


def test_tenant_and_key_flow(run, tmp_path):
    r = run("tenant", "create", "국토교통부", "--jurisdiction", "KR")
    assert r.exit_code == 0 and "국토교통부" in r.output
    r = run("key", "create", "--tenant", "국토교통부", "--scope", "inference", "--scope", "admin")
    assert r.exit_code == 0
    secret = r.output.strip().splitlines()[-1]
    assert secret.startswith("jaju-key_")
    listing = json.loads(run("key", "list", "--json").output)
    assert listing[0]["scopes"] == "inference,admin" and secret not in run("key", "list").output
    key_id = listing[0]["id"]
    assert run("key", "revoke", key_id).exit_code == 0
    assert json.loads(run("key", "list", "--json").output)[0]["revoked_at"]
    tenants = json.loads(run("tenant", "list", "--json").output)
    assert tenants[0]["jurisdiction"] == "KR"


@pytest.mark.parametrize("args, fragment", [
    (("tenant", "create", "외교부", "--jurisdiction", "ZZ"), "not configured"),
    (("key", "create", "--tenant", "없는기관"), "No tenant"),
    (("key", "revoke", "key_nope"), "No API key"),
    (("model", "add", "x", "--gguf", "/nonexistent.gguf"), "does not exist"),
])
def test_mistakes_get_one_sentence(run, args, fragment):
    r = run(*args)
    assert r.exit_code == 1
    assert fragment in r.output and "Traceback" not in r.output


def test_config_check_reports_bad_values(run, tmp_path, monkeypatch):
    assert run("config", "check").exit_code == 0
    monkeypatch.setenv("JAJU_ENGINE__THREADS", "많이")
    r = run("config", "check")
    assert r.exit_code == 1 and "JAJU_ENGINE__THREADS" in r.output
    monkeypatch.delenv("JAJU_ENGINE__THREADS")
    bad = tmp_path / "bad.toml"
    bad.write_text("[engine]\nparallel = 0\n", encoding="utf-8")
    r = run("--config", str(bad), "config", "check")
    assert r.exit_code == 1 and "parallel" in r.output and "bad.toml" in r.output
    broken = tmp_path / "broken.toml"
    broken.write_text("[engine\n", encoding="utf-8")
    assert "not valid TOML" in run("--config", str(broken), "config", "check").output


def test_config_file_and_env_precedence(run, tmp_path, monkeypatch):
    cfg = tmp_path / "jaju.toml"
    cfg.write_text('port = 9001\njurisdiction = "EU"\n[engine]\nthreads = 1\n', encoding="utf-8")
    out = json.loads(run("--config", str(cfg), "config", "check").stdout)
    assert out["port"] == 9001 and out["jurisdiction"] == "EU" and out["engine"]["threads"] == 1
    monkeypatch.setenv("JAJU_PORT", "9002")
    assert json.loads(run("--config", str(cfg), "config", "check").stdout)["port"] == 9002


def test_model_list_and_add(run, qwen_gguf):
    listing = json.loads(run("model", "list", "--json").output)
    qwen = next(m for m in listing if m["name"] == "qwen2.5-coder-0.5b-instruct")
    assert qwen["sha256"] == "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
    assert qwen["license"] == "Apache-2.0" and qwen["installed"] == "yes"
    r = run("model", "add", "my-qwen", "--gguf", str(qwen_gguf))
    assert r.exit_code == 0 and "chat model" in r.output and "1d9614638d" in r.output
    assert any(m["name"] == "my-qwen" for m in json.loads(run("model", "list", "--json").output))
    assert run("model", "add", "my-qwen", "--gguf", str(qwen_gguf)).exit_code == 1


def test_audit_verify_export_and_tamper(run, tmp_path):
    run("tenant", "create", "기관A", "-j", "KR")
    run("tenant", "create", "기관B", "-j", "KR")
    run("key", "create", "-t", "기관A")
    assert run("audit", "verify").exit_code == 0
    out = tmp_path / "a.jsonl"
    r = run("audit", "export", "--tenant", "기관A", "--out", str(out))
    assert r.exit_code == 0 and out.exists()
    pub = tmp_path / "data" / "keys" / "deployment-ed25519.pub.pem"
    assert run("audit", "verify", "--file", str(out), "--public-key", str(pub)).exit_code == 0
    db = Database(f"sqlite:///{tmp_path / 'data' / 'jaju.db'}")
    with db.session() as s:
        s.execute(update(AuditEvent).where(AuditEvent.seq == 2).values(action="tenant.delete"))
    db.dispose()
    # the body still hashes, so editing a column only is no tampering; editing the body is
    with db.session() as s:
        row = s.get(AuditEvent, 2)
        row.body = row.body.replace("tenant.create", "tenant.delete")
    db.dispose()
    r = run("audit", "verify")
    assert r.exit_code == 2 and "event 2" in r.output


@pytest.mark.parametrize("argv, expected", [
    (["tenant", "list", "--data-dir", "/d"], ["--data-dir", "/d", "tenant", "list"]),
    (["tenant", "list", "--config=/c.toml", "--json"], ["--config=/c.toml", "tenant", "list", "--json"]),
    (["--data-dir", "/d", "serve"], ["--data-dir", "/d", "serve"]),
    (["privacy", "scan", "--", "--data-dir"], ["privacy", "scan", "--", "--data-dir"]),
])
def test_global_options_may_come_after_the_command(argv, expected):
    from jaju.cli.main import hoist_global_options

    assert hoist_global_options(argv) == expected


def test_data_dir_after_the_command_really_works(tmp_path):
    import subprocess
    import sys

    data = tmp_path / "d"
    r = subprocess.run([sys.executable, "-m", "jaju", "tenant", "create", "교육부", "-j", "KR", "--data-dir", str(data)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert (data / "jaju.db").exists()


def test_model_list_shows_each_jurisdictions_models_with_provenance(run, tmp_path):
    data = tmp_path / "data"
    data.mkdir(parents=True, exist_ok=True)
    (data / "jaju.toml").write_text('''
[jurisdictions.EU]
store = { data_dir = "%s" }

[[jurisdictions.EU.backends]]
name = "eu-vllm"
url = "http://127.0.0.1:9/v1"
models = { "qwen2.5-72b" = { remote = "Qwen/Qwen2.5-72B-Instruct", license = "Qwen licence", origin = "Alibaba Cloud" } }
''' % (tmp_path / "eu"), encoding="utf-8")
    rows = {r["name"]: r for r in json.loads(run("model", "list", "--json").stdout)}
    assert rows["qwen2.5-72b"]["jurisdiction"] == "EU" and rows["qwen2.5-72b"]["backend"] == "eu-vllm"
    assert rows["qwen2.5-72b"]["license"] == "Qwen licence" and rows["qwen2.5-72b"]["origin"] == "Alibaba Cloud"
    assert rows["qwen2.5-coder-0.5b-instruct"]["jurisdiction"] == "KR"
    assert len(rows["multilingual-e5-small"]["sha256"]) == 64
