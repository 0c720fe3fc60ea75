"""`jaju kb` against a real service: create, add with a failure summary, search, list."""

from __future__ import annotations

from types import SimpleNamespace

from click.testing import CliRunner

from jaju.cli.context import CliContext
from jaju.cli.knowledge import kb
from jaju.tenancy.tenants import TenantError
from tests.knowledge.builders import build_hwpx


class Tenants:
    ROWS = [SimpleNamespace(id="t_seoul", name="서울시청"), SimpleNamespace(id="t_busan", name="부산은행")]

    def get(self, ref):
        for t in self.ROWS:
            if ref in (t.id, t.name):
                return t
        raise TenantError(f"No tenant {ref!r}. See `jaju tenant list`.")

    def list(self):
        return self.ROWS


def _run(service, *args):
    ctx = CliContext(data_dir=None, config=None)
    ctx._services = SimpleNamespace(knowledge=service, tenants=Tenants())
    return CliRunner().invoke(kb, list(args), obj=ctx)


def test_create_add_search_list(service, tmp_path):
    r = _run(service, "create", "민원", "--tenant", "서울시청")
    assert r.exit_code == 0, r.output
    good = tmp_path / "여권.hwpx"
    good.write_bytes(build_hwpx("여권 안내", [("p", "여권은 구청 민원실에서 신청합니다.")]))
    bad = tmp_path / "깨진.docx"
    bad.write_bytes(b"PK\x03\x04 not a zip")
    r = _run(service, "add", "민원", str(good), str(bad), "--tenant", "t_seoul", "--label", "부서=민원과")
    assert r.exit_code == 1
    assert "Added 1 of 2 files" in r.output and "깨진.docx" in r.output
    r = _run(service, "search", "민원", "여권 어디서 신청해요?", "--tenant", "서울시청")
    assert r.exit_code == 0 and "[1] 여권 안내" in r.output and "구청 민원실" in r.output
    r = _run(service, "list")
    assert r.exit_code == 0 and "민원" in r.output and "서울시청" in r.output


def test_errors_are_one_sentence(service):
    r = _run(service, "search", "없는지식", "질문")
    assert r.exit_code == 1 and r.output.startswith("Error: No knowledge base")
    r = _run(service, "create", "x", "--tenant", "없는기관")
    assert r.exit_code == 1 and "No tenant" in r.output
