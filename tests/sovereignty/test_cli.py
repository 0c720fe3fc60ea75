"""The sovereignty CLI commands on real services: transfer bases, residency report, rotation, erasure."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from jaju.cli import sovereignty
from jaju.cli.context import CliContext
from jaju.cli.tenants import tenant as tenant_group


@pytest.fixture
def run(tmp_path: Path):
    """A root group wired the way the lead wires cli/main.py."""
    (tmp_path / "jaju.toml").write_text('jurisdiction = "KR"\n[jurisdictions.EU]\nstore = { data_dir = "'
                                        + str(tmp_path / "eu") + '" }\n', encoding="utf-8")

    @click.group()
    @click.pass_context
    def root(ctx: click.Context) -> None:
        ctx.obj = CliContext(data_dir=str(tmp_path), config=str(tmp_path / "jaju.toml"))
        ctx.call_on_close(ctx.obj.close)

    group = click.Group("tenant", commands=dict(tenant_group.commands))
    group.add_command(sovereignty.transfer)
    group.add_command(sovereignty.erase)
    root.add_command(group)
    root.add_command(sovereignty.keys)
    root.add_command(sovereignty.report)
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(root, list(args), catch_exceptions=False)
    return invoke


def test_transfer_report_rotate_erase(run):
    assert run("tenant", "create", "행정안전부", "-j", "KR").exit_code == 0
    r = run("tenant", "transfer", "add", "행정안전부", "--to", "eu", "--basis", "PIPA 28-8(1)1 동의",
            "--evidence", "동의서-17")
    assert r.exit_code == 0 and "-> EU" in r.output
    listed = json.loads(run("tenant", "transfer", "list", "행정안전부", "--json").output)
    assert [(x["to"], x["basis"]) for x in listed] == [("EU", "PIPA 28-8(1)1 동의")]
    bad = run("tenant", "transfer", "add", "행정안전부", "--to", "XX", "--basis", "b")
    assert bad.exit_code == 1 and "Error: Jurisdiction XX is not configured here" in bad.output
    assert "KR: 0 data keys" in run("keys", "rotate", "-j", "KR").output
    report = json.loads(run("report", "residency", "--tenant", "행정안전부", "--format", "json").output)
    assert report["home"] == "KR" and report["basis_changes"][0]["to"] == "EU"
    assert report["storage"]["jurisdiction"] == "KR"
    md = run("report", "residency", "--tenant", "행정안전부", "--since", "2020-01-01").output
    assert md.startswith("# Residency report") and "PIPA 28-8(1)1 동의" in md
    assert "not a date" in run("report", "residency", "--tenant", "행정안전부", "--since", "yesterday").output
    r = run("tenant", "erase", "행정안전부", "--yes")
    assert r.exit_code == 0 and "Erased" in r.output
    report = json.loads(run("report", "residency", "--tenant", "행정안전부", "--format", "json").output)
    assert len(report["erasures"]) == 1
