"""The fake of the video ports (tests/fakes/video.py) answers as the SQL adapter
(services/video/sql_adapter.py over repository.py) does: one scenario against both, on
MariaDB and SQLite, with equal answers."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa

from services.video import sql_adapter
from services.video.ports import StoredResume, UnitOfWork
from services.video.tables import resume_positions
from tests.databases import fresh_engine
from tests.fakes.video import FakeUnitOfWork, FakeVideos

T0 = 1_700_000_000_000_000
RESUME = (20, 2, StoredResume(125, T0 + 9))  # viewer 20 stopped video #2 at 125 s


def scenario(new_uow: Callable[[], UnitOfWork]) -> list[object]:
    answers: list[object] = []
    with new_uow() as uow:
        ids = [
            uow.videos.add(seller_id=seller, title=title, duration_sec=60 * n, created_at_us=T0 + n)
            for n, (seller, title) in enumerate([(7, "a"), (7, "Bé ✓"), (8, "c"), (7, "d")], start=1)
        ]
        uow.commit()
    answers.append([b - a for a, b in zip(ids, ids[1:], strict=False)])  # growing ids
    with new_uow() as uow:
        uow.videos.add(seller_id=7, title="rolled back", duration_sec=1, created_at_us=T0)
    with new_uow() as uow:
        answers.append(uow.videos.by_id(ids[1]))
        answers.append(uow.videos.by_id(ids[-1] + 1000))
        answers.append(uow.videos.of_seller(7, after_video_id=0, limit=10))
        answers.append(uow.videos.of_seller(7, after_video_id=ids[0], limit=1))
        answers.append(uow.videos.of_seller(9, after_video_id=0, limit=10))
        answers.append(uow.videos.resume_position(20, 2))
        answers.append(uow.videos.resume_position(21, 2))
    return answers


def test_the_fake_answers_the_scenario():
    videos = FakeVideos()
    videos.resumes[RESUME[:2]] = RESUME[2]
    answers = scenario(lambda: FakeUnitOfWork(videos))
    assert answers[0] == [1, 1, 1]
    assert [v.title for v in answers[3]] == ["a", "Bé ✓", "d"]  # the rolled-back video is gone
    assert answers[6:] == [RESUME[2], None]


@pytest.mark.parametrize("backend", ["mariadb", "sqlite"])
def test_the_sql_adapter_answers_as_the_fake(backend, tmp_path):
    videos = FakeVideos()
    videos.resumes[RESUME[:2]] = RESUME[2]
    expected = scenario(lambda: FakeUnitOfWork(videos))
    with fresh_engine(backend, "paysystem_video_ports_", tmp_path) as engine:
        viewer, video, resume = RESUME
        with engine.begin() as conn:
            conn.execute(
                sa.insert(resume_positions).values(
                    viewer_id=viewer,
                    video_id=video,
                    position_sec=resume.position_sec,
                    started_at_us=T0,
                    event_id="e-1",
                    updated_at_us=resume.updated_at_us,
                )
            )
        sql = scenario(lambda: sql_adapter.SqlUnitOfWork(engine))
    assert sql == expected
