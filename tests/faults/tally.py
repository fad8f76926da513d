"""What a scenario's runs left behind, what they should have left, and what they lost or doubled."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.faults.world import Campaign


@dataclass(frozen=True)
class Effects:
    """What runs must leave exactly once: each campaign's poll of each run, each email (campaign,
    subject, recipients), each asset in the DAM's campaign folder (campaign, name, size)."""

    polls: Counter
    emails: Counter
    assets: Counter

    def of_run(self, run: Any) -> Counter:
        return Counter({key: n for key, n in self.polls.items() if key[1] == run})


def expected(
    polls: Mapping[Campaign, Iterable[str]],
    emails: Iterable[tuple],
    assets: Mapping[Campaign, Mapping[str, int]],
) -> Effects:
    """The effects a scenario's runs should leave: the runs polling each campaign, the emails,
    the files each campaign's DAM folder should hold."""
    return Effects(
        polls=Counter((c.campaign_id, run) for c, ran in polls.items() for run in ran),
        emails=Counter(emails),
        assets=Counter(
            (c.campaign_id, name, size)
            for c, files in assets.items()
            for name, size in files.items()
        ),
    )


@dataclass(frozen=True)
class Snapshot:
    """Everything a scenario's campaigns left behind: tracking rows, emails, the DAM's state."""

    status: dict[str, tuple]
    polls: dict[str, list[tuple]]
    notifications: dict[str, list[tuple]]
    assets: dict[str, list[tuple]]
    emails: Counter
    dam: dict[str, tuple]

    def effects(self) -> Effects:
        return Effects(
            polls=Counter((cid, poll[0]) for cid, polls in self.polls.items() for poll in polls),
            emails=self.emails,
            assets=Counter((cid, *a) for cid, (_, imported) in self.dam.items() for a in imported),
        )

    def renamed(self, rename: Callable[[str], Any]) -> Snapshot:
        """The snapshot with every string passed through ``rename``, its lists sorted."""

        def walk(value: Any) -> Any:
            if isinstance(value, str):
                return rename(value)
            if isinstance(value, tuple):
                return tuple(map(walk, value))
            if isinstance(value, list):
                return sorted(map(walk, value))
            if isinstance(value, dict):
                return type(value)({walk(key): walk(item) for key, item in value.items()})
            return value

        return Snapshot(**{f.name: walk(getattr(self, f.name)) for f in fields(self)})


@dataclass
class Tally:
    """One scenario's line of the summary: what was broken and what, if anything, was lost."""

    scenario: str
    faults: int = 0
    runs: int = 0
    runs_survived: int = 0
    task_reruns: int = 0  # tries run again, retried by Airflow or cleared: the faults were felt
    campaigns: int = 0
    polls_lost: int = 0
    polls_doubled: int = 0
    emails_lost: int = 0
    emails_doubled: int = 0
    assets_lost: int = 0
    assets_doubled: int = 0

    @property
    def losses(self) -> int:
        return sum(
            getattr(self, f"{what}_{how}")
            for what in ("polls", "emails", "assets")
            for how in ("lost", "doubled")
        )

    def audit(self, found: Snapshot, runs: Iterable[Any], should: Effects) -> Tally:
        """Count what the runs lost or doubled against what they ``should`` have left; a run
        survived when its polls are all there, once each."""
        left = found.effects()
        for what in ("polls", "emails", "assets"):
            setattr(self, f"{what}_lost", (getattr(should, what) - getattr(left, what)).total())
            setattr(self, f"{what}_doubled", (getattr(left, what) - getattr(should, what)).total())
        runs = list(runs)
        self.runs = len(runs)
        self.runs_survived = sum(+left.of_run(run) == +should.of_run(run) for run in runs)
        return self
