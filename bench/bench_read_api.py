"""Benchmark of the read API through Envoy (JSON): top-5 lists and statements.

    .venv/bin/python bench/bench_read_api.py [--videos 5000 --days 100 --duration 10]

1. Creates a fresh MariaDB database (`paysystem_stats_bench_*`, dropped at the end) and fills
   it with SQL only (MariaDB's sequence engine): `videos` x `days` daily rows (default
   5,000 x 100 = 500,000), their weekly and monthly sums, and the computed days. Seller 1 owns
   1,000 videos; the others own 10 each.
2. Starts the whole mesh (tests/mesh.py: Envoy + 2 statistics + 2 settlement instances + the
   rest) on that database with Redis (127.0.0.1:6379 DB 3).
3. Cold statements: seller 1's monthly statement (1,000 lines), each the first read after a
   new data version (what a batch re-run does: nothing cached in an instance or in Redis is
   read again): p50 / p90 / max.
4. Throughput: `wrk` (Debian package) against top-5 requests, then statement requests, of
   the small sellers (rotating over many sellers and periods; cache warm), for `--duration`
   seconds each, at each of `--connections` (10 and 16 by default: wrk keeps that many
   requests in flight, so the mean latency is connections / rate, and p99 grows with it):
   requests/s and latency percentiles. Before them, at each connection count, the floor:
   `GET /v1/statistics:ping` (StatisticsService.Ping, a trivial Python call: the same Envoy,
   transcoder, token and account check and interceptors as a read, no database, no cache),
   then `GET /v1/videos/{id}` (one primary-key read, no cache: the floor before Ping
   existed, kept to compare with older runs); each figure is printed with its ratio to the
   Ping floor, which moves with the machine's load as the figures do. The floor runs again
   after the figures, and the ratios to the mean of both runs are printed last (on a shared
   machine the load can change within the minute the figures take).
5. Closed months: closes 2026-01..03 through the API (issue 15: statements of closed months
   must read as fast as open ones) and runs the same statement requests again; prints the
   closed / open ratio.

6. The replication delay: a daily job through the API (`POST /v1/batch/jobs`, a re-run of a
   day) and its JOB_FINISHED message, which says, per replica, how long after the job's last
   write the replica had applied it (docs/scaling.md "Freshness"), and the job's duration.

At scale (docs/scaling.md "Measured"): `--replica` puts the data on a private MariaDB primary
with binary logging and a second mariadbd replicating from it (tests/plugins/replicas.py)
instead of a database on the shared server, and points the read services at the replica
(PAYSYSTEM_DB_READ_URLS); `--redis-cluster` starts a six-node Redis Cluster
(tests/redis_cluster.py) and gives the mesh its `redis+cluster://` URL instead of Redis DB 3.

    .venv/bin/python bench/bench_read_api.py --replica --redis-cluster

Prints the machine (CPU model, cores, load average) next to the figures: the machine may be
shared, and its load changes the figures a lot.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from batch.data_state import announce_reader_max_age, publication_delay_sec
from services.common import db  # noqa: E402
from services.common.settings import Settings  # noqa: E402
from services.readpath.cache import invalidate_after_batch  # noqa: E402
from tests.databases import fresh_database  # noqa: E402
from tests.mesh import Mesh  # noqa: E402
from tests.plugins.replicas import replication  # noqa: E402
from tests.plugins.scaled_mesh import scale_env  # noqa: E402
from tests.redis_cluster import RedisClusterProcesses  # noqa: E402

REDIS_URL = "redis://127.0.0.1:6379/3"
BIG_SELLER, BIG_VIDEOS, SMALL_VIDEOS = 1, 1000, 10
FIRST_DAY = "2026-01-05"  # a Monday
CLOSED_MONTHS = ["2026-01", "2026-02", "2026-03"]  # the statements' months, closed for the last run


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"


def _sql(conn, statement: str):
    # pymysql formats with %: double the SQL's own % signs (modulo, DATE_FORMAT).
    return conn.exec_driver_sql(statement.replace("%", "%%"))


def populate(url: str, videos: int, days: int) -> dict[str, int]:
    engine = db.make_engine(Settings(db_url=url))
    big_last = BIG_VIDEOS
    with engine.begin() as conn:
        _sql(conn, "SET SESSION tmp_table_size = 268435456, max_heap_table_size = 268435456")
        _sql(
            conn,
            f"INSERT INTO videos (video_id, seller_id, title, duration_sec, created_at_us)"
            f" SELECT seq, IF(seq <= {big_last}, {BIG_SELLER}, 2 + (seq - {big_last} - 1) DIV {SMALL_VIDEOS}),"
            f" CONCAT('video ', seq), 600 + seq % 3000, 0 FROM seq_1_to_{videos}",
        )
        # The services honour a token only for an account that exists (account_status.py).
        _sql(
            conn,
            "INSERT INTO accounts (account_id, username, password_hash, role, created_at_us)"
            " SELECT DISTINCT seller_id, CONCAT('bench-seller-', seller_id), '!', 'SELLER', 0 FROM videos",
        )
        # Deterministic pseudo-random figures; revenue is 1.1 KRW a view, 12 KRW an ad view,
        # plus a fraction so exact decimals matter.
        _sql(
            conn,
            f"INSERT INTO daily_video_stats (video_id, day, seller_id, views, watch_time_sec, ad_views,"
            f" cum_views, cum_ad_views, video_revenue, ad_revenue)"
            f" SELECT v.video_id, DATE_ADD('{FIRST_DAY}', INTERVAL d.seq DAY), v.seller_id,"
            f" (v.video_id * 7 + d.seq * 13) % 500, (v.video_id * 11 + d.seq * 3) % 50000,"
            f" (v.video_id + d.seq) % 40, 0, 0,"
            f" ((v.video_id * 7 + d.seq * 13) % 500) * 1.1 + 0.0001 * (v.video_id % 7),"
            f" ((v.video_id + d.seq) % 40) * 12"
            f" FROM videos v JOIN seq_0_to_{days - 1} d",
        )
        for period, start in (
            ("WEEKLY", "DATE_SUB(day, INTERVAL WEEKDAY(day) DAY)"),
            ("MONTHLY", "DATE_FORMAT(day, '%Y-%m-01')"),
        ):
            _sql(
                conn,
                f"INSERT INTO period_video_stats (period, period_start, video_id, seller_id, views,"
                f" watch_time_sec, ad_views, video_revenue, ad_revenue)"
                f" SELECT '{period}', {start}, video_id, MIN(seller_id), SUM(views), SUM(watch_time_sec),"
                f" SUM(ad_views), SUM(video_revenue), SUM(ad_revenue)"
                f" FROM daily_video_stats GROUP BY {start}, video_id",
            )
        _sql(
            conn,
            # plays_read 0: the days are computed and current (no plays), so months can close.
            f"INSERT INTO computed_days (day, play_id_watermark, plays_read, computed_at_us)"
            f" SELECT DATE_ADD('{FIRST_DAY}', INTERVAL seq DAY), 0, 0, {int(time.time() * 1e6)} + seq"
            f" FROM seq_0_to_{days - 1}",
        )
        # As the batch publishes with its days: how long read services may trust a version.
        announce_reader_max_age(conn, Settings().data_version_max_age_ms, int(time.time() * 1e6))
        counts = {
            table: _sql(conn, f"SELECT COUNT(*) FROM {table}").scalar_one()
            for table in ("videos", "daily_video_stats", "period_video_stats", "computed_days")
        }
        _sql(conn, "ANALYZE TABLE daily_video_stats, period_video_stats, videos")
    engine.dispose()
    return counts


def get(port: int, path: str, token: str) -> tuple[int, bytes, float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    started = time.perf_counter()
    conn.request("GET", path, headers={"authorization": f"Bearer {token}"})
    response = conn.getresponse()
    body = response.read()
    elapsed = time.perf_counter() - started
    conn.close()
    return response.status, body, elapsed


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def publish_again(url: str) -> None:
    """What a batch re-run of one day does to the read side: a new data version (nothing the
    instances or Redis cached is read again), then the batch's wait until every instance uses it."""
    engine = db.make_engine(Settings(db_url=url))
    with engine.begin() as conn:
        conn.exec_driver_sql(f"UPDATE computed_days SET computed_at_us = computed_at_us + 1 WHERE day = '{FIRST_DAY}'")
    engine.dispose()
    time.sleep(publication_delay_sec(Settings().data_version_max_age_ms))


def cold_statements(mesh: Mesh, url: str, samples: int) -> dict:
    token = mesh.token(BIG_SELLER, "SELLER")
    port = mesh.settings.http_port
    path = f"/v1/sellers/{BIG_SELLER}/settlements?period=MONTHLY&date=2026-02-10"
    status, body, _ = get(port, path, token)
    assert status == 200, body[:300]
    lines = len(json.loads(body)["lines"])
    cold, warm = [], []
    for _ in range(samples):
        publish_again(url)
        status, _, elapsed = get(port, path, token)
        assert status == 200
        cold.append(elapsed * 1000)
        status, _, elapsed = get(port, path, token)
        warm.append(elapsed * 1000)
    return {
        "lines": lines,
        "bytes": len(body),
        "cold_p50_ms": statistics.median(cold),
        "cold_p90_ms": pct(cold, 0.9),
        "cold_max_ms": max(cold),
        "warm_p50_ms": statistics.median(warm),
    }


WRK_SCRIPT = """
local reqs = {%s}
local counter = 0
request = function()
  counter = counter %% #reqs + 1
  local r = reqs[counter]
  return wrk.format("GET", r[1], {["Authorization"] = "Bearer " .. r[2]})
end
"""


def cpu_seconds(pid: int | None) -> float:
    """utime + stime of a process, in seconds (0 when it is gone)."""
    if not pid:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_groups(mesh: Mesh, service: str) -> dict[str, list[int]]:
    return {"envoy": [mesh.pid("envoy")], service: [p for p in mesh.pids(service).values() if p]}


def wrk_run(
    mesh: Mesh, requests: list[tuple[str, str]], duration: int, connections: int, threads: int, service: str
) -> dict:
    return wrk_against(mesh.settings.http_port, requests, duration, connections, threads, process_groups(mesh, service))


def wrk_against(
    port: int,
    requests: list[tuple[str, str]],
    duration: int,
    connections: int,
    threads: int,
    groups: dict[str, list[int]],
) -> dict:
    """wrk GETs of `requests` (path, token), rotating, on 127.0.0.1:`port`: rate, latency, and
    the CPU per request of each group of processes (and of wrk itself)."""
    for path, token in requests:  # warm the cache and check every request answers 200
        status, body, _ = get(port, path, token)
        assert status == 200, (path, body[:300])
    entries = ",".join(f'{{"{p}","{t}"}}' for p, t in requests)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT % entries)
    cpu_before = {g: sum(cpu_seconds(p) for p in pids) for g, pids in groups.items()}
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        out = subprocess.run(
            [
                "wrk",
                f"-t{threads}",
                f"-c{connections}",
                f"-d{duration}s",
                "--latency",
                "-s",
                script.name,
                f"http://127.0.0.1:{port}",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(script.name)
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = {g: sum(cpu_seconds(p) for p in pids) - cpu_before[g] for g, pids in groups.items()}
    cpu["wrk"] = (children_after.ru_utime + children_after.ru_stime) - (
        children_before.ru_utime + children_before.ru_stime
    )
    total_requests = int(re.search(r"(\d+) requests in", out).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    latency = dict(re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+\w+)", out, re.M))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return {
        "requests_per_sec": rps,
        "cpu_us_per_request": {g: 1e6 * c / max(1, total_requests) for g, c in cpu.items()},
        "latency": latency,
        "non_2xx": int(errors.group(1)) if errors else 0,
        "socket_errors": socket_errors.group(1) if socket_errors else "none",
    }


@contextlib.contextmanager
def storage(tmp: Path, *, replica: bool, redis_cluster: bool):
    """(primary URL, Redis URL, extra mesh settings, the replication pair or None)."""
    with contextlib.ExitStack() as stack:
        redis_url = REDIS_URL
        if redis_cluster:
            cluster = RedisClusterProcesses(tmp / "cluster")
            stack.callback(cluster.stop)
            cluster.start()
            redis_url = cluster.url
        if replica:
            pair = stack.enter_context(replication(tmp / "replication"))
            yield pair.primary_url, redis_url, scale_env(pair), pair
        else:
            yield stack.enter_context(fresh_database("mariadb", "paysystem_stats_bench_", tmp)), redis_url, {}, None


def replication_delay(mesh: Mesh, day: str) -> str:
    """A re-run of one day through the API: the JOB_FINISHED message and the job's duration."""
    _, admin = mesh.create_admin()
    started = time.perf_counter()
    status, events = mesh.run_job({"job": "daily", "date": day, "rerun": True}, admin)
    elapsed = time.perf_counter() - started
    assert status == 200 and events[-1]["type"] == "JOB_FINISHED", events
    return f"{events[-1]['message']} (the job took {elapsed:.2f} s through Envoy)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--videos", type=int, default=5000)
    parser.add_argument("--days", type=int, default=100)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument(
        "--connections", default="10,16", help="wrk connection counts to run, comma-separated (each a separate run)"
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--cold-samples", type=int, default=30)
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="PAYSYSTEM_X=value",
        help="a setting for the mesh's processes (repeatable), e.g. PAYSYSTEM_GRPC_WORKERS=4",
    )
    parser.add_argument("--replica", action="store_true", help="reads from a MariaDB replica of a private primary")
    parser.add_argument("--redis-cluster", action="store_true", help="the cache on a six-node Redis Cluster")
    args = parser.parse_args()
    env = dict(item.split("=", 1) for item in args.env)
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install -y wrk")

    print(f"machine: {machine()}")
    print(
        f"storage: {'a MariaDB replica of a private primary' if args.replica else 'one MariaDB'},"
        f" {'a six-node Redis Cluster' if args.redis_cluster else 'one Redis node'}"
    )
    with (
        tempfile.TemporaryDirectory(prefix="bench-read-") as tmp,
        storage(Path(tmp), replica=args.replica, redis_cluster=args.redis_cluster) as (url, redis_url, scale, pair),
    ):
        started = time.perf_counter()
        counts = populate(url, args.videos, args.days)
        if pair is not None:
            pair.wait_caught_up(300)
        print(f"data: {counts} (filled in {time.perf_counter() - started:.1f} s)")
        invalidate_after_batch(redis_url)
        env = {**scale, **env}
        with Mesh.on_free_ports(Path(tmp) / "mesh", db_url=url, redis_url=redis_url, env=env) as mesh:
            counts_by_service = {s: len(mesh.instances(s)) for s in ("statistics", "settlement")}
            print(
                f"mesh: Envoy on :{mesh.settings.http_port}, instances {counts_by_service}, settings {env or 'default'}"
            )

            cold = cold_statements(mesh, url, args.cold_samples)
            print(
                f"cold statement (seller with {cold['lines']} video lines, monthly, {cold['bytes']} bytes JSON,"
                f" first read after a new data version): p50 {cold['cold_p50_ms']:.1f} ms, p90 {cold['cold_p90_ms']:.1f} ms,"
                f" max {cold['cold_max_ms']:.1f} ms; same request warm: p50 {cold['warm_p50_ms']:.1f} ms"
            )

            small_sellers = range(2, 2 + min(200, (args.videos - BIG_VIDEOS) // SMALL_VIDEOS))
            dates = ["2026-02-10", "2026-03-03", "2026-03-20"]
            tokens = {s: mesh.token(s, "SELLER", ttl_sec=3600) for s in small_sellers}
            top5 = [
                (f"/v1/sellers/{s}/top-videos?period={p}&date={d}&metric={m}", tokens[s])
                for s in small_sellers
                for p, d, m in (
                    ("WEEKLY", dates[s % 3], "VIEWS"),
                    ("MONTHLY", dates[s % 3], "WATCH_TIME"),
                    ("DAILY", dates[s % 3], "VIEWS"),
                )
            ]
            statements = [
                (f"/v1/sellers/{s}/settlements?period={p}&date={dates[s % 3]}", tokens[s])
                for s in small_sellers
                for p in ("DAILY", "WEEKLY", "MONTHLY")
            ]
            floor_requests = [("/v1/statistics:ping", tokens[s]) for s in small_sellers]
            get_video = [(f"/v1/videos/{v}", tokens[2]) for v in range(BIG_VIDEOS + 1, BIG_VIDEOS + 601)]
            runs = [
                (name, requests, service, int(c))
                for c in args.connections.split(",")
                for name, requests, service in (
                    ("floor: ping", floor_requests, "statistics"),
                    ("get video (one primary-key read)", get_video, "video"),
                    ("top-5", top5, "statistics"),
                    ("statement", statements, "settlement"),
                    ("floor again: ping", floor_requests, "statistics"),
                )
            ]
            floors: dict[int, float] = {}
            rates: dict[tuple[str, int], float] = {}
            for name, requests, service, connections in runs:
                result = wrk_run(mesh, requests, args.duration, connections, args.threads, service)
                lat = result["latency"]
                rps = result["requests_per_sec"]
                floors.setdefault(connections, rps)
                rates[(name, connections)] = rps
                print(
                    f"wrk {name}: {rps:.0f} req/s (ratio to floor {rps / floors[connections]:.2f})"
                    f" over {len(requests)} distinct requests,"
                    f" {connections} connections, {args.duration} s; latency p50 {lat.get('50')}"
                    f" p90 {lat.get('90')} p99 {lat.get('99')}; non-2xx {result['non_2xx']},"
                    f" socket errors {result['socket_errors']}"
                )
                per = result["cpu_us_per_request"]
                total = sum(per.values())
                print(
                    "  CPU per request: "
                    + ", ".join(f"{g} {us:.0f} us" for g, us in per.items())
                    + f"; total {total:.0f} us -> at most {2e6 / total:.0f} req/s if this run had both cores to itself"
                )
            # The same statements once their months are closed (docs/ledger.md): closed days read
            # the frozen lines, and the close changed the data version, so the caches refill.
            _, admin = mesh.create_admin()
            for month in CLOSED_MONTHS:
                started = time.perf_counter()
                status, body = mesh.json("POST", "/v1/settlement/closings", {"month": month}, token=admin)
                assert status == 200, body
                print(f"closed {month}: {body['lines']} lines in {time.perf_counter() - started:.1f} s (through Envoy)")
            for connections in floors:
                result = wrk_run(mesh, statements, args.duration, connections, args.threads, "settlement")
                lat = result["latency"]
                rps = result["requests_per_sec"]
                rates[("statement, closed months", connections)] = rps
                print(
                    f"wrk statement, closed months: {rps:.0f} req/s (open months {rates[('statement', connections)]:.0f};"
                    f" closed / open {rps / rates[('statement', connections)]:.2f}), {connections} connections;"
                    f" latency p50 {lat.get('50')} p90 {lat.get('90')} p99 {lat.get('99')}; non-2xx {result['non_2xx']}"
                )
            for connections in floors:
                # The machine's load may change between the two floor runs: the figures between
                # them are compared with their mean as well.
                mean = (rates[("floor: ping", connections)] + rates[("floor again: ping", connections)]) / 2
                print(
                    f"{connections} connections, ratios to the mean of the floor before and after ({mean:.0f} req/s): "
                    + ", ".join(
                        f"{name} {rates[(name, connections)] / mean:.2f}"
                        for name in ("get video (one primary-key read)", "top-5", "statement")
                    )
                )
            print(f"replication delay, a daily job's last write to JOB_FINISHED: {replication_delay(mesh, FIRST_DAY)}")
            print(f"machine after: {machine()}")
        invalidate_after_batch(redis_url)


if __name__ == "__main__":
    main()
