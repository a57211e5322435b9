#!/usr/bin/env python3
"""Loads every box's upload batches (<dir>/<device>/<batch>.ndjson.gz, as nginx WebDAV or an
S3 sync leaves them) into an SQLite table `events`, skipping rows already loaded (a batch
sent twice, or loaded again, counts once), then optionally runs a query and prints CSV.

Usage: load.py DIR DB.sqlite [QUERY.sql]
DuckDB and PostgreSQL: see docs/central.md (same table, same query)."""
import csv
import gzip
import json
import os
import sqlite3
import sys

SCHEMA = """CREATE TABLE IF NOT EXISTS events (
    device TEXT NOT NULL, seq INTEGER NOT NULL, time INTEGER NOT NULL,
    clock_trusted BOOLEAN NOT NULL, type TEXT NOT NULL, subject TEXT, data TEXT NOT NULL,
    PRIMARY KEY (device, seq))"""


def load(root, db):
    db.execute(SCHEMA)
    n = 0
    for dev in sorted(os.listdir(root)):
        ddir = os.path.join(root, dev)
        if not os.path.isdir(ddir):
            continue
        for name in sorted(os.listdir(ddir)):
            if not name.endswith(".ndjson.gz"):
                continue
            lines = gzip.decompress(open(os.path.join(ddir, name), "rb").read()).splitlines()
            head = json.loads(lines[0])
            if head.get("schema") != "puente.event/1":
                sys.exit(f"{name}: unknown schema {head.get('schema')}")
            rows = []
            for line in lines[1:]:
                e = json.loads(line)
                rows.append((head["device"], e["seq"], e["time"], e["clock_trusted"], e["type"],
                             e.get("subject"), json.dumps(e["data"])))
            cur = db.executemany("INSERT OR IGNORE INTO events VALUES (?,?,?,?,?,?,?)", rows)
            n += cur.rowcount
    db.commit()
    return n


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit("usage: load.py DIR DB.sqlite [QUERY.sql]")
    db = sqlite3.connect(sys.argv[2])
    n = load(sys.argv[1], db)
    print(f"loaded {n} new events", file=sys.stderr)
    if len(sys.argv) == 4:
        cur = db.execute(open(sys.argv[3]).read())
        out = csv.writer(sys.stdout, lineterminator="\n")
        out.writerow([d[0] for d in cur.description])
        out.writerows(cur.fetchall())


if __name__ == "__main__":
    main()
