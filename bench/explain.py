#!/usr/bin/env python3
"""Prints the query plans of the measured reads on a seeded database (Python stdlib + psql).

    python3 bench/explain.py --sqlite PATH  --seed DIR
    python3 bench/explain.py --pg URL       --seed DIR

The SQL is what crates/persistence/src/processes.rs sends for getProcessById,
listProcesses (ownerGroup + nameSearch) and listSignerTasks (personalCode + country),
written out by hand with the values of the seed. On PostgreSQL each plan is printed twice:
as the planner picks it on this small data set, and with `enable_seqscan = off`, which shows
which index serves the filter once the table is too big to scan (PRODUCT.md section 6).
"""

import argparse
import os
import sqlite3
import subprocess

PROCESS_COLUMNS = "p.id, p.created_at, p.status, p.document_id, p.document_name, p.owner_group"


def queries(seed):
    def first(name):
        with open(os.path.join(seed, name)) as f:
            return f.readline().strip()

    pid, group, word = first("ids.txt"), first("groups.txt"), first("words.txt")
    code = first("persons.txt").replace("-", "")
    return [
        ("getProcessById: the process row",
         f"SELECT {PROCESS_COLUMNS} FROM processes p WHERE p.id = '{pid}' AND p.deleted_at IS NULL"),
        ("getProcessById: its entries",
         f"SELECT * FROM entries WHERE process_id IN ('{pid}') ORDER BY step_id, position"),
        ("listProcesses ownerGroup + nameSearch: count",
         "SELECT count(*) FROM processes p WHERE p.deleted_at IS NULL "
         f"AND p.search_names LIKE '%{word}%' ESCAPE '\\' AND p.owner_group = '{group}'"),
        ("listProcesses ownerGroup + nameSearch: page",
         f"SELECT {PROCESS_COLUMNS} FROM processes p WHERE p.deleted_at IS NULL "
         f"AND p.search_names LIKE '%{word}%' ESCAPE '\\' AND p.owner_group = '{group}' "
         "ORDER BY p.created_at DESC, p.id DESC LIMIT 20 OFFSET 0"),
        ("listProcesses nameSearch only (isAdmin): count",
         "SELECT count(*) FROM processes p WHERE p.deleted_at IS NULL "
         f"AND p.search_names LIKE '%{word}%' ESCAPE '\\'"),
        ("listSignerTasks personalCode + country: page",
         f"SELECT {PROCESS_COLUMNS}, s.id, e.id FROM entries e "
         "JOIN steps s ON e.step_id = s.id JOIN processes p ON s.process_id = p.id "
         "WHERE p.deleted_at IS NULL AND p.status <> 'PENDING' "
         f"AND e.personal_code_norm = '{code}' AND e.signer_country = 'LV' "
         "ORDER BY p.created_at DESC, e.id DESC LIMIT 20 OFFSET 0"),
    ]


def explain_sqlite(path, seed):
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    for title, sql in queries(seed):
        print(f"-- {title}")
        for row in db.execute("EXPLAIN QUERY PLAN " + sql):
            print(f"   {row[3]}")
    db.close()


def explain_pg(url, seed):
    for title, sql in queries(seed):
        for label, setting in [("planner's choice", "on"), ("enable_seqscan = off", "off")]:
            print(f"-- {title} ({label})")
            out = subprocess.run(
                ["psql", url, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                 "-c", f"SET enable_seqscan = {setting}", "-c", "EXPLAIN " + sql],
                check=True, capture_output=True, text=True).stdout
            for line in out.splitlines():
                if line.strip():
                    print(f"   {line}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sqlite")
    ap.add_argument("--pg")
    ap.add_argument("--seed", required=True)
    args = ap.parse_args()
    if args.sqlite:
        explain_sqlite(args.sqlite, args.seed)
    if args.pg:
        explain_pg(args.pg, args.seed)


if __name__ == "__main__":
    main()
