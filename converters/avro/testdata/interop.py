"""Reads and writes Confluent-framed Avro with confluent-kafka's own serializers (fastavro
underneath): a client nobody on kconnect wrote, for the Avro converter's interoperability tests.

  interop.py read URL TOPIC < hex lines              prints each value as a JSON line
  interop.py write URL TOPIC SCHEMA_FILE < JSON lines prints each serialized value as a hex line

Values cross as JSON: decimals as strings (their scale kept), bytes as hex, dates and times in ISO
8601. When writing, {"$decimal": "1.50"}, {"$bytes": "00ff"}, {"$date": "2024-01-31"},
{"$timestamp": "2024-01-31T12:00:00.123+00:00"} and {"$time": "12:00:00.123"} stand for those types.
"""
import datetime
import decimal
import json
import sys

from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext


def plain(v):
    if isinstance(v, decimal.Decimal):
        return str(v)
    if isinstance(v, bytes):
        return v.hex()
    if isinstance(v, (datetime.datetime, datetime.date, datetime.time)):
        return v.isoformat()
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    return v


def revive(obj):
    if len(obj) == 1:
        (tag, text), = obj.items()
        if tag == "$decimal":
            return decimal.Decimal(text)
        if tag == "$bytes":
            return bytes.fromhex(text)
        if tag == "$date":
            return datetime.date.fromisoformat(text)
        if tag == "$timestamp":
            return datetime.datetime.fromisoformat(text)
        if tag == "$time":
            return datetime.time.fromisoformat(text)
    return obj


def main():
    mode, url, topic = sys.argv[1:4]
    client = SchemaRegistryClient({"url": url})
    ctx = SerializationContext(topic, MessageField.VALUE)
    if mode == "read":
        deserialize = AvroDeserializer(client)
        for line in sys.stdin:
            value = deserialize(bytes.fromhex(line.strip()), ctx)
            print(json.dumps(plain(value), sort_keys=True))
    elif mode == "write":
        with open(sys.argv[4]) as f:
            schema = f.read()
        serialize = AvroSerializer(client, schema, conf={"auto.register.schemas": True})
        for line in sys.stdin:
            print(serialize(json.loads(line, object_hook=revive), ctx).hex())
    else:
        sys.exit("usage: interop.py read|write URL TOPIC [SCHEMA_FILE]")


if __name__ == "__main__":
    main()
