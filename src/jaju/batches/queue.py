"""LineQueue: the batch lines in one store, claimed with leases so each line's result is written once.

Every worker process (one per `jaju serve` worker) claims from the same tables. A claim sets the line
`running` with an owner and a lease; the worker renews the lease while the line runs. If the worker dies,
the lease runs out and another worker claims the line again. A result is written only by the line's
current owner, in the same transaction that marks it `done`, and a `done` line is never claimed again:
so a line whose worker died mid-request may run twice, but its result lands in the output exactly once.
Finalising a batch (writing its output and error files) is leased the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, update

from jaju.batches.tables import Batch, BatchLine
from jaju.files.tables import StoredFile
from jaju.store import Database
from jaju.store.base import utcnow

OPEN = ("in_progress", "cancelling", "finalizing")  # the statuses in which a batch still needs a worker
CANDIDATES = 8  # lines looked at per claim on SQLite (the guarded UPDATE picks the first still free)


@dataclass(frozen=True)
class Claim:
    line_id: int
    batch_id: str
    tenant_id: str
    line_no: int
    body: bytes
    attempts: int


@dataclass(frozen=True)
class Settled:
    """One line of a batch being finalised."""

    line_no: int
    status: str
    body: bytes | None
    result: bytes | None
    is_error: bool


class LineQueue:
    """Claim, renew and complete lines, and finalise batches, in one store for one owner."""

    def __init__(self, db: Database, owner: str, lease: timedelta, clock: Callable[[], datetime] = utcnow):
        self.db = db
        self.owner = owner
        self.lease = lease
        self.clock = clock

    def has_open(self) -> bool:
        """Whether any batch in this store may have work (lines to run, or a batch to settle or finalise)."""
        with self.db.session() as s:
            return s.execute(select(Batch.id).where(Batch.status.in_(OPEN)).limit(1)).first() is not None

    # --- lines ----------------------------------------------------------------------------------
    def _claimable(self, now: datetime):
        # Lines of a batch past its completion window are not started any more (ready() expires them).
        running_batches = select(Batch.id).where(Batch.status == "in_progress", Batch.expires_at > now)
        return and_(BatchLine.batch_id.in_(running_batches),
                    or_(BatchLine.status == "pending",
                        and_(BatchLine.status == "running", BatchLine.lease_until < now)))

    def claim(self) -> Claim | None:
        """Take one line that is pending, or whose owner's lease ran out; None when there is none."""
        now = self.clock()
        if self.db.dialect == "postgresql":
            with self.db.session() as s:
                line = s.scalars(select(BatchLine).where(self._claimable(now)).order_by(BatchLine.id).limit(1)
                                 .with_for_update(skip_locked=True, of=BatchLine)).first()
                if line is None:
                    return None
                return self._take(s, line.id, now)
        with self.db.session() as s:
            ids = s.scalars(select(BatchLine.id).where(self._claimable(now)).order_by(BatchLine.id)
                            .limit(CANDIDATES)).all()
            for line_id in ids:
                claim = self._take(s, line_id, now)
                if claim is not None:
                    return claim
        return None

    def _take(self, s, line_id: int, now: datetime) -> Claim | None:
        # The guard repeats the claimable test: of two workers racing for a line, one UPDATE matches.
        taken = s.execute(update(BatchLine).where(BatchLine.id == line_id, self._claimable(now))
                          .values(status="running", owner=self.owner, lease_until=now + self.lease,
                                  attempts=BatchLine.attempts + 1)
                          .execution_options(synchronize_session=False))
        if taken.rowcount != 1:
            return None
        row = s.execute(select(BatchLine.batch_id, BatchLine.tenant_id, BatchLine.line_no, BatchLine.body,
                               BatchLine.attempts).where(BatchLine.id == line_id)).one()
        return Claim(line_id, row.batch_id, row.tenant_id, row.line_no, row.body, row.attempts)

    def renew(self, line_id: int) -> bool:
        """Extend this owner's lease on a running line; False when the line is no longer ours."""
        with self.db.session() as s:
            r = s.execute(update(BatchLine).where(BatchLine.id == line_id, BatchLine.owner == self.owner,
                                                  BatchLine.status == "running")
                          .values(lease_until=self.clock() + self.lease).execution_options(synchronize_session=False))
        return r.rowcount == 1

    def complete(self, line_id: int, result: bytes, is_error: bool) -> bool:
        """Write the line's result and mark it done, in one transaction; False when it is no longer ours."""
        with self.db.session() as s:
            r = s.execute(update(BatchLine).where(BatchLine.id == line_id, BatchLine.owner == self.owner,
                                                  BatchLine.status == "running")
                          .values(status="done", result=result, is_error=is_error, lease_until=None,
                                  finished_at=self.clock(), body=None)
                          .execution_options(synchronize_session=False))
        return r.rowcount == 1

    # --- batches ---------------------------------------------------------------------------------
    def ready(self) -> list[str]:
        """Batches whose lines are all settled (or whose finaliser's lease ran out): ready to finalise."""
        now = self.clock()
        with self.db.session() as s:
            open_batches = s.execute(select(Batch.status, Batch.expires_at).where(
                Batch.status.in_(OPEN))).all()
            if not open_batches:
                return []  # the idle poll stays a read: no write transaction every second per worker
            if any(b.status == "cancelling" or (b.status == "in_progress" and b.expires_at < now)
                   for b in open_batches):
                self._settle_stopped(s, now)
            unsettled = select(BatchLine.batch_id).where(
                or_(BatchLine.status == "pending",
                    and_(BatchLine.status == "running", BatchLine.lease_until >= now)))
            return list(s.scalars(select(Batch.id).where(
                or_(and_(Batch.status.in_(("in_progress", "cancelling")), Batch.lease_until.is_(None)),
                    and_(Batch.status.in_(("finalizing", "cancelling")), Batch.lease_until < now)),
                Batch.id.not_in(unsettled)).order_by(Batch.created_at)).all())

    def _settle_stopped(self, s, now: datetime) -> None:
        """Lines of cancelled batches stop where they are; lines of batches past their window expire."""
        for status, batches in (("cancelled", select(Batch.id).where(Batch.status == "cancelling")),
                                ("expired", select(Batch.id).where(Batch.status == "in_progress",
                                                                   Batch.expires_at < now))):
            s.execute(update(BatchLine).where(
                BatchLine.batch_id.in_(batches),
                or_(BatchLine.status == "pending", and_(BatchLine.status == "running", BatchLine.lease_until < now)))
                .values(status=status, owner=None, lease_until=None).execution_options(synchronize_session=False))

    def claim_finalize(self, batch_id: str) -> str | None:
        """Lease a ready batch for finalising; its status then (`finalizing` or `cancelling`), or None."""
        now = self.clock()
        with self.db.session() as s:
            batch = s.get(Batch, batch_id)
            if batch is None:
                return None
            visible = "cancelling" if batch.status == "cancelling" else "finalizing"
            values = {"status": visible, "owner": self.owner, "lease_until": now + self.lease}
            if visible == "finalizing" and batch.finalizing_at is None:
                values["finalizing_at"] = now
            r = s.execute(update(Batch).where(
                Batch.id == batch_id, Batch.status == batch.status,
                or_(Batch.lease_until.is_(None), Batch.lease_until < now)).values(**values)
                .execution_options(synchronize_session=False))
        return visible if r.rowcount == 1 else None

    def settled(self, batch_id: str) -> list[Settled]:
        with self.db.sessions() as s:
            rows = s.execute(select(BatchLine.line_no, BatchLine.status, BatchLine.body, BatchLine.result,
                                    BatchLine.is_error).where(BatchLine.batch_id == batch_id)
                             .order_by(BatchLine.line_no)).all()
        return [Settled(r.line_no, r.status, r.body, r.result, r.is_error) for r in rows]

    def finish(self, batch_id: str, status: str, files: Sequence[StoredFile], output_file_id: str | None,
               error_file_id: str | None) -> bool:
        """Store the output files and the final status in one transaction, if this owner still holds it."""
        now = self.clock()
        stamp = {"completed": "completed_at", "cancelled": "cancelled_at", "expired": "expired_at",
                 "failed": "failed_at"}[status]
        with self.db.session() as s:
            r = s.execute(update(Batch).where(Batch.id == batch_id, Batch.owner == self.owner,
                                              Batch.status.in_(("finalizing", "cancelling")))
                          .values(status=status, output_file_id=output_file_id, error_file_id=error_file_id,
                                  owner=None, lease_until=None, **{stamp: now})
                          .execution_options(synchronize_session=False))
            if r.rowcount != 1:
                s.rollback()
                return False
            s.add_all(files)
        return True


def request_counts(db: Database, batch_ids: Sequence[str]) -> dict[str, dict[str, int]]:
    """{batch_id: {total, completed, failed}}: failed counts error lines and expired ones (as OpenAI does);
    cancelled lines count in total only."""
    counts = {b: {"total": 0, "completed": 0, "failed": 0} for b in batch_ids}
    if not batch_ids:
        return counts
    with db.sessions() as s:
        rows = s.execute(select(BatchLine.batch_id, BatchLine.status, BatchLine.is_error, func.count())
                         .where(BatchLine.batch_id.in_(batch_ids))
                         .group_by(BatchLine.batch_id, BatchLine.status, BatchLine.is_error)).all()
    for batch_id, status, is_error, n in rows:
        c = counts[batch_id]
        c["total"] += n
        if status == "done":
            c["failed" if is_error else "completed"] += n
        elif status == "expired":
            c["failed"] += n
    return counts
