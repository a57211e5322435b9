#!/usr/bin/env python3
"""Checks a tree of Puente upload batches (<dir>/<device>/<batch>.ndjson.gz): every line valid
against docs/schema/event-v1.json, batches numbered 1..n with no gap, each header's
prev_sha256 the SHA-256 of the previous batch file, header counts right, each event sequence
number exactly once per device and 1..last with no gap. Exit 0 when all hold.

Usage: validate.py DIR [SCHEMA]   (SCHEMA defaults to the one next to this file's docs/)
Needs python3-jsonschema (Debian 12: apt install python3-jsonschema)."""
import gzip
import hashlib
import json
import os
import sys

import jsonschema


def fail(msg):
    print("validate: " + msg, file=sys.stderr)
    sys.exit(1)


def main():
    if len(sys.argv) < 2:
        fail("usage: validate.py DIR [SCHEMA]")
    root = sys.argv[1]
    here = os.path.dirname(os.path.abspath(__file__))
    schema_path = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, "..", "schema", "event-v1.json")
    with open(schema_path) as f:
        schema = json.load(f)
    validator = jsonschema.Draft202012Validator(schema)
    devices = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)))
    if not devices:
        fail(f"{root}: no device directory")
    total = 0
    for dev in devices:
        names = sorted(n for n in os.listdir(os.path.join(root, dev)) if n.endswith(".ndjson.gz"))
        prev = "0" * 64
        seen = set()
        for i, name in enumerate(names, 1):
            path = os.path.join(root, dev, name)
            if int(name.split(".")[0]) != i:
                fail(f"{path}: batch {i} missing")
            raw = open(path, "rb").read()
            lines = gzip.decompress(raw).decode("utf-8").splitlines()
            for n, line in enumerate(lines, 1):
                obj = json.loads(line)
                errors = list(validator.iter_errors(obj))
                if errors:
                    fail(f"{path}:{n}: {errors[0].message}")
                if (n == 1) != ("schema" in obj):
                    fail(f"{path}:{n}: the header must be the first line, and only it")
            head = [json.loads(l) for l in lines[:1]][0]
            events = [json.loads(l) for l in lines[1:]]
            if head["batch"] != i or head["device"] != dev:
                fail(f"{path}: header says batch {head['batch']} of {head['device']}")
            if head["prev_sha256"] != prev:
                fail(f"{path}: chain broken: prev_sha256 {head['prev_sha256']} != {prev}")
            if head["events"] != len(events) or head["first_seq"] != events[0]["seq"] or head["last_seq"] != events[-1]["seq"]:
                fail(f"{path}: header counts disagree with the lines")
            for e in events:
                if e["seq"] in seen:
                    fail(f"{path}: event {e['seq']} twice")
                seen.add(e["seq"])
            prev = hashlib.sha256(raw).hexdigest()
        if seen and len(seen) != max(seen) - min(seen) + 1:
            fail(f"{dev}: events missing between {min(seen)} and {max(seen)}")
        total += len(seen)
        print(f"{dev}: {len(names)} batches, {len(seen)} events, chain ok")
    print(f"{total} events valid")


if __name__ == "__main__":
    main()
