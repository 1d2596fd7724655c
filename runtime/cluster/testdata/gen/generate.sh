#!/bin/sh
# Regenerates ../protocol.json and ../assignor.json with Apache Kafka Connect's own classes
# (connect-runtime from Maven Central, version in pom.xml). Needs Java 17+ and Maven; the Go
# tests only read the committed output.
set -eu
cd "$(dirname "$0")"
mvn -q dependency:copy-dependencies -DoutputDirectory=target/lib
rm -rf target/classes
mkdir -p target/classes
javac -encoding UTF-8 --release 17 -cp 'target/lib/*' -d target/classes $(find src -name '*.java')
java -cp 'target/classes:target/lib/*' org.apache.kafka.connect.runtime.distributed.Generate ..
