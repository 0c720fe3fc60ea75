"""UsageMeter: per tenant, key, model and day; buffered in memory, flushed as atomic increments."""

from __future__ import annotations

import threading
from collections import defaultdict
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from jaju.store import Database
from jaju.store.base import utcnow
from jaju.store.tables import UsageDaily


class UsageMeter:
    def __init__(self, db: Database):
        self.db = db
        self._pending: dict[tuple[str, str, str, date], list[int]] = defaultdict(lambda: [0, 0, 0])
        self._lock = threading.Lock()

    def record(self, tenant_id: str, key_id: str, model: str, prompt_tokens: int, completion_tokens: int) -> None:
        with self._lock:
            row = self._pending[(tenant_id, key_id, model, utcnow().date())]
            row[0] += 1
            row[1] += prompt_tokens
            row[2] += completion_tokens

    def flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, defaultdict(lambda: [0, 0, 0])
        if not pending:
            return
        insert = pg_insert if self.db.dialect == "postgresql" else sqlite_insert
        with self.db.session() as s:
            for (tenant, key, model, day), (n, p, c) in pending.items():
                stmt = insert(UsageDaily).values(tenant_id=tenant, key_id=key, model=model, day=day,
                                                 requests=n, prompt_tokens=p, completion_tokens=c)
                s.execute(stmt.on_conflict_do_update(
                    index_elements=["tenant_id", "key_id", "model", "day"],
                    set_={"requests": UsageDaily.requests + n, "prompt_tokens": UsageDaily.prompt_tokens + p,
                          "completion_tokens": UsageDaily.completion_tokens + c}))

    def month_tokens(self, tenant_id: str) -> int:
        """Tokens (prompt + completion) the tenant used this calendar month (UTC), all replicas included."""
        today = utcnow().date()
        first = today.replace(day=1)
        with self._lock:
            pending = sum(p + c for (t, _, _, day), (_, p, c) in self._pending.items()
                          if t == tenant_id and day >= first)
        with self.db.sessions() as s:
            stored = s.execute(select(func.coalesce(func.sum(UsageDaily.prompt_tokens + UsageDaily.completion_tokens), 0))
                               .where(UsageDaily.tenant_id == tenant_id, UsageDaily.day >= first)).scalar()
        return int(stored) + pending

    def rows(self, tenant_id: str | None = None) -> list[dict]:
        self.flush()
        with self.db.sessions() as s:
            q = select(UsageDaily).order_by(UsageDaily.day, UsageDaily.tenant_id)
            if tenant_id:
                q = q.where(UsageDaily.tenant_id == tenant_id)
            return [{"tenant_id": u.tenant_id, "key_id": u.key_id, "model": u.model, "day": u.day.isoformat(),
                     "requests": u.requests, "prompt_tokens": u.prompt_tokens,
                     "completion_tokens": u.completion_tokens} for u in s.scalars(q)]
