"""Prints the rows of Avro object container files (fastavro), Parquet files (pyarrow) or JSON-lines
files (Python's json) as JSON.

Usage: dump.py FILE...  Output: one JSON object per file on its own line:
{"file": ..., "rows": [...], "meta": {...}}; meta holds the Avro codec and schema, or the Parquet
column types and compression. Dates, times and timestamps print in ISO 8601, decimals as strings,
bytes as hex, so a Go test can compare them with hand-derived values.
"""
import json
import sys

from plain import plain  # testdata/plain.py: Python puts this script's folder on sys.path


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
