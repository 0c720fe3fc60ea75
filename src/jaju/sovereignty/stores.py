"""TenantStores: a tenant's content lives in its home jurisdiction's store, never anywhere else."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from jaju.errors import Unavailable
from jaju.store import Database


class TenantStores:
    """The database for each tenant's content: its jurisdiction's declared store, else the main one.

    The main store keeps the control plane (tenants, keys, the audit chain, wrapped data keys); stored
    conversations, pseudonym vaults and knowledge bases go where the tenant's jurisdiction says.
    Services call `for_tenant(tenant_id)` (a plain `Database` answers the same call with itself).
    """

    def __init__(self, main: Database, main_jurisdiction: str, by_jurisdiction: Mapping[str, Database],
                 home_of: Callable[[str], str], may_store: Callable[[str, str], bool] | None = None):
        self.main = main
        self.main_jurisdiction = main_jurisdiction.upper()
        self.by_jurisdiction = {code.upper(): db for code, db in by_jurisdiction.items()}
        self._home_of = home_of
        # May this tenant's content be stored in that jurisdiction (its packs' storage rule)? Without the
        # hook, only the tenant's home jurisdiction may hold it.
        self._may_store = may_store or (lambda tenant_id, jurisdiction: False)

    def for_tenant(self, tenant_id: str) -> Database:
        """The tenant's home store; the main store only where the tenant's law allows storage there."""
        home = self._home_of(tenant_id)
        if home in self.by_jurisdiction:
            return self.by_jurisdiction[home]
        if home == self.main_jurisdiction or self._may_store(tenant_id, self.main_jurisdiction):
            return self.main
        raise Unavailable(f"No data store is declared in {home}, and this tenant's law does not allow its "
                          f"content to be stored in {self.main_jurisdiction}. Declare [jurisdictions.{home}] "
                          "store in jaju.toml.", "residency_unavailable")

    def for_jurisdiction(self, code: str) -> Database:
        return self.by_jurisdiction.get(code.upper(), self.main)

    def all(self) -> list[Database]:
        seen: dict[int, Database] = {id(self.main): self.main}
        for db in self.by_jurisdiction.values():
            seen.setdefault(id(db), db)
        return list(seen.values())

    def migrate(self) -> None:
        for db in self.all():
            if db is not self.main:
                db.migrate()

    def dispose(self) -> None:
        for db in self.all():
            if db is not self.main:
                db.dispose()
