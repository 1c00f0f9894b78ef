#!/usr/bin/env python3
"""Soak test of the `app` binary under faults (PRODUCT.md section 14; Python stdlib only).

    python3 bench/soak.py --app target/release/app [--minutes 10] [--fault-every 60]

Runs for --minutes a mixed HTTP load (--clients threads, each creating a STARTED process
every --create-every seconds and reading it back, and listing processes in between) against the app on a scratch SQLite file (or --database-url postgres://…),
sending its emails to an SMTP sink in this script. Every --fault-every seconds it injects a
fault, in turn:
  smtp-down   the SMTP sink stops listening for --smtp-down seconds (connections refused),
  kill-9      SIGKILL of the app, restarted at once on the same database and port.
Every --report-every seconds it prints one line: elapsed time, requests and errors in the
interval (an error: a transport failure or a 5xx; the seconds right after a kill -9 are
counted too), p99 latency of the interval, the app's RSS, emails received, and the outbox's
PENDING count (GET /api/v1/outbox). At the end it waits for the outbox to drain and prints
how many Message-IDs arrived twice and how many acknowledged processes' emails are missing.
"""

import argparse
import json
import os
import signal
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

# ---------------------------------------------------------------------------------------
# SMTP sink


class Sink:
    """A minimal SMTP server: accepts everything, keeps the Message-ID and recipient."""

    def __init__(self, port):
        self.port = port
        self.lock = threading.Lock()
        self.mails = []  # (message_id, rcpt)
        self.server = None

    def start(self):
        sink = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                self.wfile.write(b"220 soak.sink ESMTP\r\n")
                rcpt, data_mode, lines = [], False, []
                while True:
                    line = self.rfile.readline()
                    if not line:
                        return
                    if data_mode:
                        if line in (b".\r\n", b".\n"):
                            data_mode = False
                            mid = ""
                            for l in lines:
                                if l.lower().startswith(b"message-id:"):
                                    mid = l.split(b":", 1)[1].strip().decode()
                                    break
                                if l in (b"\r\n", b"\n"):
                                    break
                            with sink.lock:
                                for r in rcpt:
                                    sink.mails.append((mid, r))
                            rcpt, lines = [], []
                            self.wfile.write(b"250 OK\r\n")
                        else:
                            lines.append(line)
                        continue
                    cmd = line.strip().upper()
                    if cmd.startswith(b"EHLO") or cmd.startswith(b"HELO"):
                        self.wfile.write(b"250 soak.sink\r\n")
                    elif cmd.startswith(b"MAIL"):
                        self.wfile.write(b"250 OK\r\n")
                    elif cmd.startswith(b"RCPT"):
                        rcpt.append(line.split(b":", 1)[1].strip().strip(b"<>").decode())
                        self.wfile.write(b"250 OK\r\n")
                    elif cmd == b"DATA":
                        data_mode = True
                        self.wfile.write(b"354 go on\r\n")
                    elif cmd == b"QUIT":
                        self.wfile.write(b"221 bye\r\n")
                        return
                    else:
                        self.wfile.write(b"250 OK\r\n")

        class Server(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = True

        self.server = Server(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def snapshot(self):
        with self.lock:
            return list(self.mails)


# ---------------------------------------------------------------------------------------
# The app


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class App:
    def __init__(self, binary, port, database_url, smtp_port, log):
        self.binary, self.port, self.database_url = binary, port, database_url
        self.smtp_port, self.log = smtp_port, log
        self.proc = None

    def start(self):
        env = {
            "APP_BIND": f"127.0.0.1:{self.port}",
            "DATABASE_URL": self.database_url,
            "SMTP_URL": f"smtp://127.0.0.1:{self.smtp_port}",
            "MAIL_POLL_MS": "200",
            "MAIL_FIRST_RETRY_SECONDS": "2",
            "RUST_LOG": "warn",
            "PATH": os.environ.get("PATH", ""),
        }
        self.proc = subprocess.Popen([self.binary], env=env, stdout=subprocess.DEVNULL,
                                     stderr=self.log)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=1):
                    return
            except (urllib.error.URLError, OSError):
                time.sleep(0.1)
        raise SystemExit("the app did not come up")

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def rss_mb(self):
        try:
            with open(f"/proc/{self.proc.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            pass
        return 0.0


# ---------------------------------------------------------------------------------------
# Load


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.latencies, self.errors, self.requests = [], 0, 0
        self.acknowledged = []  # recipients of acknowledged STARTED processes

    def record(self, seconds, ok):
        with self.lock:
            self.requests += 1
            self.latencies.append(seconds)
            if not ok:
                self.errors += 1

    def take(self):
        with self.lock:
            out = (self.requests, self.errors, sorted(self.latencies))
            self.latencies, self.errors, self.requests = [], 0, 0
            return out


def call(base, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as res:
            return res.status, json.loads(res.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, None
    except (urllib.error.URLError, OSError, ValueError):
        return 0, None


def client(n, base, stats, stop, create_every):
    i, next_create = 0, time.time()
    while not stop.is_set():
        if time.time() < next_create:
            t = time.time()
            status, _ = call(base, "GET", "/api/v1/processes?isAdmin=true&size=20")
            stats.record(time.time() - t, 200 <= status < 300)
            if status == 0:
                time.sleep(0.05)
            continue
        next_create = time.time() + create_every
        i += 1
        name = f"soak-c{n}-{i}"
        recipients = [f"{name}-s@example.lv", f"{name}-o@example.lv"]
        body = {"documentId": f"doc-{name}", "documentName": name, "status": "STARTED",
                "processInitiatorEmail": recipients[1],
                "signingProcessSteps": [{"processOrder": 1, "processStepSigners": [
                    {"signerRole": "SIGNER", "signerEmail": recipients[0], "signerName": name}]}]}
        t = time.time()
        status, created = call(base, "POST", "/api/v1/processes", body)
        stats.record(time.time() - t, 200 <= status < 300)
        if status == 201 and created:
            with stats.lock:
                stats.acknowledged.extend(recipients)
            t = time.time()
            status, _ = call(base, "GET", f"/api/v1/processes/{created['id']}")
            stats.record(time.time() - t, 200 <= status < 300)


def pending(base):
    status, page = call(base, "GET", "/api/v1/outbox?state=PENDING&size=1")
    return page["totalElements"] if status == 200 and page else -1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--app", required=True)
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--fault-every", type=float, default=60)
    ap.add_argument("--report-every", type=float, default=10)
    ap.add_argument("--smtp-down", type=float, default=20)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--create-every", type=float, default=4.0,
                    help="seconds between two creates of one client (reads in between)")
    ap.add_argument("--database-url", default="")
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="pas-soak-")
    db = args.database_url or f"sqlite://{tmp}/soak.db"
    smtp_port, port = free_port(), free_port()
    sink = Sink(smtp_port)
    sink.start()
    log = open(os.path.join(tmp, "app.log"), "ab")
    app = App(args.app, port, db, smtp_port, log)
    app.start()
    base = f"http://127.0.0.1:{port}"
    stats, stop = Stats(), threading.Event()
    threads = [threading.Thread(target=client, args=(n, base, stats, stop, args.create_every),
                                daemon=True)
               for n in range(args.clients)]
    for t in threads:
        t.start()

    print(f"soak: {args.minutes} min, {args.clients} clients, a fault every {args.fault_every} s, "
          f"database {db.split('@')[-1]}, log {tmp}/app.log", flush=True)
    print(f"{'t(s)':>6} {'req':>6} {'err':>5} {'p99(ms)':>8} {'rss(MB)':>8} {'emails':>7} "
          f"{'pending':>7}  event", flush=True)
    start = time.time()
    next_fault, next_report, fault_no = args.fault_every, args.report_every, 0
    smtp_back_at, event = None, ""
    while time.time() - start < args.minutes * 60:
        time.sleep(0.2)
        now = time.time() - start
        if smtp_back_at is not None and now >= smtp_back_at:
            sink.start()
            smtp_back_at, event = None, event + " smtp-up"
        if now >= next_fault:
            next_fault += args.fault_every
            if fault_no % 2 == 0:
                sink.stop()
                smtp_back_at = now + args.smtp_down
                event += " smtp-down"
            else:
                app.kill9()
                app.start()
                event += " kill-9+restart"
            fault_no += 1
        if now >= next_report:
            next_report += args.report_every
            req, err, lat = stats.take()
            p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000 if lat else 0.0
            print(f"{now:6.0f} {req:6d} {err:5d} {p99:8.1f} {app.rss_mb():8.1f} "
                  f"{len(sink.snapshot()):7d} {pending(base):7d} {event}", flush=True)
            event = ""

    stop.set()
    for t in threads:
        t.join(timeout=15)
    if smtp_back_at is not None:
        sink.start()
    drain_start = time.time()
    while pending(base) != 0 and time.time() - drain_start < 180:
        time.sleep(0.5)
    mails = sink.snapshot()
    ids = {}
    for mid, _ in mails:
        ids[mid] = ids.get(mid, 0) + 1
    got = {rcpt for _, rcpt in mails}
    missing = [r for r in stats.acknowledged if r not in got]
    status, failed = call(base, "GET", "/api/v1/outbox?state=FAILED&size=1")
    print(f"end: {len(stats.acknowledged) // 2} acknowledged processes, {len(mails)} emails, "
          f"{len(ids)} distinct Message-IDs, {sum(1 for n in ids.values() if n > 1)} repeated, "
          f"{len(missing)} acknowledged emails missing, "
          f"{failed['totalElements'] if failed else '?'} failed rows, "
          f"drained in {time.time() - drain_start:.1f} s", flush=True)
    app.stop()
    sink.stop()
    sys.exit(1 if missing else 0)


if __name__ == "__main__":
    main()
