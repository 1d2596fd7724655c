"""Reads a Delta table with Apache Spark and Delta Lake (pyspark, delta-spark) and prints it as JSON.

Usage: read_spark.py TABLE_PATH [VERSION]  Output: {"rows": [...]} with values printed as
read_delta.py prints them.
"""
import json
import os
import sys

from delta import configure_spark_with_delta_pip
from pyspark.sql import SparkSession

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "testdata"))
from plain import plain  # noqa: E402  (connectors/storage/testdata/plain.py)

builder = (SparkSession.builder.appName("kconnect-delta-test").master("local[1]")
           .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
           .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
           .config("spark.sql.session.timeZone", "UTC")
           .config("spark.ui.enabled", "false"))
spark = configure_spark_with_delta_pip(builder).getOrCreate()
spark.sparkContext.setLogLevel("ERROR")
reader = spark.read.format("delta")
if len(sys.argv) > 2:
    reader = reader.option("versionAsOf", int(sys.argv[2]))
rows = [plain(r.asDict()) for r in reader.load(sys.argv[1]).collect()]
print(json.dumps({"rows": rows}, sort_keys=True))
