"""The one conversion of values read by fastavro, pyarrow, delta-rs and Spark into JSON-able Python
for the storage test readers (dump.py, delta/testdata/read_delta.py, delta/testdata/read_spark.py),
so that every reader prints a value the same way and a Go test compares one hand-derived form.

Timestamps print as UTC ISO 8601 with milliseconds and a Z, dates and times in ISO 8601, decimals
as strings, bytes as hex.
"""
import datetime
import decimal


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
