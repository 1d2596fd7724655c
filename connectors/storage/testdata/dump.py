"""Prints the rows of Avro object container files (fastavro), Parquet files (pyarrow) or JSON-lines
files (Python's json) as JSON.

Usage: dump.py FILE...  Output: one JSON object per file on its own line:
{"file": ..., "rows": [...], "meta": {...}}; meta holds the Avro codec and schema, or the Parquet
column types and compression. Dates, times and timestamps print in ISO 8601, decimals as strings,
bytes as hex, so a Go test can compare them with hand-derived values.
"""
import datetime
import decimal
import json
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


def dump_avro(path):
    import fastavro

    with open(path, "rb") as f:
        reader = fastavro.reader(f)
        rows = [plain(r) for r in reader]
        meta = {"codec": reader.codec, "schema": reader.writer_schema}
    return rows, meta


def dump_parquet(path):
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    table = pf.read()
    types = {f.name: str(f.type) for f in table.schema}
    md = pf.metadata
    codecs = sorted({md.row_group(i).column(j).compression
                     for i in range(md.num_row_groups) for j in range(md.num_columns)})
    return [plain(r) for r in table.to_pylist()], {"types": types, "codecs": codecs,
                                                   "row_groups": md.num_row_groups}


def dump_json(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()], {}


for path in sys.argv[1:]:
    if path.endswith(".avro"):
        rows, meta = dump_avro(path)
    elif path.endswith(".json"):
        rows, meta = dump_json(path)
    else:
        rows, meta = dump_parquet(path)
    print(json.dumps({"file": path, "rows": rows, "meta": meta}, sort_keys=True))
