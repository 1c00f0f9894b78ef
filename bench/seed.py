#!/usr/bin/env python3
"""Seeds the service with signing processes over its HTTP API (Python stdlib only).

    python3 bench/seed.py --base http://127.0.0.1:18080 --count 2000 --out DIR

Creates COUNT STARTED processes with a few threads, each on one keep-alive connection, and
writes to DIR:
  ids.txt      the created process ids, one per line
  persons.txt  the Latvian personal codes used by SIGNER entries, one per line
  groups.txt   the owner groups, one per line
  words.txt    the words document names start with (what nameSearch looks for)

With --shape limit (bench/vs-limit.sh) the processes have the shape of the database limit
scripts (../shared/bench-limit/): 50 owner groups; step 1 two SIGNERs and step 2 an APPROVER,
each with a personal code of their own (3 × COUNT distinct people, so a person has one task);
persons.txt then lists no one (the limit run picks people from the database).

Data shape (process i, default --shape bench): ownerGroup group-(i % GROUPS); documentName "<word> agreement i"
(WORDS round-robin); step 1 an anonymous APPROVER; step 2 a SIGNER with the personal code
of person (i % PERSONS) and a VIEWER. So each group holds COUNT/GROUPS processes, a
nameSearch word matches 1/len(WORDS) of them, and each person has COUNT/PERSONS tasks.
"""

import argparse
import http.client
import json
import os
import sys
import threading
import time
import urllib.parse

GROUPS = 10
PERSONS = 200
WORDS = ["Lease", "Loan", "Supply", "Employment", "Service"]
LV_WEIGHTS = [1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def lv_codes(count):
    """count distinct valid Latvian personal codes DDMMYY-1NNNK."""
    codes, serial = [], 0
    while len(codes) < count:
        day, month = 1 + serial % 28, 1 + (serial // 28) % 12
        year, tail = 50 + (serial // 336) % 50, serial % 1000
        digits = f"{day:02}{month:02}{year:02}1{tail:03}"
        check = (1101 - sum(int(d) * w for d, w in zip(digits, LV_WEIGHTS))) % 11
        if check < 10:
            codes.append(f"{digits[:6]}-{digits[6:]}{check}")
        serial += 1
    return codes


def process_body(i, persons):
    word = WORDS[i % len(WORDS)]
    return {
        "documentId": f"bench-doc-{i}",
        "documentName": f"{word} agreement {i}",
        "documentType": "CONTRACT",
        "ownerGroup": f"group-{i % GROUPS}",
        "processInitiatorEmail": "office@example.lv",
        "initiatorName": "Office Manager",
        "status": "STARTED",
        "signingProcessSteps": [
            {"processOrder": 1, "processStepSigners": [
                {"signerRole": "APPROVER", "signerEmail": f"approver{i}@example.lv",
                 "signerName": f"Approver {i}"}]},
            {"processOrder": 2, "processStepSigners": [
                {"signerRole": "SIGNER", "signerEmail": f"client{i % PERSONS}@example.lv",
                 "signerName": f"Client {i % PERSONS}", "signerCountry": "LV",
                 "signerPersonalCode": persons[i % PERSONS], "signerLanguage": "lv"},
                {"signerRole": "VIEWER", "signerEmail": f"viewer{i}@example.lv"}]},
        ],
    }


LIMIT_GROUPS = 50


def distinct_lv_codes(count):
    """count valid Latvian personal codes, no two alike (lv_codes repeats after a while)."""
    codes = []
    for year in range(50, 100):
        for month in range(1, 13):
            for day in range(1, 29):
                for tail in range(1000):
                    digits = f"{day:02}{month:02}{year:02}1{tail:03}"
                    check = (1101 - sum(int(d) * w for d, w in zip(digits, LV_WEIGHTS))) % 11
                    if check < 10:
                        codes.append(f"{digits[:6]}-{digits[6:]}{check}")
                        if len(codes) == count:
                            return codes
    raise ValueError(f"no {count} distinct codes")


def limit_body(i, codes):
    """Process i in the shape of the limit scripts; codes[3i .. 3i+2] are its people."""
    def person(role, k, step_mail):
        return {"signerRole": role, "signerEmail": f"{step_mail}{i}@example.lv",
                "signerName": f"{role.title()} {k} {i}", "signerCountry": "LV",
                "signerPersonalCode": codes[3 * i + k], "signerLanguage": "lv"}
    return {
        "documentId": f"doc{i}",
        "documentName": f"Contract {i}",
        "documentType": "CONTRACT",
        "ownerGroup": f"group-{i % LIMIT_GROUPS}",
        "processInitiatorEmail": f"init{i}@example.com",
        "initiatorName": f"Init {i}",
        "status": "STARTED",
        "signingProcessSteps": [
            {"processOrder": 1, "processStepSigners": [person("SIGNER", 0, "a"),
                                                        person("SIGNER", 1, "b")]},
            {"processOrder": 2, "processStepSigners": [person("APPROVER", 2, "c")]},
        ],
    }


def worker(base, indices, make_body, ids, errors, lock):
    url = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    mine = []
    for i in indices:
        body = json.dumps(make_body(i))
        try:
            conn.request("POST", "/api/v1/processes", body,
                         {"content-type": "application/json", "x-user": "bench-seed"})
            resp = conn.getresponse()
            data = resp.read()
            if resp.status != 201 and resp.status != 200:
                with lock:
                    errors.append(f"{resp.status} {data[:200]!r}")
                continue
            mine.append(json.loads(data)["id"])
        except (OSError, http.client.HTTPException) as e:
            with lock:
                errors.append(repr(e))
            conn.close()
            conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    with lock:
        ids.extend(mine)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", required=True)
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--out", required=True)
    ap.add_argument("--shape", choices=["bench", "limit"], default="bench")
    args = ap.parse_args()

    if args.shape == "limit":
        codes = distinct_lv_codes(3 * args.count)
        persons, groups = [], [f"group-{g}" for g in range(LIMIT_GROUPS)]
        make_body = lambda i: limit_body(i, codes)  # noqa: E731
    else:
        persons = lv_codes(PERSONS)
        groups = [f"group-{g}" for g in range(GROUPS)]
        make_body = lambda i: process_body(i, persons)  # noqa: E731
    ids, errors, lock = [], [], threading.Lock()
    started = time.monotonic()
    threads = [
        threading.Thread(target=worker, args=(
            args.base, range(t, args.count, args.threads), make_body, ids, errors, lock))
        for t in range(args.threads)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started

    os.makedirs(args.out, exist_ok=True)
    for name, lines in [("ids.txt", ids), ("persons.txt", persons),
                        ("groups.txt", groups),
                        ("words.txt", [w.lower() for w in WORDS])]:
        with open(os.path.join(args.out, name), "w") as f:
            f.write("\n".join(lines) + "\n")
    print(f"seeded {len(ids)} processes in {elapsed:.1f} s "
          f"({len(ids) / elapsed:.0f} creates/s, {args.threads} threads)")
    if errors:
        print(f"{len(errors)} errors, first: {errors[0]}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
