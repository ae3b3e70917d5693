"""`paysystem seed`: a realistic data set, ingested through the real API.

Accounts are made with SignUp/Login, videos with CreateVideo and playbacks sent with the
ImportPlays client stream, all through Envoy (`--url`, gRPC and JSON share its port), as an
INGEST service account. `--direct` sends the playbacks through the same validation and
write code in-process instead (faster for large benchmark sets; accounts and videos still go
through the API). `seed(...)` is the same thing for Python callers (demos, tests).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from urllib.parse import urlparse

import click
import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from entrypoints.cli import seed_data
from paysystem.v1 import account_pb2, account_pb2_grpc, common_pb2, video_pb2, video_pb2_grpc
from services.common.clock import Clock, clock_for
from services.common.settings import Settings, get_settings

DEFAULT_PASSWORD = "paysystem-demo-password"
# Above this many playbacks the seed does not classify them by the counted-view rules
# (about 10 µs and 200 bytes a playback, in this process).
RULES_SUMMARY_LIMIT = 2_000_000


@dataclasses.dataclass(frozen=True)
class SeededAccount:
    account_id: int
    username: str
    password: str
    role: str


@dataclasses.dataclass
class SeedSummary:
    sellers: list[SeededAccount]
    viewers: list[SeededAccount]
    videos: list[video_pb2.Video]
    first_day: dt.date
    last_day: dt.date
    sent: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    rejections: list[str] = dataclasses.field(default_factory=list)
    # Counted views and the playbacks each counted-view rule excludes, computed in a thread
    # once the playbacks are sent (a caller such as the demo runs the batch meanwhile).
    _rules: Future | None = dataclasses.field(default=None, repr=False, compare=False)

    @property
    def rules(self) -> dict[str, int] | None:
        """Of the playbacks made, how many count as views and how many each counted-view
        rule excludes (seed_data.rule_outcomes); None above RULES_SUMMARY_LIMIT playbacks."""
        return None if self._rules is None else self._rules.result()

    def rules_line(self) -> str:
        if self.rules is None:
            return f"counted-view rules not applied here (more than {RULES_SUMMARY_LIMIT} playbacks)"
        counted, *excluded = self.rules.items()
        return f"{counted[0]} {counted[1]}; excluded: " + ", ".join(f"{name} {n}" for name, n in excluded)

    @property
    def demo_seller(self) -> SeededAccount:
        """The first seller: owns the first video and most of the catalogue."""
        return self.sellers[0]


def _target(url: str) -> str:
    parsed = urlparse(url if "://" in url else f"http://{url}")
    return f"{parsed.hostname}:{parsed.port or 80}"


class _Api:
    def __init__(self, url: str) -> None:
        self.channel = grpc.insecure_channel(_target(url), options=[("grpc.max_receive_message_length", 64 << 20)])
        self.accounts = account_pb2_grpc.AccountServiceStub(self.channel)
        self.videos = video_pb2_grpc.VideoServiceStub(self.channel)

    def account(self, username: str, password: str, role: str) -> tuple[SeededAccount, str]:
        """Signs up (or, if the name exists from an earlier run, logs in) and returns a token."""
        try:
            self.accounts.SignUp(
                account_pb2.SignUpRequest(username=username, password=password, role=role),
                timeout=60,
            )
        except grpc.RpcError as exc:
            if exc.code() is not grpc.StatusCode.ALREADY_EXISTS:
                raise
        token = self.accounts.Login(account_pb2.LoginRequest(username=username, password=password), timeout=60)
        if common_pb2.Role.Name(token.role) != role:
            raise click.ClickException(f"account {username} exists with role {common_pb2.Role.Name(token.role)}")
        return SeededAccount(token.account_id, username, password, role), token.access_token

    @staticmethod
    def md(token: str):
        return (("authorization", f"Bearer {token}"),)


def _ingest_token(api: _Api, settings: Settings, clock: Clock, username: str, password: str) -> tuple[int, str]:
    """An INGEST service account, made as `paysystem create-ingest-account` does if missing."""
    try:
        token = api.accounts.Login(account_pb2.LoginRequest(username=username, password=password), timeout=60)
    except grpc.RpcError as exc:
        if exc.code() is not grpc.StatusCode.UNAUTHENTICATED:
            raise
        from services.account import service as account_service
        from services.common import db

        engine = db.make_engine(settings)
        try:
            account_service.create_account(
                account_service.sql_unit_of_work(engine),
                username,
                password,
                "INGEST",
                allowed_roles=("INGEST",),
                clock=clock,
            )
        finally:
            engine.dispose()
        token = api.accounts.Login(account_pb2.LoginRequest(username=username, password=password), timeout=60)
    if token.role != common_pb2.INGEST:
        raise click.ClickException(f"account {username} is not an INGEST account")
    return token.account_id, token.access_token


def _timestamp(us: int) -> Timestamp:
    ts = Timestamp()
    ts.FromMicroseconds(us)
    return ts


def seed(
    *,
    url: str = "http://127.0.0.1:8080",
    sellers: int = 10,
    viewers: int = 200,
    videos: int = 100,
    plays: int = 100_000,
    days: int = 14,
    start_date: dt.date | None = None,
    random_seed: int = 1,
    password: str = DEFAULT_PASSWORD,
    prefix: str | None = None,
    direct: bool = False,
    settings: Settings | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    clock: Clock | None = None,
) -> SeedSummary:
    """Makes the data set through the API at `url` and returns what it made.

    `progress(stage, done, total)` is called as accounts, videos and playbacks go out.
    Usernames and event ids start with `prefix` (default `seed<random_seed>`), so running
    again with the same seed finds the same accounts and videos and every playback comes
    back as a duplicate. `clock` (default: the settings') says which day is today and
    receives the playbacks imported directly.
    """
    if min(sellers, viewers, videos, days) < 1 or plays < 0:
        raise ValueError("sellers, viewers, videos and days must be at least 1; plays at least 0")
    settings = settings or get_settings()
    zone = settings.zone
    clock = clock or clock_for(settings)
    today = clock.today(zone)
    first_day = start_date or today - dt.timedelta(days=days)
    last_day = first_day + dt.timedelta(days=days - 1)
    if last_day >= today:
        raise ValueError(f"the seeded days must end before today ({today}): start earlier or seed fewer days")
    prefix = prefix or f"seed{random_seed}"
    report = progress or (lambda *_: None)
    rng = random.Random(random_seed)
    api = _Api(url)
    try:
        # Accounts: sign-up hashes the password (argon2), so a few at a time in parallel.
        names = [(f"{prefix}-seller-{i}", "SELLER") for i in range(sellers)]
        names += [(f"{prefix}-viewer-{i}", "VIEWER") for i in range(viewers)]
        made: list[tuple[SeededAccount, str]] = []
        with ThreadPoolExecutor(max_workers=4) as pool:
            for done, result in enumerate(pool.map(lambda n: api.account(n[0], password, n[1]), names), 1):
                made.append(result)
                report("accounts", done, len(names))
        seller_accounts = [a for a, _ in made[:sellers]]
        seller_tokens = [t for _, t in made[:sellers]]
        viewer_accounts = [a for a, _ in made[sellers:]]

        specs = seed_data.video_specs(rng, videos, sellers)
        video_ids = _videos(api, specs, seller_accounts, seller_tokens, report)
        summary = SeedSummary(seller_accounts, viewer_accounts, list(video_ids.values()), first_day, last_day)
        summary.videos.sort(key=lambda v: v.video_id)

        def account_of(who: tuple[str, int]) -> int:
            kind, index = who
            return (seller_accounts if kind == "seller" else viewer_accounts)[index].account_id

        generated: list[seed_data.PlaySpec] | None = [] if plays <= RULES_SUMMARY_LIMIT else None

        def events() -> Iterator[video_pb2.PlayEvent]:
            for n, spec in enumerate(
                seed_data.plays(
                    rng,
                    specs,
                    viewers=viewers,
                    sellers=sellers,
                    count=plays,
                    first_day=first_day,
                    days=days,
                    zone=zone,
                    prefix=prefix,
                ),
                1,
            ):
                if generated is not None:
                    generated.append(spec)
                yield video_pb2.PlayEvent(
                    event_id=spec.event_id,
                    video_id=video_ids[spec.video_index].video_id,
                    viewer_id=account_of(spec.viewer),
                    started_at=_timestamp(spec.started_at_us),
                    start_position_sec=spec.start_position_sec,
                    end_position_sec=spec.end_position_sec,
                )
                if n % 1000 == 0 or n == plays:
                    report("playbacks", n, plays)

        ingest_id, ingest_token = _ingest_token(api, settings, clock, f"{prefix}-ingest", password)
        if direct:
            response = _import_directly(settings, clock, ingest_id, _chunks(events()))
        else:
            response = api.videos.ImportPlays(_chunks(events()), metadata=api.md(ingest_token))
        summary.sent = response.received
        summary.stored, summary.duplicates, summary.rejected = response.stored, response.duplicates, response.rejected
        summary.rejections = [f"{r.event_id}: {r.reason}" for r in response.rejections[:20]]
        if generated is not None:
            summary._rules = Future()
            threading.Thread(
                target=_resolve,
                name="seed-rules",
                daemon=True,
                args=(summary._rules, lambda: seed_data.rule_outcomes(specs, generated, sellers=sellers, zone=zone)),
            ).start()
        return summary
    finally:
        api.channel.close()


def _resolve(future: Future, compute: Callable[[], object]) -> None:
    try:
        future.set_result(compute())
    except BaseException as exc:  # noqa: BLE001 - handed to whoever reads the result
        future.set_exception(exc)


def _videos(api: _Api, specs, sellers, tokens, report) -> dict[int, video_pb2.Video]:
    """Creates the videos, reusing those an earlier run with the same seed made."""
    existing: dict[int, list[video_pb2.Video]] = {}
    for index, account in enumerate(sellers):
        listed, token = [], ""
        while True:
            page = api.videos.ListSellerVideos(
                video_pb2.ListSellerVideosRequest(seller_id=account.account_id, page_size=1000, page_token=token),
                metadata=api.md(tokens[index]),
            )
            listed += page.videos
            token = page.next_page_token
            if not token:
                break
        existing[index] = listed
    out: dict[int, video_pb2.Video] = {}
    for done, spec in enumerate(specs, 1):
        mine = existing[spec.seller_index]
        match = next((v for v in mine if v.title == spec.title and v.duration_sec == spec.duration_sec), None)
        if match is None:
            match = api.videos.CreateVideo(
                video_pb2.CreateVideoRequest(title=spec.title, duration_sec=spec.duration_sec),
                metadata=api.md(tokens[spec.seller_index]),
            )
        else:
            mine.remove(match)
        out[spec.index] = match
        report("videos", done, len(specs))
    return out


def _chunks(events: Iterator[video_pb2.PlayEvent], size: int = 5_000) -> Iterator[video_pb2.ImportPlaysChunk]:
    """The ImportPlays stream: events in chunks (one stream message per event costs the
    client and the server several times the work)."""
    chunk = video_pb2.ImportPlaysChunk()
    for event in events:
        chunk.events.append(event)
        if len(chunk.events) == size:
            yield chunk
            chunk = video_pb2.ImportPlaysChunk()
    if chunk.events:
        yield chunk


def _import_directly(settings: Settings, clock: Clock, ingest_id: int, chunks: Iterator[video_pb2.ImportPlaysChunk]):
    """The ImportPlays use case in-process: the same validation and write path, no network."""
    from domain.plays import Outcome
    from services.common import auth, db
    from services.video.ingest import Ingest, sql_play_log
    from services.video.servicer import play_events

    engine = db.make_engine(settings)
    try:
        response = video_pb2.ImportPlaysResponse()
        principal = auth.Principal(ingest_id, "seed-ingest", "INGEST")
        ingest = Ingest(sql_play_log(engine), settings.zone, clock=clock)
        for results in ingest.import_plays(principal, (play_events(c.events) for c in chunks)):
            response.received += len(results)
            for r in results:
                if r.outcome is Outcome.STORED:
                    response.stored += 1
                elif r.outcome is Outcome.DUPLICATE:
                    response.duplicates += 1
                else:
                    response.rejected += 1
                    response.rejections.add(event_id=r.event_id, outcome=int(r.outcome), reason=r.reason)
        return response
    finally:
        engine.dispose()


@click.command("seed")
@click.option("--url", default="http://127.0.0.1:8080", show_default=True, help="Envoy's listener")
@click.option("--sellers", default=10, show_default=True, type=click.IntRange(min=1))
@click.option("--viewers", default=200, show_default=True, type=click.IntRange(min=1))
@click.option("--videos", default=100, show_default=True, type=click.IntRange(min=1))
@click.option("--plays", default=100_000, show_default=True, type=click.IntRange(min=0))
@click.option("--days", default=14, show_default=True, type=click.IntRange(min=1))
@click.option("--start-date", type=click.DateTime(formats=["%Y-%m-%d"]), help="first local day [today - days]")
@click.option("--seed", "random_seed", default=1, show_default=True, help="random seed: same seed, same data")
@click.option("--password", default=DEFAULT_PASSWORD, show_default=True, help="of every seeded account")
@click.option("--direct", is_flag=True, help="send playbacks through the ingest code in-process, not the network")
def seed_command(url, sellers, viewers, videos, plays, days, start_date, random_seed, password, direct) -> None:
    """Generate a realistic data set and ingest it through the API."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

    console = Console()
    tasks: dict[str, TaskID] = {}
    with Progress(
        TextColumn("{task.description:>10}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    ) as bars:

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bars.add_task(stage, total=total)
            bars.update(tasks[stage], completed=done)

        try:
            summary = seed(
                url=url,
                sellers=sellers,
                viewers=viewers,
                videos=videos,
                plays=plays,
                days=days,
                start_date=start_date.date() if start_date else None,
                random_seed=random_seed,
                password=password,
                direct=direct,
                progress=progress,
            )
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from None
        except grpc.RpcError as exc:
            raise click.ClickException(f"{url}: {exc.code().name}: {exc.details()}") from None
    demo = summary.demo_seller
    console.print(
        f"{len(summary.sellers)} sellers, {len(summary.viewers)} viewers, {len(summary.videos)} videos; "
        f"days {summary.first_day} .. {summary.last_day}\n"
        f"playbacks sent {summary.sent}: stored {summary.stored}, duplicates {summary.duplicates}, "
        f"rejected {summary.rejected}\n"
        f"{summary.rules_line()}\n"
        f"demo seller: {demo.username} / {demo.password} (account {demo.account_id})"
    )
    for line in summary.rejections:
        console.print(f"  rejected {line}")


commands = [seed_command]
