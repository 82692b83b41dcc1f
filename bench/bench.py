#!/usr/bin/env python3
"""Measures the release binary on this machine and prints one table (bench/README.md explains it).

Everything runs on 127.0.0.1: the server, its seeded database in a temporary folder, wrk (the
load generator, a separate process) and the hello-world ceiling. Each figure is the median of
`--runs` runs. Standard library only (and `psql` for `--postgres`).

With `--postgres` (run under `.ci/with-postgres`, which `bench/run --postgres` does) every
database is a fresh PostgreSQL database on TEST_POSTGRES_URL, and `--nodes N` starts N servers on
it: the load is split evenly over them, one wrk process per node, run at the same time.
"""

import argparse
import asyncio
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time


HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DEMO_PASSWORD = "ticketing-demo"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port, path, headers=None, timeout=10):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    conn.request("GET", path, headers=headers or {})
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, dict(response.getheaders()), body


def post_json(port, path, payload, cookie=None, timeout=30):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {"Content-Type": "application/json"}
    if cookie:
        headers["Cookie"] = cookie
    conn.request("POST", path, body=json.dumps(payload), headers=headers)
    response = conn.getresponse()
    body = response.read()
    set_cookie = response.getheader("Set-Cookie") or ""
    conn.close()
    return response.status, body, set_cookie.split(";")[0]


class Sqlite:
    """The embedded default: one database file in the run's folder."""

    name = "SQLite"

    def memory_mb(self):
        return None  # in the server's own memory

    def create(self, folder):
        return f"sqlite://{folder}/bench.db"

    def rows(self, url, sql):
        path = url.removeprefix("sqlite://")
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return db.execute(sql).fetchall()
        finally:
            db.close()


class Postgres:
    """A fresh database per use on the cluster at TEST_POSTGRES_URL, read back with psql."""

    name = "PostgreSQL"

    def __init__(self, server_url):
        self.server_url = server_url.rstrip("/")
        self.count = 0

    def psql(self, database, sql):
        out = subprocess.run(
            ["psql", "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", f"{self.server_url}/{database}", "-c", sql],
            capture_output=True,
            text=True,
        )
        if out.returncode != 0:
            raise RuntimeError(f"psql failed: {out.stderr}")
        return out.stdout

    def memory_mb(self):
        """Proportional set size of the postmaster and its children (shared buffers counted once)."""
        data = os.environ.get("TEST_POSTGRES_DATA")
        if not data:
            return None
        with open(os.path.join(data, "postmaster.pid")) as pidfile:
            postmaster = int(pidfile.readline())
        pids = [postmaster]
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as stat:
                        if int(stat.read().rsplit(")", 1)[1].split()[1]) == postmaster:
                            pids.append(int(entry))
                except (OSError, ValueError, IndexError):
                    pass
        total_kb = 0
        for pid in pids:
            try:
                with open(f"/proc/{pid}/smaps_rollup") as rollup:
                    for line in rollup:
                        if line.startswith("Pss:"):
                            total_kb += int(line.split()[1])
            except OSError:
                pass
        return total_kb / 1024

    def create(self, folder):
        self.count += 1
        name = f"bench_{os.getpid()}_{self.count}"
        self.psql("postgres", f"CREATE DATABASE {name}")
        return f"{self.server_url}/{name}"

    def rows(self, url, sql):
        text = self.psql(url.rsplit("/", 1)[1], sql)
        return [tuple(line.split("\t")) for line in text.splitlines() if line]


class Server:
    """The release binary on a fresh port, in a folder of its own, on the given database."""

    def __init__(self, binary, folder, database_url, extra_env=None):
        self.port = free_port()
        env = {
            "PATH": os.environ.get("PATH", ""),
            "DATABASE_URL": database_url,
            "LEPTOS_SITE_ADDR": f"127.0.0.1:{self.port}",
            "AUTH_RATE_LIMIT": "0",
            # Load tests reserve many tickets per account in seconds: the hoarding limits
            # (4 live reservations, 30 a minute per account) would refuse them.
            "MAX_LIVE_ORDERS": "0",
            "ORDER_RATE_LIMIT": "0",
            "RUST_LOG": "warn",
        }
        env.update(extra_env or {})
        self.log = open(os.path.join(folder, "server.log"), "w")
        self.started = time.perf_counter()
        self.process = subprocess.Popen([binary], cwd=folder, env=env, stdout=self.log, stderr=self.log)

    def wait_healthy(self, limit=30.0):
        deadline = time.perf_counter() + limit
        while time.perf_counter() < deadline:
            try:
                status, _, _ = get(self.port, "/healthz", timeout=1)
                if status == 200:
                    return time.perf_counter() - self.started
            except OSError:
                pass
            if self.process.poll() is not None:
                raise RuntimeError("the server exited before becoming healthy")
            time.sleep(0.002)
        raise RuntimeError("the server did not become healthy")

    def rss_mb(self, field="VmRSS"):
        """Resident memory in MB; `field` RssAnon (heap, stacks, relocated data) or RssFile (code
        and data mapped from the binary and its libraries) gives one part of it."""
        with open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
        return float("nan")

    def owned_mb(self):
        """What the process itself owns, in MB, from /proc/PID/smaps_rollup: `Anonymous` (pages
        that belong to no file: heap, stacks, pages copied on write) and `Private_Dirty` (pages
        written by this process alone, anonymous or not). Code and data mapped from files, which
        the kernel can drop and read again, count in neither."""
        fields = {}
        with open(f"/proc/{self.process.pid}/smaps_rollup") as rollup:
            for line in rollup:
                name, _, rest = line.partition(":")
                if name in ("Anonymous", "Private_Dirty"):
                    fields[name] = int(rest.split()[0]) / 1024
        return fields.get("Anonymous", float("nan")), fields.get("Private_Dirty", float("nan"))

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()


class Phases:
    """With BENCH_FLAMEGRAPHS=DIR and a binary built with `--features profile`: a flamegraph of
    each phase of the run, DIR/<phase>-node<N>.svg (each SIGUSR1 makes the server write the
    samples taken since the previous one)."""

    def __init__(self, servers):
        self.folder = os.environ.get("BENCH_FLAMEGRAPHS")
        self.servers = servers
        self.taken = 0

    def done(self, phase):
        if not self.folder:
            return
        self.taken += 1
        for server in self.servers:
            server.process.send_signal(signal.SIGUSR1)
        for n, _ in enumerate(self.servers):
            written = os.path.join(self.folder, f"node{n}.svg.{self.taken}")
            deadline = time.perf_counter() + 60
            while not os.path.exists(written) and time.perf_counter() < deadline:
                time.sleep(0.05)
            if os.path.exists(written):
                os.replace(written, os.path.join(self.folder, f"{phase}-node{n}.svg"))


def wrk(url, connections, duration, script=None, env=None, threads=2, headers=()):
    """Runs wrk and returns (requests/s of 2xx answers, p99 ms, non-2xx count, total)."""
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "5s"]
    for header in headers:
        command += ["-H", header]
    if script:
        command += ["-s", script]
    out = subprocess.run(command + [url], capture_output=True, text=True, env={**os.environ, **(env or {})}, check=True).stdout
    total = int(re.search(r"(\d+) requests in", out).group(1))
    seconds = float(re.search(r"requests in ([\d.]+)(m?s)", out).group(1))
    if re.search(r"requests in [\d.]+ms", out):
        seconds /= 1000
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    bad = int(bad.group(1)) if bad else 0
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if errors:
        bad += sum(int(n) for n in errors.groups())
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    value, unit = float(p99.group(1)), p99.group(2)
    p99_ms = value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
    return (total - bad) / seconds, p99_ms, bad, total


def wrk_nodes(urls, connections, duration, script=None, envs=None, headers=()):
    """One wrk per node at the same time, sharing the connections and wrk's two threads; returns
    the sum of their throughputs, the worst p99, and the summed failures and totals."""
    if len(urls) == 1:
        return wrk(urls[0], connections, duration, script, (envs or [None])[0], headers=headers)
    results = [None] * len(urls)
    per_node = max(1, connections // len(urls))

    def one(i):
        results[i] = wrk(urls[i], per_node, duration, script, (envs or [None] * len(urls))[i], threads=1, headers=headers)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(urls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return (sum(r[0] for r in results), max(r[1] for r in results), sum(r[2] for r in results), sum(r[3] for r in results))


# The servers' admin token: the bench reads their /metrics with it.
ADMIN_TOKEN = "bench-admin-token-0123456789abcdef0123456789"


def home_page_counts(port):
    """How the server has answered the home page for visitors without a session so far, from its
    /metrics: (from a kept copy, rendered)."""
    status, _, body = get(port, "/metrics", {"Authorization": f"Bearer {ADMIN_TOKEN}"})
    if status != 200:
        raise RuntimeError(f"/metrics answered {status}")
    counts = {"kept": 0, "rendered": 0}
    for line in body.decode().splitlines():
        match = re.match(r'ticketing_listings_page_total\{outcome="(\w+)"\} (\d+)', line)
        if match:
            counts[match.group(1)] = int(match.group(2))
    return counts["kept"], counts["rendered"]


def made_up_addresses(ports, duration):
    """`GET /tickets` from 32 connections while 32 others ask for `/tickets?x=<random>`, a made-up
    address on every request (bench/made-up.lua): what a client that wants the page never kept
    sends. Returns the wrk results of each, and how the page was answered meanwhile over every
    node (kept copies, renders)."""
    before = [home_page_counts(port) for port in ports]
    results = {}

    def run(name, port, script):
        results[name] = wrk(f"http://127.0.0.1:{port}/tickets", 32, duration, script, threads=1)

    threads = [
        threading.Thread(target=run, args=("home", ports[0], None)),
        threading.Thread(target=run, args=("made-up", ports[-1], os.path.join(HERE, "made-up.lua"))),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    after = [home_page_counts(port) for port in ports]
    kept = sum(a[0] - b[0] for a, b in zip(after, before))
    rendered = sum(a[1] - b[1] for a, b in zip(after, before))
    return results["home"], results["made-up"], kept, rendered


def median_wrk(runs, urls, connections, duration, headers=()):
    results = [wrk_nodes(urls, connections, duration, headers=headers) for _ in range(runs)]
    return (
        statistics.median(r[0] for r in results),
        statistics.median(r[1] for r in results),
        sum(r[2] for r in results),
    )


def sign_in_all(port, emails):
    """Signs every account in (in parallel, argon2 is the cost) and returns their session cookies."""
    cookies = [None] * len(emails)

    def work(start):
        for i in range(start, len(emails), 8):
            status, body, cookie = post_json(port, "/api/users/signin", {"email": emails[i], "password": DEMO_PASSWORD})
            if status != 200:
                raise RuntimeError(f"sign-in of {emails[i]} failed: {status} {body[:200]}")
            cookies[i] = cookie

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if any(c is None for c in cookies):
        raise RuntimeError("some sign-ins failed")
    return cookies


def compressed_size(port, path):
    """Bytes on the wire for `path` as a browser asking for brotli or gzip gets it."""
    status, headers, body = get(port, path, {"Accept-Encoding": "br, gzip"})
    if status != 200:
        raise RuntimeError(f"{path}: {status}")
    lower = {k.lower(): v for k, v in headers.items()}
    return len(body), lower.get("content-encoding", "identity")


def first_visit(port, path="/"):
    """What a first visit to `path` downloads of JS, wasm and CSS, compressed as served: the
    files the page names (scripts, styles, the preloaded chunks of its lazy route) and the
    modules the main script imports (the chunk loader)."""
    status, headers, html = get(port, path, {"Accept-Encoding": "identity"})
    html = html.decode()
    assets = set(re.findall(r'(/pkg/[\w./-]+\.(?:js|css|wasm))', html))
    scripts = [a for a in assets if a.endswith(".js")]
    if not scripts:
        raise RuntimeError("the page references no script")
    for script in scripts:
        _, _, body = get(port, script, {"Accept-Encoding": "identity"})
        folder = script.rsplit("/", 1)[0]
        for imported in re.findall(r'from\s+"\./([\w.-]+\.js)"', body.decode(errors="replace")):
            assets.add(f"{folder}/{imported}")
    if not any(a.endswith(".wasm") for a in assets):
        # The JS loader fetches the wasm next to itself.
        assets.add(re.sub(r"\.js$", ".wasm", next(a for a in scripts if "ticketing" in a)))
    sizes = {a: compressed_size(port, a) for a in sorted(assets)}
    return sum(size for size, _ in sizes.values()), sizes


def visit_notes(sizes):
    """The first visit's files in a few words: the five largest, then how many more and their sum."""
    ranked = sorted(sizes.items(), key=lambda item: -item[1][0])
    shown = ", ".join(f"{os.path.basename(a)} {s / 1024:.1f} KB" for a, (s, _) in ranked[:5])
    rest = ranked[5:]
    if rest:
        shown += f", and {len(rest)} more files, {sum(s for _, (s, _) in rest) / 1024:.1f} KB"
    return f"{len(sizes)} files, brotli as served: {shown}"


def route_chunks(port, sizes):
    """Each lazy page's own chunk and the shared chunks it needs, compressed as served, from the
    build's split manifest: [(page, own bytes, shared bytes)]."""
    main_js = next((a for a in sizes if a.endswith("/ticketing.js")), None)
    if main_js is None:
        return []
    folder = main_js.rsplit("/", 1)[0]
    status, _, body = get(port, f"{folder}/__wasm_split_manifest.json", {"Accept-Encoding": "identity"})
    if status != 200:
        return []
    rows = []
    for name, modules in sorted(json.loads(body).items()):
        own = sum(compressed_size(port, f"{folder}/{m}.wasm")[0] for m in modules if m.startswith("split_"))
        shared = sum(compressed_size(port, f"{folder}/{m}.wasm")[0] for m in modules if not m.startswith("split_"))
        page = re.sub(r"_route_view_\d+$", "", name.strip("_"))
        rows.append((page, own, shared))
    return rows


def reset_timing(port, known, unknown):
    """Answer times of password-reset requests for known and unknown addresses, interleaved on
    one connection at a time: (median ms known, median ms unknown, p90 known, p90 unknown)."""
    times = {"known": [], "unknown": []}
    for known_email, unknown_email in zip(known, unknown):
        for kind, email in (("known", known_email), ("unknown", unknown_email)):
            start = time.perf_counter()
            status, body, _ = post_json(port, "/api/users/password-reset", {"email": email})
            elapsed = (time.perf_counter() - start) * 1000
            if status != 202:
                raise RuntimeError(f"password reset for {email}: {status} {body[:200]}")
            times[kind].append(elapsed)

    def p90(values):
        return sorted(values)[int(len(values) * 0.9)]

    return (
        statistics.median(times["known"]),
        statistics.median(times["unknown"]),
        p90(times["known"]),
        p90(times["unknown"]),
    )


def thousand_buyers(ports, cookies, seller_cookie):
    """1,000 buyers, each signed in, click Buy on the same ticket at the same instant (buyer i on
    node i mod N)."""
    status, body, _ = post_json(ports[0], "/api/tickets", {"title": "Final whistle — one seat", "price": 99}, seller_cookie)
    if status != 201:
        raise RuntimeError(f"could not list the contested ticket: {status} {body[:200]} (see the server log)")
    ticket = json.loads(body)["id"]
    barrier = threading.Barrier(len(cookies))
    results = [None] * len(cookies)

    def buy(i):
        conn = http.client.HTTPConnection("127.0.0.1", ports[i % len(ports)], timeout=30)
        conn.connect()
        payload = json.dumps({"ticketId": ticket, "price": 99})
        headers = {"Content-Type": "application/json", "Cookie": cookies[i]}
        barrier.wait()
        start = time.perf_counter()
        try:
            conn.request("POST", "/api/orders", body=payload, headers=headers)
            response = conn.getresponse()
            response.read()
            results[i] = (response.status, time.perf_counter() - start)
        except OSError as err:
            results[i] = (f"error: {err}", time.perf_counter() - start)
        finally:
            conn.close()

    threads = [threading.Thread(target=buy, args=(i,)) for i in range(len(cookies))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = sum(1 for status, _ in results if status == 201)
    refused = sum(1 for status, _ in results if status == 400)
    server_errors = sum(1 for status, _ in results if not isinstance(status, int) or status >= 500)
    slowest = max(elapsed for _, elapsed in results)
    return winners, refused, server_errors, slowest


async def _http(reader, writer, method, path, cookie, body=None):
    """One request on a kept-alive connection; returns (status, body bytes)."""
    data = json.dumps(body).encode() if body is not None else b""
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\n"
    if body is not None:
        head += f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
    writer.write(head.encode() + b"\r\n" + data)
    status = int((await reader.readline()).split()[1])
    length, chunked = 0, False
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "transfer-encoding" and "chunked" in value:
            chunked = True
    if not chunked:
        return status, await reader.readexactly(length)
    out = b""
    while True:
        size = int((await reader.readline()).strip(), 16)
        out += await reader.readexactly(size + 2)
        if size == 0:
            return status, out
        out = out[:-2]


def grant_organiser(binary, database_url, email):
    """Gives `email` the organiser role with the command line, as an operator would."""
    granted = subprocess.run(
        [binary, "admin", "grant", email, "--role", "organiser"],
        env={"PATH": os.environ.get("PATH", ""), "DATABASE_URL": database_url, "RUST_LOG": "warn"},
        capture_output=True,
        text=True,
    )
    if granted.returncode != 0:
        raise RuntimeError(f"granting the organiser role failed: {granted.stderr}")


def on_sale(ports, backend, database_url, binary, buyer_cookies, organiser, seats=2000, quantity=2):
    """The on-sale as a real one runs (docs/RULES.md, "Orders of several seats"): an organiser
    (`organiser` = (email, cookie)) publishes an event of `seats` seats in rows of 50 through the
    API, and every buyer (signed in, connected beforehand) is released at the same instant to
    ask once for `quantity` best-available seats of it. Buyer i talks to node i mod N.

    Returns a dict: buyers answered, bought, refused (sold out or too few left), 5xx/errors,
    order answer p50/p99 (ms), seconds from the release to the last reservation, and, from the
    database, seats in more than one live order, live orders not holding exactly `quantity`
    seats, and seats held by live orders."""
    email, cookie = organiser
    grant_organiser(binary, database_url, email)
    rows = seats // 50
    event = {
        "name": f"On-sale {random.randrange(10**8):08d}",
        "venue": "Bench Hall",
        "city": "Benchton",
        "timeZone": "Europe/London",
        "startsAt": "2035-09-01T19:00",
        "maxPerBuyer": 8,
        "sections": [{"name": "Stalls", "price": 40, "seating": {"rows": [{"label": f"R{n}", "seats": 50} for n in range(rows)]}}],
    }
    status, body, _ = post_json(ports[0], "/api/events", event, cookie)
    if status != 201:
        raise RuntimeError(f"creating the on-sale event failed: {status} {body[:300]}")
    created = json.loads(body)
    event_id, section_id = created["id"], created["sections"][0]["id"]
    status, body, _ = post_json(ports[0], f"/api/events/{event_id}/publish", {}, cookie, timeout=120)
    if status != 200:
        raise RuntimeError(f"publishing the on-sale event failed: {status} {body[:300]}")
    order_ms, outcomes, sold_at = [], [], []

    async def buyer(i, release, connected):
        port = ports[i % len(ports)]
        async with connect_slots:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        connected.append(i)
        await release.wait()
        try:
            began = time.perf_counter()
            status, _ = await _http(reader, writer, "POST", "/api/orders", buyer_cookies[i], {"sectionId": section_id, "quantity": quantity, "price": 40 * quantity})
            now = time.perf_counter()
            order_ms.append((now - began) * 1000)
            if status == 201:
                sold_at.append(now)
                outcomes.append("bought")
            elif status == 400:
                outcomes.append("sold out")
            else:
                outcomes.append(f"order {status}")
        except (OSError, asyncio.IncompleteReadError, ValueError) as err:
            outcomes.append(f"error {type(err).__name__}")
        finally:
            writer.close()

    async def everyone():
        nonlocal connect_slots
        connect_slots = asyncio.Semaphore(256)
        release, connected = asyncio.Event(), []
        tasks = [asyncio.create_task(buyer(i, release, connected)) for i in range(len(buyer_cookies))]
        while len(connected) < len(buyer_cookies):
            await asyncio.sleep(0.01)
        began, cpu = time.perf_counter(), time.process_time()
        release.set()
        await asyncio.gather(*tasks)
        return began, cpu

    connect_slots = None
    released, cpu_at_release = asyncio.run(everyone())
    # The buyers' own client shares the two cores with the server: what it spent from the
    # release to the last answer read (its share of that time is the server's loss).
    client_cpu = time.process_time() - cpu_at_release
    client_wall = time.perf_counter() - released
    live = "('created', 'awaiting:payment', 'complete')"
    of_event = f"SELECT id FROM tickets WHERE event_id = '{event_id}'"
    doubled = backend.rows(database_url, f"SELECT COUNT(*) FROM (SELECT ot.ticket_id FROM order_tickets ot JOIN orders o ON o.id = ot.order_id WHERE o.status IN {live} AND ot.ticket_id IN ({of_event}) GROUP BY ot.ticket_id HAVING COUNT(*) > 1) AS d")[0][0]
    partial = backend.rows(database_url, f"SELECT COUNT(*) FROM (SELECT o.id FROM orders o JOIN order_tickets ot ON ot.order_id = o.id WHERE o.status IN {live} AND o.ticket_id IN ({of_event}) GROUP BY o.id HAVING COUNT(*) <> {quantity}) AS p")[0][0]
    held = backend.rows(database_url, f"SELECT COUNT(*) FROM order_tickets ot JOIN orders o ON o.id = ot.order_id WHERE o.status IN {live} AND ot.ticket_id IN ({of_event})")[0][0]

    def pct(values, q):
        values = sorted(values)
        return values[min(len(values) - 1, int(len(values) * q))] if values else float("nan")

    sell_out = (max(sold_at) - released) if sold_at else float("nan")
    return {
        "buyers": len(buyer_cookies),
        "answered": len(outcomes),
        "bought": outcomes.count("bought"),
        "sold_out": outcomes.count("sold out"),
        "failed": [o for o in outcomes if o not in ("bought", "sold out")],
        "order_p50": pct(order_ms, 0.5),
        "order_p99": pct(order_ms, 0.99),
        "sell_out_s": sell_out,
        "orders_per_s": outcomes.count("bought") / sell_out if sold_at and sell_out > 0 else float("nan"),
        "doubled": int(doubled),
        "partial": int(partial),
        "held": int(held),
        "seats": seats,
        "quantity": quantity,
        "client_cpu_s": client_cpu,
        "client_wall_s": client_wall,
    }


def on_sale_row(sale, backend, nodes, ceiling):
    """The on-sale's row of the table, its goals (shares of `ceiling`) checked."""
    share = 0.03
    pairs = sale["seats"] // sale["quantity"]
    correct = sale["doubled"] == 0 and sale["partial"] == 0 and sale["held"] == sale["seats"] and sale["bought"] == pairs and sale["answered"] == sale["buyers"] and not sale["failed"]
    fast = sale["sell_out_s"] <= 3 and sale["order_p99"] <= 2000
    rate = sale["orders_per_s"]
    return (
        f"on-sale: an event of {sale['seats']:,} seats published through the API, {sale['buyers']:,} signed-in buyers released together, each asking for {sale['quantity']} best-available seats{nodes}",
        f"sold out in {sale['sell_out_s']:.2f} s; {rate:,.0f} orders/s; order answer p50 {sale['order_p50']:.1f} ms, p99 {sale['order_p99']:.1f} ms",
        f"{rate / ceiling:.1%}",
        f"≥ {share:.0%} of the ceiling ({share * ceiling:,.0f}/s)" + ("" if backend.name == "SQLite" else " (set for SQLite)") + (" ✓" if rate >= share * ceiling else " ✗")
        + "; sell-out ≤ 3 s, p99 ≤ 2 s " + ("✓" if fast else "✗") + "; every seat once, no order split, every buyer answered, no 5xx " + ("✓" if correct else "✗"),
        f"{sale['bought']:,} orders, {sale['sold_out']:,} refused, {len(sale['failed'])} failed {sorted(set(sale['failed']))[:3]}; {sale['held']:,} seats held, {sale['doubled']} in two orders, {sale['partial']} orders split; "
        f"the buyers' client used {sale['client_cpu_s']:.1f} s of CPU over the {sale['client_wall_s']:.1f} s from release to last answer",
    )


def only_on_sale(args, backend, database_url, servers, folder, ceiling):
    """`--only-on-sale`: the on-sale's row alone, on the servers already started."""
    ports = [server.port for server in servers]
    emails = [f"demo{n}@example.com" for n in range(1, args.users + args.buyers + 1)]
    everybody = sign_in_all(ports[0], emails)
    sale = on_sale(ports, backend, database_url, args.bin, everybody[args.users :], (emails[0], everybody[0]), args.on_sale_seats)
    for server in servers:
        server.stop()
    if os.environ.get("BENCH_KEEP") is None:
        shutil.rmtree(folder, ignore_errors=True)
    else:
        print(f"kept: {folder} (each node's server.log in node<N>/)")
    nodes = "" if args.nodes == 1 else f", over {args.nodes} nodes"
    print()
    print("| figure | measured | of ceiling | target | notes |")
    print("|---|---|---|---|---|")
    print("| " + " | ".join(on_sale_row(sale, backend, nodes, ceiling)) + " |")
    return 0


def sales_and_payouts(port, backend, database_url, seller_cookies, buyer_cookies, per_seller=30):
    """Each seller (their payout account connected) lists `per_seller` tickets; then 16 threads of
    distinct buyers reserve and pay for all of them, and the payout job (PAYOUT_DELAY=0) pays
    every seller. Returns (sales/s, p99 ms of reserve + pay, failures, seconds from the last sale
    until every earning was paid out, unbalanced ledger transactions, provider − fees in cents)."""
    listings = []
    for cookie in seller_cookies:
        status, body, _ = post_json(port, "/api/payouts/account", {}, cookie)
        if status != 200:
            raise RuntimeError(f"could not connect a payout account: {status} {body[:200]}")
        for n in range(per_seller):
            status, body, _ = post_json(port, "/api/tickets", {"title": f"Payout bench {n}", "price": 20.5}, cookie)
            if status != 201:
                raise RuntimeError(f"could not list: {status} {body[:200]}")
            listings.append(json.loads(body)["id"])
    jobs = list(zip(listings, buyer_cookies))
    latencies, failures = [], []
    lock = threading.Lock()

    def work(start):
        for i in range(start, len(jobs), 16):
            ticket, cookie = jobs[i]
            began = time.perf_counter()
            status, body, _ = post_json(port, "/api/orders", {"ticketId": ticket}, cookie)
            if status == 201:
                order = json.loads(body)["id"]
                status, body, _ = post_json(port, "/api/payments", {"orderId": order, "token": "tok_visa"}, cookie)
            with lock:
                (latencies if status == 201 else failures).append(time.perf_counter() - began)

    began = time.perf_counter()
    threads = [threading.Thread(target=work, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    last_sale = time.perf_counter()
    rate = len(latencies) / (last_sale - began)
    p99 = sorted(latencies)[int(len(latencies) * 0.99) - 1] * 1000 if latencies else float("nan")

    def outstanding():
        earned = backend.rows(database_url, "SELECT COALESCE(SUM(net_cents), 0) FROM earnings WHERE reversed_at IS NULL")[0][0]
        paid = backend.rows(database_url, "SELECT COALESCE(SUM(amount_cents), 0) FROM payouts WHERE status = 'paid'")[0][0]
        return int(earned) - int(paid)

    deadline = time.perf_counter() + 120
    while outstanding() > 0 and time.perf_counter() < deadline:
        time.sleep(0.05)
    settled = time.perf_counter() - last_sale
    unbalanced = backend.rows(database_url, "SELECT COUNT(*) FROM (SELECT transaction_id FROM ledger_entries GROUP BY transaction_id HAVING SUM(cents) <> 0) AS u")[0][0]
    held = backend.rows(
        database_url,
        "SELECT COALESCE(SUM(CASE WHEN account = 'provider' THEN cents ELSE 0 END), 0) + "
        "COALESCE(SUM(CASE WHEN account = 'platform_fees' THEN cents ELSE 0 END), 0) FROM ledger_entries",
    )[0][0]
    return rate, p99, len(failures), settled, int(unbalanced), int(held), outstanding()


def publish_seats(port, binary, database_url, email, cookie, seats=50_000):
    """An organiser's event of `seats` seats (general admission and seated rows) published: the
    seconds the one transaction that puts every seat on sale takes, as the organiser waits."""
    grant_organiser(binary, database_url, email)
    seated_rows = 100
    seated = seated_rows * 200
    event = {
        "name": "Bench Arena",
        "venue": "Bench Stadium",
        "city": "Benchton",
        "timeZone": "Europe/London",
        "startsAt": "2035-06-01T19:00",
        "sections": [
            {"name": "Pitch", "price": 45, "capacity": seats - seated},
            {"name": "Stand", "price": 60, "seating": {"rows": [{"label": f"R{n}", "seats": 200} for n in range(seated_rows)]}},
        ],
    }
    status, body, _ = post_json(port, "/api/events", event, cookie)
    if status != 201:
        raise RuntimeError(f"creating the event failed: {status} {body[:300]}")
    event_id = json.loads(body)["id"]
    started = time.perf_counter()
    status, body, _ = post_json(port, f"/api/events/{event_id}/publish", {}, cookie, timeout=120)
    took = time.perf_counter() - started
    if status != 200:
        raise RuntimeError(f"publishing failed: {status} {body[:300]}")
    on_sale = json.loads(body)["available"]
    return took, on_sale


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bin", default=os.path.join(ROOT, "target/release/ticketing"))
    parser.add_argument("--hello", default=os.path.join(ROOT, "target/bench-hello/release/hello"))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--tickets", type=int, default=90000, help="listings seeded; each orders run takes a third of them, and must not run out")
    parser.add_argument("--users", type=int, default=1001, help="accounts for the load tests (the on-sale's buyers come on top)")
    parser.add_argument("--buyers", type=int, default=10000, help="buyers released together in the on-sale")
    parser.add_argument("--on-sale-seats", type=int, default=2000, help="seats of the on-sale's event (rows of 50)")
    parser.add_argument("--postgres", action="store_true", help="use the cluster at TEST_POSTGRES_URL (bench/run --postgres starts one)")
    parser.add_argument("--nodes", type=int, default=1, help="servers on the one database (PostgreSQL only)")
    parser.add_argument("--only-on-sale", action="store_true", help="measure the ceiling and the on-sale alone, skipping every other figure (to look into the on-sale)")
    args = parser.parse_args()
    if args.postgres:
        if not os.environ.get("TEST_POSTGRES_URL"):
            parser.error("--postgres needs TEST_POSTGRES_URL: run it as bench/run --postgres, or under .ci/with-postgres")
        backend = Postgres(os.environ["TEST_POSTGRES_URL"])
    else:
        backend = Sqlite()
    if args.nodes < 1 or (args.nodes > 1 and not args.postgres):
        parser.error("--nodes above 1 needs --postgres: SQLite is one process's database")

    # Start to healthy, on an empty database (migrations included).
    startups = []
    for _ in range(args.runs):
        folder = tempfile.mkdtemp(prefix="ticketing-bench-")
        server = Server(args.bin, folder, backend.create(folder))
        startups.append(server.wait_healthy() * 1000)
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
    startup_ms = statistics.median(startups)

    # The ceiling: hello world over axum.
    hello_port = free_port()
    hello = subprocess.Popen([args.hello, f"127.0.0.1:{hello_port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.3)
    ceiling, ceiling_p99, _ = median_wrk(args.runs, [f"http://127.0.0.1:{hello_port}/"], 64, args.duration)
    hello.terminate()
    hello.wait()

    # A seeded database: thousands of listings, hundreds of users.
    folder = tempfile.mkdtemp(prefix="ticketing-bench-")
    database_url = backend.create(folder)
    seeded = subprocess.run(
        [args.bin, "seed", "--demo", "--users", str(args.users + args.buyers), "--tickets", str(args.tickets)],
        cwd=folder,
        env={"PATH": os.environ.get("PATH", ""), "DATABASE_URL": database_url, "RUST_LOG": "warn"},
        capture_output=True,
        text=True,
    )
    if seeded.returncode != 0:
        raise RuntimeError(f"seeding failed: {seeded.stderr}")
    servers = []
    for n in range(args.nodes):
        node_folder = os.path.join(folder, f"node{n}")
        os.makedirs(node_folder)
        # Payouts as soon as a sale settles, so the bench can time the payout job.
        extra = {"PAYOUT_DELAY": "0", "ADMIN_TOKEN": ADMIN_TOKEN}
        if os.environ.get("BENCH_FLAMEGRAPHS"):
            # A binary built with `--features profile` writes a flamegraph of its run there.
            extra["PROFILE_FLAMEGRAPH"] = os.path.join(os.environ["BENCH_FLAMEGRAPHS"], f"node{n}.svg")
        servers.append(Server(args.bin, node_folder, database_url, extra))
    for server in servers:
        server.wait_healthy()
    bases = [f"http://127.0.0.1:{server.port}" for server in servers]
    ports = [server.port for server in servers]

    phases = Phases(servers)
    phases.done("start")
    if args.only_on_sale:
        return only_on_sale(args, backend, database_url, servers, folder, ceiling)
    # The listings page (`/tickets`, the home page until events), kept for visitors without a session.
    home_rps, home_p99, home_bad = median_wrk(args.runs, [f"{b}/tickets" for b in bases], 64, args.duration)
    phases.done("home")
    # As a browser asks for it: compressed.
    home_br_rps, home_br_p99, home_br_bad = median_wrk(args.runs, [f"{b}/tickets" for b in bases], 64, args.duration, headers=("Accept-Encoding: br, gzip",))
    phases.done("home-compressed")
    api_rps, api_p99, api_bad = median_wrk(args.runs, [f"{b}/api/tickets" for b in bases], 64, args.duration)
    phases.done("api-tickets")
    # Made-up addresses alongside: the home page must stay kept for everybody else.
    made_up_home, made_up_others, made_up_kept, made_up_rendered = made_up_addresses(ports, args.duration)
    phases.done("made-up-addresses")

    # Reservations: 32 connections, a different signed-in buyer and ticket per request. Sessions
    # live in the database, so a buyer signed in on one node is signed in on all.
    everybody = sign_in_all(ports[0], [f"demo{n}@example.com" for n in range(1, args.users + args.buyers + 1)])
    emails = [f"demo{n}@example.com" for n in range(1, args.users + 1)]
    cookies, fans = everybody[: args.users], everybody[args.users :]
    phases.done("sign-in")
    wanted = set(emails)
    users = {email: user for user, email in backend.rows(database_url, "SELECT id, email FROM users") if email in wanted}
    cookie_of = {users[email]: cookie for email, cookie in zip(emails, cookies)}
    tickets = backend.rows(database_url, "SELECT id, seller_id, price_cents FROM tickets WHERE status = 'available' ORDER BY created_at, id")
    buyer_ids = list(cookie_of)
    # Each run reserves tickets no earlier run touched: the listings are dealt out in slices, and
    # within a run each node gets a slice of its own.
    slice_size = len(tickets) // args.runs
    node_size = slice_size // args.nodes
    threads = 2 if args.nodes == 1 else 1
    order_runs = []
    for run in range(args.runs):
        envs = []
        for node in range(args.nodes):
            orders_file = os.path.join(folder, f"orders-{run}-{node}.tsv")
            first = run * slice_size + node * node_size
            with open(orders_file, "w") as out:
                for n, (ticket, seller, cents) in enumerate(tickets[first:first + node_size]):
                    buyer = buyer_ids[n % len(buyer_ids)]
                    if buyer == seller:
                        buyer = buyer_ids[(n + 1) % len(buyer_ids)]
                    out.write(f"{cookie_of[buyer]}\t{ticket}\t{int(cents) / 100:.2f}\n")
            envs.append({"ORDERS_FILE": orders_file, "WRK_THREADS": str(threads)})
        order_runs.append(wrk_nodes([f"{b}/api/orders" for b in bases], 32, args.duration, script=os.path.join(HERE, "orders.lua"), envs=envs))
    # Only reservations made count: a refusal (say, a run that ran out of fresh tickets) is no order.
    orders_rps = statistics.median(r[0] * (r[3] - r[2]) / max(r[3], 1) for r in order_runs)
    orders_p99 = statistics.median(r[1] for r in order_runs)
    orders_bad = sum(r[2] for r in order_runs)
    orders_total = sum(r[3] for r in order_runs)
    phases.done("orders")

    # demo1 sells the contested ticket; up to a thousand others try to buy it.
    winners, refused, server_errors, slowest = thousand_buyers(ports, cookies[1:1001], cookies[0])
    buyers = refused + winners + server_errors
    phases.done("one-ticket")

    # Sales end to end (reserve, pay, ledger, earning, code) and the payout job paying sellers.
    sales = sales_and_payouts(ports[0], backend, database_url, cookies[400:410], cookies[410:710])
    phases.done("sales")

    # The on-sale: an organiser publishes an event and every fan asks for two seats at once.
    sale = on_sale(ports, backend, database_url, args.bin, fans, (emails[720], cookies[720]), args.on_sale_seats) if fans else None
    phases.done("on-sale")

    # "Forgot password?" answers alike for known and unknown addresses (each address asked once).
    reset = reset_timing(ports[0], emails[200:400], [f"nobody{n}@example.com" for n in range(200)])

    rss = [server.rss_mb() for server in servers]
    # What the server keeps once idle: it hands freed heap pages back every 5 s, and 2 s after the
    # last request it closes the database connections the load made it open.
    time.sleep(6)
    settled = [server.rss_mb() for server in servers]
    owned = [server.owned_mb() for server in servers]
    settled_anon = [anonymous for anonymous, _ in owned]
    settled_dirty = [dirty for _, dirty in owned]
    if os.environ.get("BENCH_KEEP") is not None:
        for n, server in enumerate(servers):
            shutil.copyfile(f"/proc/{server.process.pid}/smaps", os.path.join(folder, f"smaps-node{n}.txt"))
    database_memory = backend.memory_mb()
    # An organiser publishes an event of 50,000 seats (after the memory reading: it is not load).
    publish_s, published_seats = publish_seats(ports[0], args.bin, database_url, emails[-1], cookies[-1])
    # The event catalogue (`/`), rendered for every visitor (not kept), with that event on it.
    catalogue_rps, catalogue_p99, catalogue_bad = median_wrk(args.runs, [f"{b}/" for b in bases], 64, args.duration)
    phases.done("catalogue")
    download, sizes = first_visit(ports[0])
    chunks = route_chunks(ports[0], sizes)
    for server in servers:
        server.stop()
    if os.environ.get("BENCH_KEEP") is None:
        shutil.rmtree(folder, ignore_errors=True)

    def ratio(rps):
        return f"{rps / ceiling:.0%}"

    def goal(rps, share, also=""):
        """The on-sale goals (bench/README.md) are shares of the ceiling measured in the same run."""
        met = "✓" if rps >= share * ceiling else "✗"
        return f"≥ {share:.0%} of the ceiling ({share * ceiling:,.0f}/s){also} {met}"

    nodes = "" if args.nodes == 1 else f", over {args.nodes} nodes"
    def megabytes(values):
        return f"{values[0]:.1f} MB" if len(values) == 1 else " + ".join(f"{v:.1f}" for v in values) + " MB"

    memory = f"anonymous {megabytes(settled_anon)} (private dirty {megabytes(settled_dirty)}) 6 s after the load; total resident {megabytes(settled)} then, {megabytes(rss)} at the load's end"
    rows = [
        (f"`GET /tickets` SSR listings page (the home page until events), 24 listings, 64 connections{nodes}", f"{home_rps:,.0f} req/s, p99 {home_p99:.1f} ms", ratio(home_rps), goal(home_rps, 0.12), f"{home_bad} non-2xx"),
        (f"`GET /tickets` as a browser asks for it (`Accept-Encoding: br, gzip`), 64 connections{nodes}", f"{home_br_rps:,.0f} req/s, p99 {home_br_p99:.1f} ms", ratio(home_br_rps), "", f"{home_br_bad} non-2xx"),
        (f"`GET /tickets`, 32 connections, while 32 others ask for `/tickets?x=<random>`{nodes}", f"`/tickets`: {made_up_home[0]:,.0f} req/s, p99 {made_up_home[1]:.1f} ms; made-up: {made_up_others[0]:,.0f} req/s", "",
         "`/tickets` stays kept: ≥ 99% of its pages from a kept copy " + ("✓" if made_up_kept >= 0.99 * (made_up_kept + made_up_rendered) else "✗"),
         f"{made_up_kept:,} from a kept copy, {made_up_rendered:,} rendered; {made_up_home[2] + made_up_others[2]} non-2xx"),
        (f"`GET /api/tickets`, 64 connections{nodes}", f"{api_rps:,.0f} req/s, p99 {api_p99:.1f} ms", ratio(api_rps), goal(api_rps, 0.50), f"{api_bad} non-2xx"),
        (f"`POST /api/orders`, distinct tickets, 32 connections, signed-in buyers{nodes}", f"{orders_rps:,.0f} orders/s, p99 {orders_p99:.1f} ms", ratio(orders_rps), goal(orders_rps, 0.03, "" if backend.name == "SQLite" else " (set for SQLite)"), f"{orders_bad} of {orders_total} not 201"),
        (f"{buyers:,} simultaneous buyers on one ticket{nodes}", f"{winners} winner, {refused} refused, {server_errors} 5xx/errors, slowest {slowest * 1000:.0f} ms", "", "exactly 1 winner, all ≤ 2 s, no 5xx", ""),
        ("300 sales (reserve + pay), 16 threads of distinct buyers, 10 sellers", f"{sales[0]:,.0f} sales/s, p99 {sales[1]:.1f} ms", "", "", f"{sales[2]} failed"),
        ("payout job: last sale → every seller paid (PAYOUT_DELAY=0)", f"{sales[3] * 1000:,.0f} ms", "", "", f"ledger: {sales[4]} unbalanced, provider − fees = {sales[5]} cents, {sales[6]} cents unpaid"),
    ]
    if sale:
        rows.append(on_sale_row(sale, backend, nodes, ceiling))
    rows += [
        ("server resident memory after the load, mail and payout workers running" + ("" if len(rss) == 1 else ", per node"), memory, "", "anonymous ≤ 30 MB 6 s after the load " + ("✓" if max(settled_anon + settled_dirty) <= 30 else "✗"), ""),
    ]
    if database_memory is not None:
        rows.append(("PostgreSQL's memory after the load (PSS of all its processes)", f"{database_memory:.1f} MB", "", "", ""))
    rows += [
        (f"`GET /` event catalogue with that event, rendered for each visitor, 64 connections{nodes}", f"{catalogue_rps:,.0f} req/s, p99 {catalogue_p99:.1f} ms", ratio(catalogue_rps), "", f"{catalogue_bad} non-2xx"),
        ("an event of 50,000 seats published (one transaction puts every seat on sale)", f"{publish_s:.2f} s", "", "in seconds " + ("✓" if publish_s < 10 and published_seats == 50_000 else "✗"), f"{published_seats:,} seats on sale"),
        ("password reset answer, known vs unknown address (200 each, interleaved)", f"median {reset[0]:.2f} vs {reset[1]:.2f} ms, p90 {reset[2]:.2f} vs {reset[3]:.2f} ms", "", "alike", ""),
        ("first visit to `/` (wasm + JS + CSS, as served)", f"{download / 1024:.0f} KB", "", "≤ 300 KB " + ("✓" if download <= 300 * 1024 else "✗"), visit_notes(sizes)),
        ("start to healthy, empty database", f"{startup_ms:.0f} ms", "", "≤ 200 ms", ""),
        ("ceiling: hello world over axum, 64 connections", f"{ceiling:,.0f} req/s, p99 {ceiling_p99:.1f} ms", "100%", "", ""),
    ]
    print()
    print(f"{backend.name}, {args.nodes} node{'s' if args.nodes > 1 else ''}: {args.tickets:,} listings, {args.users:,} users, median of {args.runs} runs of {args.duration} s, wrk (2 threads in all) on 127.0.0.1")
    print()
    print("| figure | measured | of ceiling | target | notes |")
    print("|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    if chunks:
        print()
        print("Each page's code, loaded when the page is first visited (brotli, as served):")
        print()
        print("| page | its own chunk | chunks it shares with other pages |")
        print("|---|---|---|")
        for page, own, shared in chunks:
            print(f"| {page} | {own / 1024:.1f} KB | {shared / 1024:.1f} KB |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
