"""PolicyService: loads packs once at start-up and resolves a tenant's effective policy."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from jaju.compliance.loader import PackError, builtin_path, load_pack
from jaju.compliance.policy import Policy, merge
from jaju.compliance.registry import BUILTIN_PACKS, DEFAULT_PACKS
from jaju.compliance.schema import Pack
from jaju.compliance.settings import ComplianceSettings
from jaju.errors import JajuError


class PolicyError(JajuError):
    """A tenant's packs cannot be resolved (unknown pack, no default for its jurisdiction)."""


class PolicyService:
    """Holds every loaded pack; `resolve` merges a tenant's packs strictest-wins."""

    def __init__(self, packs: Mapping[str, Pack], defaults: Mapping[str, Sequence[str]],
                 always: Sequence[str] = ()):
        self.packs = dict(packs)
        self.defaults = {j.upper(): tuple(ids) for j, ids in defaults.items()}
        self.always = tuple(always)
        for ids in (*self.defaults.values(), self.always):
            self._check(ids)
        self._cache: dict[tuple[str, tuple[str, ...], bool], Policy] = {}

    @classmethod
    def from_settings(cls, settings: ComplianceSettings) -> PolicyService:
        """Load the built-in packs and the operator's; a broken pack raises PackError (file, line, reason)."""
        packs = {pid: load_pack(builtin_path(name)) for pid, name in BUILTIN_PACKS.items()}
        for pid, pack in packs.items():
            if pack.id != pid:
                raise PackError(f"{builtin_path(BUILTIN_PACKS[pid])}:1: id is {pack.id!r}, registered as {pid!r}.")
        for path in settings.extra_packs:
            pack = load_pack(path)
            if pack.id in packs:
                raise PackError(f"{path}:1: pack id {pack.id!r} is already taken; give the operator pack its own id.")
            packs[pack.id] = pack
        defaults = {**DEFAULT_PACKS, **{j.upper(): v for j, v in settings.defaults.items()}}
        return cls(packs, defaults, settings.always)

    def _check(self, ids: Sequence[str]) -> None:
        unknown = [i for i in ids if i not in self.packs]
        if unknown:
            raise PolicyError(f"Unknown policy pack {', '.join(map(repr, unknown))}; "
                              f"known packs: {', '.join(sorted(self.packs))}.")

    def pack_ids_for(self, tenant_jurisdiction: str, explicit_packs: Sequence[str] | None = None) -> tuple[str, ...]:
        """The packs a tenant gets: its explicit ones, else its jurisdiction's defaults, plus `always`."""
        if explicit_packs:
            ids = tuple(explicit_packs)
        else:
            ids = self.defaults.get(tenant_jurisdiction.upper(), ())
            if not ids:
                raise PolicyError(f"No policy packs are set for jurisdiction {tenant_jurisdiction!r}. Name the "
                                  "tenant's packs explicitly or set compliance.defaults."
                                  f"{tenant_jurisdiction.upper()} in jaju.toml.")
        ids = tuple(dict.fromkeys((*ids, *self.always)))
        self._check(ids)
        return ids

    def resolve(self, tenant_jurisdiction: str, explicit_packs: Sequence[str] | None = None,
                high_impact: bool = False) -> Policy:
        """The tenant's effective policy (cached: packs do not change while the process runs)."""
        ids = self.pack_ids_for(tenant_jurisdiction, explicit_packs)
        key = (tenant_jurisdiction.upper(), ids, high_impact)
        policy = self._cache.get(key)
        if policy is None:
            policy = merge([self.packs[i] for i in ids], tenant_jurisdiction.upper(), high_impact)
            self._cache[key] = policy
        return policy
