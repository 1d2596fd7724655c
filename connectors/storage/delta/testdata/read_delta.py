"""Reads a Delta table with delta-rs (the deltalake package) and prints it as JSON.

Usage: read_delta.py TABLE_URI [VERSION]  Output: one JSON object
{"version": ..., "rows": [...], "history": [...], "files": N, "schema": {...}, "partitions": [...]}.
Dates and timestamps print in ISO 8601, decimals as strings, bytes as hex, so a Go test can
compare them with hand-derived values.
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "testdata"))
from plain import plain  # noqa: E402  (connectors/storage/testdata/plain.py)


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
