"""Playback ingest over real gRPC (RecordPlays, ImportPlays, GetResumePosition), on MariaDB
and on the embedded SQLite default.

The tests whose answer depends on how the write learns which rows it stored (exact
per-event results, races) also run on MariaDB with the path MySQL 8 takes, forced
(`mariadb-select-then-insert`: SELECT the existing event_ids, then a plain INSERT).
"""

from __future__ import annotations

import datetime as dt
import itertools
import threading
import time
import uuid

import grpc
import pytest
import sqlalchemy as sa
from google.protobuf.timestamp_pb2 import Timestamp

from domain.periods import local_day_of
from domain.plays import NOT_ENDED, too_late_reason
from paysystem.v1 import video_pb2
from services.common.clock import FixedClock
from services.video import play_counts, repository
from services.video.tables import plays, resume_positions
from tests.plugins.video import video_service

STORED, DUPLICATE, REJECTED = video_pb2.STORED, video_pb2.DUPLICATE, video_pb2.REJECTED
# A whole second a day ago: inside the late window of the viewers' own playbacks (7 days).
T0 = (time.time_ns() // 1_000_000_000 - 86_400) * 1_000_000
MINUTES_5_US = 5 * 60 * 1_000_000
WEEK_US = 7 * 86_400 * 1_000_000


# The server's business clock is a FixedClock (the settings' test clock), which each test moves
# to the current instant (`_pin_clock`), so that the limits can be hit to the microsecond.
FIXED_CLOCK = {"test_mode": True, "test_now": dt.datetime.now(dt.UTC).isoformat()}

FORCED = {"mariadb-select-then-insert": ("mariadb", repository.SELECT_THEN_INSERT)}
# Parametrizes a test over every exact write path: the two backends and MySQL 8's path.
every_exact_path = pytest.mark.parametrize("harness", ["sqlite", "mariadb", *FORCED], indirect=True)


@pytest.fixture(scope="module", params=["sqlite", "mariadb"])
def harness(request, tmp_path_factory):
    backend, strategy = FORCED.get(request.param, (request.param, None))
    with video_service(backend, tmp_path_factory.mktemp("ingest"), exact_strategy=strategy, **FIXED_CLOCK) as h:
        yield h


@pytest.fixture
def world(harness):
    """A seller with a 600 s video, a viewer, and the ingest service account; the server's
    clock at the current instant."""
    _pin_clock(harness)
    seller = harness.account("SELLER")
    video = harness.stub.CreateVideo(
        video_pb2.CreateVideoRequest(title="clip", duration_sec=600), metadata=harness.md(seller)
    )
    return seller, video, harness.account("VIEWER"), harness.account("INGEST")


def _eid() -> str:
    return uuid.uuid4().hex


def event(video_id, viewer_id, *, event_id=None, at_us=T0, start=0, end=100, started=True) -> video_pb2.PlayEvent:
    message = video_pb2.PlayEvent(
        event_id=_eid() if event_id is None else event_id,
        video_id=video_id,
        viewer_id=viewer_id,
        start_position_sec=start,
        end_position_sec=end,
    )
    if started:
        ts = Timestamp()
        ts.FromMicroseconds(at_us)
        message.started_at.CopyFrom(ts)
    return message


def _stored(harness, event_ids) -> dict[str, sa.Row]:
    with harness.engine.connect() as conn:
        rows = conn.execute(sa.select(plays).where(plays.c.event_id.in_(list(event_ids))))
        return {r.event_id: r for r in rows}


def _record(harness, principal, events):
    return harness.stub.RecordPlays(video_pb2.RecordPlaysRequest(events=events), metadata=harness.md(principal))


def test_a_viewer_records_a_playback_that_is_stored_with_its_local_day(harness, world):
    _, video, viewer, _ = world
    e = event(video.video_id, viewer.account_id, at_us=T0 + 123_456)
    response = _record(harness, viewer, [e])
    assert [(r.event_id, r.outcome, r.reason) for r in response.results] == [(e.event_id, STORED, "")]
    assert (response.stored, response.duplicates, response.rejected) == (1, 0, 0)
    row = _stored(harness, [e.event_id])[e.event_id]
    assert (row.video_id, row.viewer_id, row.started_at_us, row.start_position_sec, row.end_position_sec) == (
        video.video_id,
        viewer.account_id,
        T0 + 123_456,
        0,
        100,
    )
    assert row.local_day == local_day_of(T0 + 123_456, harness.ctx.settings.zone)


@every_exact_path
def test_a_batch_mixing_good_duplicate_and_bad_events_gets_exact_results_in_order(harness, world):
    seller, video, viewer, ingest = world
    v, w = video.video_id, viewer.account_id
    already = event(v, w, end=50)
    conflicting_stored = event(v, w, end=60)
    _record(harness, ingest, [already, conflicting_stored])
    good_1, good_2, twice = event(v, w), event(v, w, start=600, end=700), event(v, w, end=10)
    now_us = time.time_ns() // 1000
    batch = [
        good_1,
        already,  # duplicate of a stored event
        event(v, w, event_id=conflicting_stored.event_id, end=61),  # conflict with the stored one
        event(10**12, w),  # unknown video
        event(v, w, start=-1),  # negative position
        event(v, w, start=100, end=99),  # reversed
        event(v, w, start=601, end=700),  # start beyond the length
        event(v, w, at_us=now_us + 10 * 60 * 1_000_000),  # 10 minutes in the future
        event(v, w, started=False),  # no started_at
        event(v, 0),  # bad viewer id
        event(-3, w),  # bad video id
        event(v, 10**12),  # unknown viewer
        event(v, w, event_id=""),  # empty event id
        event(v, w, event_id="x" * 129),  # too long event id
        event(v, w, event_id="trailing "),  # ambiguous under PAD SPACE
        twice,
        event(v, w, event_id=twice.event_id, end=10),  # same again, identical
        event(v, w, event_id=twice.event_id, end=11),  # same id, other content
        good_2,  # at the very end: 600..700 of 600 s
    ]
    response = _record(harness, ingest, batch)
    outcomes = [(r.outcome, r.reason.split(":")[0]) for r in response.results]
    assert [r.event_id for r in response.results] == [e.event_id for e in batch]
    assert outcomes == [
        (STORED, ""),
        (DUPLICATE, ""),
        (REJECTED, "event_id"),
        (REJECTED, "video_id"),
        (REJECTED, "start_position_sec"),
        (REJECTED, "end_position_sec"),
        (REJECTED, "start_position_sec"),
        (REJECTED, "started_at"),
        (REJECTED, "started_at"),
        (REJECTED, "viewer_id"),
        (REJECTED, "video_id"),
        (REJECTED, "viewer_id"),
        (REJECTED, "event_id"),
        (REJECTED, "event_id"),
        (REJECTED, "event_id"),
        (STORED, ""),
        (DUPLICATE, ""),
        (REJECTED, "event_id"),
        (STORED, ""),
    ]
    assert "different content" in response.results[2].reason
    assert "unknown video" in response.results[3].reason
    assert (response.stored, response.duplicates, response.rejected) == (3, 2, 14)
    stored = _stored(harness, [e.event_id for e in batch])
    assert set(stored) == {
        good_1.event_id,
        already.event_id,
        conflicting_stored.event_id,
        twice.event_id,
        good_2.event_id,
    }
    assert stored[conflicting_stored.event_id].end_position_sec == 60  # the stored event stays
    assert stored[twice.event_id].end_position_sec == 10  # the first of the request is kept


@every_exact_path
def test_resubmitting_a_batch_changes_nothing_and_says_duplicate(harness, world):
    _, video, viewer, _ = world
    batch = [event(video.video_id, viewer.account_id, at_us=T0 + i) for i in range(20)]
    first = _record(harness, viewer, batch)
    with harness.engine.connect() as conn:
        before = conn.execute(sa.select(sa.func.count()).select_from(plays)).scalar()
    again = _record(harness, viewer, batch)
    with harness.engine.connect() as conn:
        after = conn.execute(sa.select(sa.func.count()).select_from(plays)).scalar()
    assert {r.outcome for r in first.results} == {STORED}
    assert {r.outcome for r in again.results} == {DUPLICATE} and before == after


def test_a_viewer_submitting_for_another_viewer_is_denied_and_nothing_is_stored(harness, world):
    _, video, viewer, _ = world
    other = harness.account("VIEWER")
    mine, theirs = event(video.video_id, viewer.account_id), event(video.video_id, other.account_id)
    with pytest.raises(grpc.RpcError) as caught:
        _record(harness, viewer, [mine, theirs])
    assert caught.value.code() is grpc.StatusCode.PERMISSION_DENIED
    assert "another viewer" in caught.value.details()
    assert _stored(harness, [mine.event_id, theirs.event_id]) == {}


@pytest.mark.parametrize("role", ["SELLER", "ADMIN"])
def test_sellers_and_admins_record_their_own_playbacks_but_not_others(harness, world, role):
    _, video, viewer, _ = world
    account = harness.account(role)
    own = _record(harness, account, [event(video.video_id, account.account_id)])
    assert own.results[0].outcome == STORED
    with pytest.raises(grpc.RpcError) as caught:
        _record(harness, account, [event(video.video_id, viewer.account_id)])
    assert caught.value.code() is grpc.StatusCode.PERMISSION_DENIED


def test_the_ingest_role_records_playbacks_of_any_viewer(harness, world):
    _, video, viewer, ingest = world
    other = harness.account("VIEWER")
    response = _record(
        harness, ingest, [event(video.video_id, viewer.account_id), event(video.video_id, other.account_id)]
    )
    assert [r.outcome for r in response.results] == [STORED, STORED]


def test_an_oversize_batch_is_rejected_whole_with_a_clear_message(harness, world):
    _, video, viewer, ingest = world
    batch = [event(video.video_id, viewer.account_id, at_us=T0 + i) for i in range(5_001)]
    with pytest.raises(grpc.RpcError) as caught:
        _record(harness, ingest, batch)
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "at most 5000 events per call, got more than 5000" in caught.value.details()
    assert _stored(harness, [batch[0].event_id, batch[-1].event_id]) == {}


def test_a_batch_of_exactly_5000_events_is_stored(harness, world):
    _, video, viewer, ingest = world
    batch = [event(video.video_id, viewer.account_id, at_us=T0 + i) for i in range(5_000)]
    response = _record(harness, ingest, batch)
    assert response.stored == 5_000


def _resume(harness, principal, video_id) -> int:
    return harness.stub.GetResumePosition(
        video_pb2.GetResumePositionRequest(video_id=video_id), metadata=harness.md(principal)
    ).position_sec


def test_the_resume_position_follows_started_at_even_when_events_arrive_out_of_order(harness, world):
    _, video, viewer, _ = world
    v, w = video.video_id, viewer.account_id
    assert _resume(harness, viewer, v) == 0  # never watched
    _record(harness, viewer, [event(v, w, event_id=f"m-{v}", at_us=T0 + 2_000_000, start=100, end=250)])
    assert _resume(harness, viewer, v) == 250
    _record(harness, viewer, [event(v, w, at_us=T0 + 1_000_000, start=0, end=100)])  # late and older
    assert _resume(harness, viewer, v) == 250
    # Same instant: the greater event_id is the later one.
    _record(
        harness,
        viewer,
        [
            event(v, w, event_id=f"z-{v}", at_us=T0 + 2_000_000, end=300),
            event(v, w, event_id=f"a-{v}", at_us=T0 + 2_000_000, end=310),
        ],
    )
    assert _resume(harness, viewer, v) == 300
    _record(harness, viewer, [event(v, w, at_us=T0 + 3_000_000, start=300, end=600)])  # reached the end
    assert _resume(harness, viewer, v) == 0
    _record(harness, viewer, [event(v, w, at_us=T0 + 4_000_000, start=0, end=42)])
    assert _resume(harness, viewer, v) == 42


def test_the_resume_position_is_each_viewers_own(harness, world):
    _, video, viewer, _ = world
    other = harness.account("VIEWER")
    _record(harness, viewer, [event(video.video_id, viewer.account_id, end=77)])
    assert _resume(harness, other, video.video_id) == 0


@every_exact_path
def test_a_rejected_event_does_not_move_the_resume_position(harness, world):
    _, video, viewer, _ = world
    v, w = video.video_id, viewer.account_id
    stored = event(v, w, at_us=T0, end=120)
    _record(harness, viewer, [stored])
    _record(harness, viewer, [event(v, w, event_id=stored.event_id, at_us=T0 + 9_000_000, end=130)])  # conflict
    assert _resume(harness, viewer, v) == 120


def test_resume_of_an_unknown_video_is_not_found(harness, world):
    _, _, viewer, _ = world
    with pytest.raises(grpc.RpcError) as caught:
        _resume(harness, viewer, 10**13)
    assert caught.value.code() is grpc.StatusCode.NOT_FOUND


def _race(harness, principal, *batches) -> list:
    """Sends the batches at the same moment, each from its own client; their responses."""
    from paysystem.v1 import video_pb2_grpc

    responses = [None] * len(batches)
    barrier = threading.Barrier(len(batches))

    def submit(slot, events):
        channel = grpc.insecure_channel(harness.channel._channel.target().decode())
        stub = video_pb2_grpc.VideoServiceStub(channel)
        barrier.wait()
        responses[slot] = stub.RecordPlays(video_pb2.RecordPlaysRequest(events=events), metadata=harness.md(principal))
        channel.close()

    threads = [threading.Thread(target=submit, args=(slot, events)) for slot, events in enumerate(batches)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return responses


def _outcomes(responses) -> dict[str, list[int]]:
    outcomes: dict[str, list[int]] = {}
    for response in responses:
        for r in response.results:
            outcomes.setdefault(r.event_id, []).append(r.outcome)
    return {event_id: sorted(o) for event_id, o in outcomes.items()}


@every_exact_path
def test_two_clients_racing_with_the_same_events_store_each_exactly_once(harness, world):
    _, video, viewer, ingest = world
    others = [harness.account("VIEWER") for _ in range(5)]
    batch = [event(video.video_id, others[i % 5].account_id, at_us=T0 + i * 1_000, end=i % 700) for i in range(2_000)]
    outcomes = _outcomes(_race(harness, ingest, batch, list(reversed(batch))))
    assert all(o == [STORED, DUPLICATE] for o in outcomes.values())
    assert len(_stored(harness, outcomes)) == 2_000
    with harness.engine.connect() as conn:
        positions = dict(
            conn.execute(
                sa.select(resume_positions.c.viewer_id, resume_positions.c.position_sec).where(
                    resume_positions.c.video_id == video.video_id,
                    resume_positions.c.viewer_id.in_([o.account_id for o in others]),
                )
            ).all()
        )
    # The newest playback of each viewer decides, whichever client stored it.
    expected = {}
    for e in batch:
        expected[e.viewer_id] = 0 if e.end_position_sec >= 600 else e.end_position_sec
    assert positions == expected


@every_exact_path
def test_clients_racing_over_a_partly_stored_batch_each_get_an_exact_answer(harness, world):
    # Some events of the batch are stored already, so no client's first insert goes in
    # whole: every client takes the exact path (RETURNING, or MySQL 8's SELECT then INSERT,
    # where the losers of the race get a duplicate key and retry), several rounds.
    _, video, viewer, ingest = world
    for round_ in range(3):
        batch = [event(video.video_id, viewer.account_id, at_us=T0 + i * 1_000, end=i % 500) for i in range(600)]
        earlier = batch[round_::3]
        assert _record(harness, ingest, earlier).stored == len(earlier)
        outcomes = _outcomes(_race(harness, ingest, batch, list(reversed(batch)), batch[100:] + batch[:100]))
        old = {e.event_id for e in earlier}
        assert all(outcomes[e] == [DUPLICATE] * 3 for e in old)
        assert all(o == [STORED, DUPLICATE, DUPLICATE] for e, o in outcomes.items() if e not in old)
        stored = _stored(harness, outcomes)
        assert len(stored) == 600
        assert all(stored[e.event_id].end_position_sec == e.end_position_sec for e in batch)


def test_import_plays_streams_many_events_in_chunks_and_counts_them(harness, world):
    _, video, viewer, ingest = world
    good = [event(video.video_id, viewer.account_id, at_us=T0 + i) for i in range(12_000)]
    bad = [event(video.video_id, viewer.account_id, start=-5) for _ in range(3)]
    stream = [*good[:6_000], bad[0], good[0], *good[6_000:], bad[1], bad[2]]
    # Chunks of uneven sizes, one of them empty: the events count, not the chunking.
    cuts = [0, 1, 1, 4_999, 6_002, 11_000, len(stream)]
    chunks = [video_pb2.ImportPlaysChunk(events=stream[a:b]) for a, b in itertools.pairwise(cuts)]
    response = harness.stub.ImportPlays(iter(chunks), metadata=harness.md(ingest))
    assert (response.received, response.stored, response.duplicates, response.rejected) == (12_004, 12_000, 1, 3)
    assert [r.event_id for r in response.rejections] == [b.event_id for b in bad]
    assert len(_stored(harness, [g.event_id for g in good])) == 12_000


def test_import_plays_is_for_the_ingest_role_only(harness, world):
    _, video, viewer, _ = world
    with pytest.raises(grpc.RpcError) as caught:
        harness.stub.ImportPlays(
            iter([video_pb2.ImportPlaysChunk(events=[event(video.video_id, viewer.account_id)])]),
            metadata=harness.md(viewer),
        )
    assert caught.value.code() is grpc.StatusCode.PERMISSION_DENIED


@every_exact_path
def test_event_ids_are_stored_byte_for_byte_and_compared_case_sensitively(harness, world):
    _, video, viewer, _ = world
    suffix = uuid.uuid4().hex[:8]
    ids = [
        f"{s}-{suffix}" for s in ("it's", "back\\slash", "100%s", "ü-é-😀", "x'); DROP TABLE plays; --", "CASE", "case")
    ]
    response = _record(harness, viewer, [event(video.video_id, viewer.account_id, event_id=i) for i in ids])
    assert [r.outcome for r in response.results] == [STORED] * len(ids)
    assert set(_stored(harness, ids)) == set(ids)
    # Again, with one new id among them: the exact path reads the stored ones back.
    again = _record(
        harness, viewer, [event(video.video_id, viewer.account_id, event_id=i) for i in [*ids, f"new'-{suffix}"]]
    )
    assert [r.outcome for r in again.results] == [DUPLICATE] * len(ids) + [STORED]


def _pin_clock(harness) -> int:
    """Sets the server's clock (the ingest's received_at) to the current instant, where it
    stays: the limits can be hit to the microsecond."""
    clock = harness.ctx.clock
    assert isinstance(clock, FixedClock)
    clock.set(time.time_ns() // 1000)
    return clock.now_us()


def _results(response) -> list[tuple[int, str]]:
    return [(r.outcome, r.reason) for r in response.results]


def test_a_playback_that_cannot_have_ended_yet_is_rejected_one_microsecond_past_the_limit(harness, world):
    _, video, viewer, ingest = world  # a 600 s video
    v, w = video.video_id, viewer.account_id
    now = _pin_clock(harness)
    # 0..250 s: 125 s at double speed, so the latest start is now + 5 min - 125 s.
    limit = now + MINUTES_5_US - 125_000_000
    for principal in (viewer, ingest):
        batch = [
            event(v, w, at_us=limit, end=250),
            event(v, w, at_us=limit + 1, end=250),
            event(v, w, at_us=now + MINUTES_5_US, start=42, end=42),  # nothing watched
            event(v, w, at_us=now + MINUTES_5_US + 1, start=42, end=42),
            event(v, w, at_us=now, end=900),  # overshoot: 600 s watched, 300 s at 2x
            event(v, w, at_us=now + 1, end=900),
        ]
        response = _record(harness, principal, batch)
        assert _results(response) == [(STORED, ""), (REJECTED, NOT_ENDED)] * 3
        assert set(_stored(harness, [e.event_id for e in batch])) == {e.event_id for e in batch[::2]}


def test_a_viewer_records_a_playback_up_to_seven_days_after_it_started_an_ingest_account_any_time(harness, world):
    _, video, viewer, ingest = world
    v, w = video.video_id, viewer.account_id
    now = _pin_clock(harness)
    at_limit, past = event(v, w, at_us=now - WEEK_US, end=300), event(v, w, at_us=now - WEEK_US - 1, end=600)
    response = _record(harness, viewer, [at_limit, past])
    assert _results(response) == [(STORED, ""), (REJECTED, too_late_reason(WEEK_US))]
    assert (response.stored, response.rejected) == (1, 1)
    assert set(_stored(harness, [at_limit.event_id, past.event_id])) == {at_limit.event_id}

    backfill = [past, event(v, w, at_us=now - 400 * 86_400 * 1_000_000, end=30)]
    assert _results(_record(harness, ingest, backfill)) == [(STORED, "")] * 2


def test_sellers_and_admins_recording_their_own_playbacks_have_the_late_window_too(harness, world):
    _, video, _, _ = world
    now = _pin_clock(harness)
    for role in ("SELLER", "ADMIN"):
        account = harness.account(role)
        old = event(video.video_id, account.account_id, at_us=now - WEEK_US - 1)
        assert _results(_record(harness, account, [old])) == [(REJECTED, too_late_reason(WEEK_US))]
        assert _stored(harness, [old.event_id]) == {}


def test_the_late_window_is_a_setting(tmp_path):
    with video_service("mariadb", tmp_path, viewer_late_window_sec=3_600, **FIXED_CLOCK) as h:
        seller, viewer = h.account("SELLER"), h.account("VIEWER")
        video = h.stub.CreateVideo(video_pb2.CreateVideoRequest(title="clip", duration_sec=60), metadata=h.md(seller))
        now = _pin_clock(h)
        batch = [event(video.video_id, viewer.account_id, at_us=now - 3_600_000_000 - d, end=60) for d in (0, 1)]
        response = _record(h, viewer, batch)
        assert _results(response) == [(STORED, ""), (REJECTED, too_late_reason(3_600_000_000))]
        assert "more than 1 hour ago" in response.results[1].reason
        assert set(_stored(h, [e.event_id for e in batch])) == {batch[0].event_id}


@every_exact_path
def test_the_day_counts_equal_the_stored_plays_after_racing_mixed_batches(harness, world):
    """What ingest adds to play_day_counts (which the batch's late-data check reads instead of
    counting the history) equals what `plays` holds per day, counted here with COUNT(*):
    racing clients, duplicates, conflicts and rejected events over three local days."""
    _, video, viewer, ingest = world
    day_us = 86_400_000_000
    batch = [event(video.video_id, viewer.account_id, at_us=T0 - (i % 3) * day_us + i, end=i % 700) for i in range(900)]
    conflicting = [event(video.video_id, viewer.account_id, event_id=e.event_id, end=1) for e in batch[:50]]
    bad = [event(video.video_id, viewer.account_id, end=601) for _ in range(20)]  # past the video's end
    _race(harness, ingest, batch + bad, conflicting + list(reversed(batch)), batch[::2])
    with harness.engine.connect() as conn:
        stored = {
            r.local_day: int(r.n)
            for r in conn.execute(sa.select(plays.c.local_day, sa.func.count().label("n")).group_by(plays.c.local_day))
        }
        counted = play_counts.per_day(conn)
    assert counted == stored
    assert len(stored) >= 3
