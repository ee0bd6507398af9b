"""Who holds administrator rights where, and whether the IGA register approved it.

Not a world module itself (no ORDER): a contract between world modules. Every system
module that grants administrator rights defines `admin_grants(demo_dir)` returning
`AdminGrant`s; the identity-governance world (`world/iga.py`) turns the approved ones
into the approved-administrator register, and the oracles judge admin controls from the
same grants. Adding a system (GitHub org owners, AWS administrators) is adding
`admin_grants` to its world module: its approvals then appear in the IGA export and the
admin control's answer key without touching this module.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path


@dataclass(frozen=True)
class AdminGrant:
    """One administrator role held by one account of one system over a span of time.

    `approved` says whether the IGA register holds an approval for it; an approved grant
    is approved from `approved_at` until it is revoked, except during `approval_gaps`
    (an approval that lapsed and was renewed later, i.e. the admin was missing from the
    approved list for a while).
    """

    system: str  # okta | google | github | aws
    account_id: str  # the system's own id of the account
    account: str  # login / email on that system, lower-case
    employee_id: str | None
    role: str  # system role name: SUPER_ADMIN, ORG_ADMIN, ...
    granted_at: datetime
    revoked_at: datetime | None
    approved: bool
    approved_at: datetime | None = None
    approval_gaps: tuple[tuple[datetime, datetime], ...] = ()
    # when the account itself was deactivated / deleted: its rights no longer count after
    account_removed_at: datetime | None = None

    @property
    def entity_id(self) -> str:
        """How the admin control names this grant: system:account_id:role."""
        return f"{self.system}:{self.account_id}:{self.role}"

    def held_at(self, moment: datetime) -> bool:
        return self.granted_at <= moment and (self.revoked_at is None or moment < self.revoked_at)

    def in_scope_at(self, moment: datetime) -> bool:
        """Held at `moment` on an account that is not deactivated: what the admin control tests."""
        return self.held_at(moment) and (self.account_removed_at is None or moment < self.account_removed_at)

    def approval_pieces(self) -> list[tuple[datetime, datetime | None]]:
        """The approval records of the register: [from, to) spans, split by the gaps."""
        if not self.approved or self.approved_at is None:
            return []
        pieces: list[tuple[datetime, datetime | None]] = []
        start: datetime = self.approved_at
        for gap_from, gap_to in sorted(self.approval_gaps):
            pieces.append((start, gap_from))
            start = gap_to
        pieces.append((start, self.revoked_at))
        return [(a, b) for a, b in pieces if b is None or a < b]

    def approved_at_moment(self, moment: datetime) -> bool:
        """Whether the register lists an approval in force at `moment`."""
        return any(a <= moment and (b is None or moment < b) for a, b in self.approval_pieces())


def all_admin_grants(demo_dir: Path) -> list[AdminGrant]:
    """Every system's grants, from each world module that defines `admin_grants`."""
    import ccm_demo.world as package

    grants: list[AdminGrant] = []
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        collect = getattr(module, "admin_grants", None)
        if collect is not None and module.__name__ != __name__:
            grants.extend(collect(Path(demo_dir)))
    return sorted(grants, key=lambda g: (g.system, g.account_id, g.role, g.granted_at))
