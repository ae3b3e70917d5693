"""Benchmark of playback ingest into MariaDB through Envoy: JSON batches and gRPC streams.

    .venv/bin/python bench/bench_ingest.py [--events 200000 --clients 4 --stream-clients 2]

1. Creates a fresh MariaDB database (`paysystem_perf_*`, dropped at the end) with
   1,000 videos (2-60 min) and 2,000 viewer accounts, filled with SQL (setup, not measured).
2. Starts the whole mesh (tests/mesh.py: Envoy + 2 video instances + the rest) on ports
   23000-23029, and makes an INGEST service account.
3. JSON: `--clients` concurrent HTTP/1.1 keep-alive clients POST /v1/plays:batch with
   5,000-event bodies (built and serialized before the clock starts) until `--events`
   playbacks were sent; playbacks/s = events / wall time, every result checked STORED.
4. gRPC: `--stream-clients` concurrent ImportPlays client streams through the same Envoy
   port, `--events` playbacks in all, `--chunk` events per stream message (messages built
   before the clock starts).
5. A second JSON pass re-sending the first pass's batches: the all-duplicate path.

Before the mesh starts, the SQL of the write path alone, on one connection, into the empty
`plays` table (emptied before each pass), passes interleaved `--sql-rounds` times because the
machine's load drifts: the multi-row INSERT with every value a bound parameter, the same
INSERT as literal text (services/video/sql_literals.py, the fast path the service runs) and,
as the floor, LOAD DATA LOCAL INFILE of the same rows from a file written before the clock
starts. Client CPU per row is printed beside each: the driver's binding is Python work. Every figure is printed with its ratio
to the floor measured in the same run. `--sql-only` stops after that part.

Prints the machine (CPU model, cores, load average) and MariaDB's version next to the
figures, the load average before and after each pass, and the CPU spent per playback by
Envoy, the video instances, MariaDB (the whole server, and the threads of this database's
connections alone) and this client: the machine may be shared, and its load changes the
throughput a lot; CPU per playback moves much less.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

import grpc
import sqlalchemy as sa
from google.protobuf.timestamp_pb2 import Timestamp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from paysystem.v1 import video_pb2, video_pb2_grpc  # noqa: E402
from services.common import db  # noqa: E402
from services.common.settings import Settings  # noqa: E402
from services.video import repository  # noqa: E402
from tests.databases import fresh_database  # noqa: E402
from tests.mesh import Mesh  # noqa: E402

BATCH = 5_000
VIDEOS, VIEWERS = 1_000, 2_000
BASE_PORT = 23000  # the ingest performance range (23000-23999)
DAY0_US = 1_788_000_000_000_000  # 2026-08-29


def machine() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    load = os.getloadavg()
    return (
        f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
        f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )


def cpu_seconds(pid: int | None, thread: int | None = None) -> float:
    """User + system CPU seconds of a process (or one of its threads); 0 if it is gone."""
    if not pid:
        return 0.0
    path = f"/proc/{pid}/task/{thread}/stat" if thread else f"/proc/{pid}/stat"
    try:
        fields = Path(path).read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def mariadb_pid(engine: sa.Engine) -> int | None:
    """The pid of the MariaDB server the engine talks to (from its pid file), if readable here."""
    with engine.connect() as conn:
        pid_file = conn.execute(sa.text("SELECT @@pid_file")).scalar()
    try:
        return int(Path(pid_file).read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


class CpuMeter:
    """CPU seconds spent by Envoy, the video instances, MariaDB and this client during a pass.

    MariaDB is shared with whatever else runs on the machine: its figure is an upper bound.
    """

    def __init__(self, mesh: Mesh, engine: sa.Engine, database: str) -> None:
        self.pids = {
            "envoy": [mesh.pid("envoy")],
            "video": [p for p in mesh.pids("video").values() if p],
            "mariadb (all)": [mariadb_pid(engine)],
            "client": [os.getpid()],
        }
        self._engine = engine
        self._database = database
        self._first_seen: dict[int, float] = {}  # MariaDB thread -> its CPU seconds when first seen
        self._stop = threading.Event()
        self._poller = threading.Thread(target=self._poll, daemon=True)
        self._poller.start()

    def _poll(self) -> None:
        # Connections opened during a pass are seen within 0.2 s of their first use.
        while not self._stop.wait(0.2):
            for tid, cpu in self._connection_threads().items():
                self._first_seen.setdefault(tid, cpu)

    def close(self) -> None:
        self._stop.set()
        self._poller.join()

    def _connection_threads(self) -> dict[int, float]:
        """CPU seconds of the MariaDB threads serving this database's connections (ours alone)."""
        with self._engine.connect() as conn:
            tids = (
                conn.execute(
                    sa.text("SELECT tid FROM information_schema.processlist WHERE db = :db AND id <> CONNECTION_ID()"),
                    {"db": self._database},
                )
                .scalars()
                .all()
            )
        pid = self.pids["mariadb (all)"][0]
        return {int(t): cpu_seconds(pid, int(t)) for t in tids}

    def sample(self) -> dict[str, float]:
        out = {k: sum(cpu_seconds(p) for p in pids) for k, pids in self.pids.items()}
        threads = self._connection_threads()
        for tid, cpu in threads.items():
            self._first_seen.setdefault(tid, cpu)
        # CPU of the threads serving this database's connections since first seen (gone
        # connections drop out: a lower bound then).
        out["mariadb (our connections)"] = sum(cpu - self._first_seen[t] for t, cpu in threads.items())
        return out

    def report(self, before: dict[str, float], events: int) -> str:
        after = self.sample()
        parts = [f"{k} {(after[k] - before[k]) / events * 1e6:.1f}" for k in after]
        return "CPU µs per playback: " + ", ".join(parts)


def populate(url: str) -> str:
    engine = db.make_engine(Settings(db_url=url))
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO accounts (account_id, username, password_hash, role, created_at_us)"
            f" SELECT seq, CONCAT('bench-', seq), '!', IF(seq <= 10, 'SELLER', 'VIEWER'), 0 FROM seq_1_to_{VIEWERS}"
        )
        conn.exec_driver_sql(
            "INSERT INTO videos (video_id, seller_id, title, duration_sec, created_at_us)"
            f" SELECT seq, 1 + seq MOD 10, CONCAT('video ', seq), 120 + (seq * 7919) MOD 3480, 0 FROM seq_1_to_{VIDEOS}"
        )
        version = conn.exec_driver_sql("SELECT VERSION()").scalar()
    engine.dispose()
    return version


def events(rng: random.Random, prefix: str, count: int, first_us: int = DAY0_US, days: int = 30) -> list[tuple]:
    """`count` playbacks started over `days` days from `first_us`."""
    out = []
    for i in range(count):
        video = min(VIDEOS, int(rng.paretovariate(0.8)))
        start = rng.randrange(0, 120 + (video * 7919) % 3480)  # within the video (see populate)
        out.append(
            (
                f"{prefix}-{i}",
                video,
                rng.randint(11, VIEWERS),
                first_us + rng.randrange(86_400 * days) * 1_000_000 + rng.randrange(1_000_000),
                start,
                start + rng.randrange(0, 1_800),
            )
        )
    return out


# --- the SQL of the write path, against its floor -----------------------------------------


def play_rows(evs: list[tuple]) -> list[tuple]:
    """Events as the repository's rows (local_day: any valid day; the SQL cost is the same)."""
    return [(e[0], e[1], e[2], e[3], "2026-09-01", e[4], e[5]) for e in evs]


def write_load_files(rows: list[tuple], received_at_us: int, tmp: Path) -> tuple[Path, Path]:
    """The rows as LOAD DATA files for `plays` and `play_event_ids`: ingest writes each play's
    event id into play_event_ids too (migration 0014), so the floor loads both tables."""
    path, ids_path = tmp / "plays.tsv", tmp / "play_event_ids.tsv"
    with path.open("w") as f:
        for r in rows:
            f.write("\t".join(str(v) for v in (*r, received_at_us)) + "\n")  # event ids hold no tab or newline
    with ids_path.open("w") as f:
        for r in rows:
            f.write(f"{r[0]}\t{r[4]}\n")
    return path, ids_path


def load_files(conn, path: Path, ids_path: Path) -> tuple[int, int]:
    """LOAD DATA LOCAL INFILE of write_load_files' two files: the rows loaded into each table."""
    cursor = conn.connection.dbapi_connection.cursor()
    loaded = cursor.execute(
        f"LOAD DATA LOCAL INFILE '{path}' IGNORE INTO TABLE plays FIELDS TERMINATED BY '\\t'"
        f" ({', '.join(repository.PLAY_COLUMNS)})"
    )
    loaded_ids = cursor.execute(
        f"LOAD DATA LOCAL INFILE '{ids_path}' IGNORE INTO TABLE play_event_ids FIELDS TERMINATED BY '\\t'"
        " (event_id, local_day)"
    )
    cursor.close()
    return loaded, loaded_ids


def sql_paths(url: str, rows: list[tuple], rounds: int, tmp: Path) -> dict[str, float]:
    """Best rows/s of each path over `rounds` interleaved passes; prints each pass."""
    # LOAD DATA LOCAL needs the client's permission: only this benchmark's engine asks for it.
    engine = db.make_engine(Settings(db_url=url), connect_args={"local_infile": True, "connect_timeout": 5})
    received = 1_790_000_000_000_000
    files = write_load_files(rows, received, tmp)
    batches = [rows[i : i + BATCH] for i in range(0, len(rows), BATCH)]

    def bound(conn) -> None:
        for b in batches:
            assert repository.insert_plays(conn, b, received, bound=True) == {r[0] for r in b}

    def literal(conn) -> None:
        for b in batches:
            assert repository.insert_plays(conn, b, received) == {r[0] for r in b}

    def load_data(conn) -> None:
        assert load_files(conn, *files) == (len(rows), len(rows))

    paths = {
        "bound parameters": bound,
        "literal text (the service's fast path)": literal,
        "LOAD DATA LOCAL INFILE (floor)": load_data,
    }
    best: dict[str, float] = {}
    for n in range(rounds):
        for label, run in paths.items():
            with engine.begin() as conn:
                conn.exec_driver_sql("TRUNCATE TABLE plays")
                conn.exec_driver_sql("TRUNCATE TABLE play_event_ids")
            cpu, started = time.process_time(), time.perf_counter()
            with engine.begin() as conn:
                run(conn)
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
            best[label] = max(best.get(label, 0.0), len(rows) / elapsed)
            print(
                f"  round {n + 1}: {label}: {len(rows) / elapsed:,.0f} rows/s, "
                f"client CPU {cpu / len(rows) * 1e6:.2f} µs/row (load average {os.getloadavg()[0]:.2f})"
            )
    with engine.begin() as conn:
        conn.exec_driver_sql("TRUNCATE TABLE plays")
        conn.exec_driver_sql("TRUNCATE TABLE play_event_ids")
    engine.dispose()
    floor = best["LOAD DATA LOCAL INFILE (floor)"]
    for label, rate in best.items():
        print(f"SQL {label}: best {rate:,.0f} rows/s, ratio to floor {rate / floor:.2f}")
    return best


def json_bodies(evs: list[tuple], size: int = BATCH) -> list[bytes]:
    bodies = []
    for b in range(0, len(evs), size):
        batch = []
        for event_id, video, viewer, at_us, start, end in evs[b : b + size]:
            seconds, micros = divmod(at_us, 1_000_000)
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{micros:06d}Z"
            batch.append(
                {
                    "event_id": event_id,
                    "video_id": str(video),
                    "viewer_id": str(viewer),
                    "started_at": stamp,
                    "start_position_sec": str(start),
                    "end_position_sec": str(end),
                }
            )
        bodies.append(json.dumps({"events": batch}).encode())
    return bodies


def run_json(mesh: Mesh, token: str, bodies: list[bytes], clients: int, expect: str) -> tuple[float, int]:
    queue = list(reversed(bodies))
    lock = threading.Lock()
    counted = [0]
    errors: list[str] = []

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", mesh.settings.http_port, timeout=120)
        headers = {"content-type": "application/json", "authorization": f"Bearer {token}"}
        while True:
            with lock:
                if not queue:
                    break
                body = queue.pop()
            conn.request("POST", "/v1/plays:batch", body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            if response.status != 200:
                errors.append(f"{response.status} {data[:200]!r}")
                continue
            answer = json.loads(data)
            good = int(answer["stored"] if expect == "STORED" else answer["duplicates"])
            if good != len(answer["results"]):
                errors.append(f"expected all {expect}: {answer['stored']}/{answer['duplicates']}/{answer['rejected']}")
            with lock:
                counted[0] += good
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise SystemExit(f"JSON pass failed: {errors[:3]}")
    return elapsed, counted[0]


def grpc_streams(evs: list[tuple], clients: int, chunk: int) -> list[list[video_pb2.ImportPlaysChunk]]:
    """The events dealt round-robin to `clients` streams, each a list of chunk messages."""
    messages = []
    for event_id, video, viewer, at_us, start, end in evs:
        ts = Timestamp()
        ts.FromMicroseconds(at_us)
        messages.append(
            video_pb2.PlayEvent(
                event_id=event_id,
                video_id=video,
                viewer_id=viewer,
                started_at=ts,
                start_position_sec=start,
                end_position_sec=end,
            )
        )
    events_of = [messages[i::clients] for i in range(clients)]
    shares = [
        [video_pb2.ImportPlaysChunk(events=share[c : c + chunk]) for c in range(0, len(share), chunk)]
        for share in events_of
    ]
    return shares


def run_grpc(mesh: Mesh, token: str, shares: list[list[video_pb2.ImportPlaysChunk]]) -> tuple[float, int]:
    clients = len(shares)
    stored = [0] * clients
    errors: list[str] = []

    def client(i: int) -> None:
        with grpc.insecure_channel(f"127.0.0.1:{mesh.settings.http_port}") as channel:
            stub = video_pb2_grpc.VideoServiceStub(channel)
            try:
                response = stub.ImportPlays(
                    iter(shares[i]), metadata=[("authorization", f"Bearer {token}")], timeout=600
                )
            except grpc.RpcError as exc:
                errors.append(f"stream {i}: {exc.code()} {exc.details()}")
                return
            sent = sum(len(c.events) for c in shares[i])
            if response.stored != sent:
                errors.append(f"stream {i}: stored {response.stored} of {sent}")
            stored[i] = response.stored

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise SystemExit(f"gRPC pass failed: {errors}")
    return time.perf_counter() - started, sum(stored)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=200_000, help="playbacks per pass")
    parser.add_argument("--clients", type=int, default=4, help="concurrent JSON clients")
    parser.add_argument("--stream-clients", type=int, default=2, help="concurrent ImportPlays streams")
    parser.add_argument("--chunk", type=int, default=BATCH, help="events per ImportPlays stream message")
    parser.add_argument("--sql-rows", type=int, default=100_000, help="rows per pass of the SQL comparison")
    parser.add_argument("--sql-rounds", type=int, default=3, help="interleaved passes of each SQL path")
    parser.add_argument("--sql-only", action="store_true", help="stop after the SQL comparison")
    parser.add_argument(
        "--redis-url",
        default="",
        help="give the mesh Redis (e.g. redis://127.0.0.1:6379/15): the realtime estimate is then counted at"
        " ingest (services/video/realtime.py); without it, the estimate is read from the plays table",
    )
    parser.add_argument("--recent", action="store_true", help="playbacks of the last 47 hours (default: Aug-Sep 2026)")
    args = parser.parse_args()

    rng = random.Random(42)
    # --recent: the last 47 hours, inside the realtime estimate's window, so each stored
    # playback is also counted (with --redis-url: the counting at ingest is measured too).
    span = (int(time.time() - 47 * 3600) * 1_000_000, 1) if args.recent else (DAY0_US, 30)
    json_events = events(rng, "json", args.events, *span)
    grpc_events = events(rng, "grpc", args.events, *span)
    bodies = json_bodies(json_events)
    streams = grpc_streams(grpc_events, args.stream_clients, args.chunk)
    with (
        tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp,
        fresh_database("mariadb", "paysystem_perf_", Path(tmp)) as url,
    ):
        version = populate(url)
        print(f"machine: {machine()}")
        print(
            f"database: MariaDB {version}; SQL of the write path, {args.sql_rows} rows per pass, {BATCH} per statement"
        )
        floor = sql_paths(url, play_rows(events(random.Random(7), "sql", args.sql_rows)), args.sql_rounds, Path(tmp))[
            "LOAD DATA LOCAL INFILE (floor)"
        ]
        if args.sql_only:
            return
        mesh = Mesh(
            Path(tmp) / "mesh",
            http_port=BASE_PORT,
            admin_port=BASE_PORT + 1,
            service_base_port=BASE_PORT + 10,
            db_url=url,
            redis_url=args.redis_url,
        )
        with mesh:
            _, token = mesh.create_account_directly("INGEST")
            print(f"database: MariaDB {version}; mesh: Envoy + {len(mesh.instances('video'))} video instances")
            print(
                f"data: {VIDEOS} videos, {VIEWERS - 10} viewers; {args.events} playbacks per pass, "
                f"{len(bodies)} JSON bodies of {BATCH} events (avg {sum(map(len, bodies)) // len(bodies) // 1024} KiB)"
            )
            # Warm-up, not measured: every client's connection through Envoy to an instance,
            # the instances' database connections and caches.
            warm = json_bodies(events(rng, "warm", args.clients * 4 * 200), size=200)
            run_json(mesh, token, warm, args.clients, "STORED")
            stats_engine = db.make_engine(Settings(db_url=url))
            meter = CpuMeter(mesh, stats_engine, sa.make_url(url).database)

            def measured(label: str, run) -> None:
                before, load = meter.sample(), os.getloadavg()[0]
                elapsed, n = run()
                print(
                    f"{label}: {n} in {elapsed:.2f} s = {n / elapsed:,.0f} playbacks/s, "
                    f"ratio to the LOAD DATA floor {n / elapsed / floor:.2f} "
                    f"(load average {load:.2f} -> {os.getloadavg()[0]:.2f})"
                )
                print(f"    {meter.report(before, n)}")

            measured(
                f"JSON POST /v1/plays:batch, {args.clients} clients, stored",
                lambda: run_json(mesh, token, bodies, args.clients, "STORED"),
            )
            measured(
                f"gRPC ImportPlays, {args.stream_clients} streams of {args.chunk}-event chunks, stored",
                lambda: run_grpc(mesh, token, streams),
            )
            measured(
                f"JSON resend, {args.clients} clients, all duplicates",
                lambda: run_json(mesh, token, bodies, args.clients, "DUPLICATE"),
            )
            with stats_engine.connect() as conn:
                rows = conn.execute(sa.text("SELECT COUNT(*) FROM plays")).scalar()
                resumes = conn.execute(sa.text("SELECT COUNT(*) FROM resume_positions")).scalar()
            meter.close()
            stats_engine.dispose()
            print(
                f"after: {rows} rows in plays (with {len(warm) * 200} of the warm-up), {resumes} resume positions; "
                f"load average now {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
            )


if __name__ == "__main__":
    main()
