"""What `paysystem demo` seeds and closes, chosen from today's date, and what a data folder
already holds from an earlier demo.

The demo closes two months and walks the ledger between them (late playbacks into the first
closed month, adjustments at the close of the second). A month can be closed only once it has
ended, so the months are never "the current one": the history starts on the 1st of the
month `months` months before today's and ends yesterday, which gives `months` whole months
that have ended on every day of the year (on the 1st, yesterday ends the second of them).

A data folder remembers its demo in `demo.json`: the parameters and the days seeded. Running
the demo again with the same parameters reuses it (seeding again finds every account, video
and playback already there, so it also completes a seed that was interrupted); a folder that
holds other data, or a demo with other parameters, is left alone and the demo starts afresh
in a new folder beside it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

from domain.periods import month_name, month_start, next_month

MARKER = "demo.json"
MIN_MONTHS = 2  # the ledger walk closes two months


@dataclasses.dataclass(frozen=True)
class History:
    first_day: dt.date
    last_day: dt.date
    closed_months: tuple[dt.date, dt.date]  # first days of the two months the demo closes

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    def why(self, today: dt.date, zone: str) -> str:
        first, second = (month_name(m) for m in self.closed_months)
        return (
            f"Today is {today} ({zone}): the history runs from {self.first_day} to {self.last_day}"
            f" ({self.days} days, ending yesterday), so {first} and {second} have ended and the demo"
            f" closes them; a month can be closed only once it has ended."
        )


def plan_history(today: dt.date, months: int = MIN_MONTHS) -> History:
    """`months` whole months before today's month, and today's month up to yesterday."""
    if months < MIN_MONTHS:
        raise ValueError(f"the demo closes two months: --months must be at least {MIN_MONTHS}, got {months}")
    first = month_start(today)
    for _ in range(months):
        first = (first - dt.timedelta(days=1)).replace(day=1)
    closed = (first, next_month(first))
    return History(first, today - dt.timedelta(days=1), closed)


@dataclasses.dataclass(frozen=True)
class Marker:
    """What a data folder's demo was seeded with (`parameters`) and the history it chose."""

    parameters: dict
    history: History
    seeded: bool  # False while seeding: a demo stopped then is completed by running it again

    def to_json(self) -> str:
        h = self.history
        return json.dumps(
            {
                "parameters": self.parameters,
                "first_day": h.first_day.isoformat(),
                "last_day": h.last_day.isoformat(),
                "closed_months": [month_name(m) for m in h.closed_months],
                "seeded": self.seeded,
            },
            indent=1,
        )

    @classmethod
    def from_json(cls, text: str) -> Marker:
        data = json.loads(text)
        first, second = (dt.date.fromisoformat(f"{m}-01") for m in data["closed_months"])
        history = History(
            dt.date.fromisoformat(data["first_day"]), dt.date.fromisoformat(data["last_day"]), (first, second)
        )
        return cls(data["parameters"], history, bool(data["seeded"]))


def read_marker(data_dir: Path) -> Marker | None:
    path = data_dir / MARKER
    if not path.exists():
        return None
    try:
        return Marker.from_json(path.read_text())
    except (ValueError, KeyError, TypeError):
        return None  # unreadable: treated as other data


def write_marker(data_dir: Path, marker: Marker) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    tmp = data_dir / f"{MARKER}.tmp"
    tmp.write_text(marker.to_json())
    tmp.replace(data_dir / MARKER)


@dataclasses.dataclass(frozen=True)
class Choice:
    data_dir: Path
    history: History
    reused: bool
    message: str
    moved: bool = False  # not the folder asked for: that one holds other data


def choose_folder(data_dir: Path, parameters: dict, today: dt.date, months: int, *, embedded: bool) -> Choice:
    """Where the demo runs and on which history: a folder whose demo has the same parameters
    is reused (`data_dir` first, then the folders beside it that earlier demos made);
    otherwise a fresh history, in `data_dir` when it holds nothing, else in the first free
    folder beside it (`data_dir` is then left as it is: a database without a demo, or a demo
    with other parameters). `embedded`: the database is the SQLite file in the folder."""
    history = plan_history(today, months)
    reason = ""
    for n, folder in enumerate(_candidates(data_dir)):
        marker = read_marker(folder)
        if marker is not None and marker.parameters == parameters:
            state = "reusing" if marker.seeded else "completing the interrupted seed of"
            where = f"{reason}; {state}" if n else state.capitalize()
            message = f"{where} the demo data in {folder} (same parameters)"
            return Choice(folder, marker.history, True, message, moved=bool(n))
        holds = marker is not None or (embedded and (folder / "paysystem.db").exists())
        if not holds and not (n and folder.exists() and any(folder.iterdir())):
            if not n:
                return Choice(folder, history, False, f"Seeding a new demo in {folder}")
            return Choice(
                folder,
                history,
                False,
                f"{reason}; this demo starts afresh in {folder} (PAYSYSTEM_DATA_DIR={folder} points other commands at it)",
                moved=True,
            )
        if not n:
            what = "a demo with other parameters" if marker is not None else "data of its own"
            reason = f"{data_dir} holds {what} and is left as it is"
    raise RuntimeError(f"no free folder beside {data_dir} (tried {data_dir.name}-2 .. -{_SIBLINGS})")


_SIBLINGS = 99


def _candidates(data_dir: Path):
    yield data_dir
    for n in range(2, _SIBLINGS + 1):
        yield data_dir.with_name(f"{data_dir.name}-{n}")
