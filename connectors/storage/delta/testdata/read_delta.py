"""Reads a Delta table with delta-rs (the deltalake package) and prints it as JSON.

Usage: read_delta.py TABLE_URI [VERSION]  Output: one JSON object
{"version": ..., "rows": [...], "history": [...], "files": N, "schema": {...}, "partitions": [...]}.
Dates and timestamps print in ISO 8601, decimals as strings, bytes as hex, so a Go test can
compare them with hand-derived values.
"""
import datetime
import decimal
import json
import os
import sys


def plain(v):
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    if isinstance(v, datetime.datetime):
        if v.tzinfo is not None:
            v = v.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        return v.isoformat(timespec="milliseconds") + "Z"
    if isinstance(v, (datetime.date, datetime.time)):
        return v.isoformat()
    if isinstance(v, decimal.Decimal):
        return str(v)
    if isinstance(v, bytes):
        return v.hex()
    return v


def main():
    from deltalake import DeltaTable

    uri = sys.argv[1]
    version = int(sys.argv[2]) if len(sys.argv) > 2 else None
    dt = DeltaTable(uri, version=version)
    table = dt.to_pyarrow_table()
    print(json.dumps({
        "version": dt.version(),
        "rows": [plain(r) for r in table.to_pylist()],
        "history": [{"version": h.get("version"), "operation": h.get("operation")} for h in dt.history()],
        "files": len(dt.file_uris()),
        "schema": {f.name: str(f.type) for f in table.schema},
        "partitions": dt.metadata().partition_columns,
    }, sort_keys=True))


if __name__ == "__main__":
    main()
    # delta-rs and pyarrow threads sometimes abort the interpreter's teardown ("terminate called
    # without an active exception", about one run in five here) after the output is complete.
    sys.stdout.flush()
    os._exit(0)
