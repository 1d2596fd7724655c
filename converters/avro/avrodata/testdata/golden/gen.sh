#!/bin/sh
# Regenerates the AvroData golden files in this directory from Confluent's own AvroData.
#
# Confluent's jars are not on Maven Central, so this compiles AvroData and the few classes it needs
# from a checkout of github.com/confluentinc/schema-registry at tag v7.9.9 (give its path), with
# two small stand-ins (stubs/) for registry classes AvroData only uses as a cache key and a map.
# Everything else (Apache Avro 1.11.4, Kafka's connect-api 3.9.1, the versions Confluent 7.9 ships
# with) comes from Maven Central through pom.xml. Needs Maven and JDK 17+.
#
#   converters/avro/avrodata/testdata/golden/gen.sh /path/to/schema-registry
set -eu
sr=${1:?usage: gen.sh /path/to/schema-registry-checkout}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if git -C "$sr" describe --tags --exact-match >/dev/null 2>&1; then
	tag=$(git -C "$sr" describe --tags --exact-match)
	[ "$tag" = v7.9.9 ] || echo "gen.sh: warning: $sr is at $tag, the goldens were made from v7.9.9" >&2
fi

mvn -q -f "$here/pom.xml" dependency:build-classpath -Dmdep.outputFile="$work/cp.txt"
cp=$(cat "$work/cp.txt")
mkdir "$work/classes"
javac --release 17 -nowarn -cp "$cp" -d "$work/classes" \
	$(find "$here/stubs" -name '*.java') \
	"$sr/avro-data/src/main/java/io/confluent/connect/avro/AvroData.java" \
	"$sr/avro-data/src/main/java/io/confluent/connect/avro/AvroDataConfig.java" \
	"$sr/schema-converter/src/main/java/io/confluent/connect/schema/AbstractDataConfig.java" \
	"$sr/schema-converter/src/main/java/io/confluent/connect/schema/ConnectEnum.java" \
	"$sr/schema-converter/src/main/java/io/confluent/connect/schema/ConnectUnion.java" \
	"$sr/avro-serializer/src/main/java/io/confluent/kafka/serializers/NonRecordContainer.java" \
	"$here/Gen.java"
java -cp "$work/classes:$cp" Gen "$here"
