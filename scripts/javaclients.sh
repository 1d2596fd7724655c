#!/usr/bin/env bash
# Fetches Apache Kafka's own Java clients (tools, Kafka Connect runtime, file connectors) from
# Maven Central into $KCONNECT_CACHE/javaclients-$KCONNECT_KAFKA_VERSION/libs, once, and prints
# that directory. Idempotent: a complete download is marked with the pom's checksum and reused.
# Needs Java 17 and Maven.
# Tests find the jars there (or in $KCONNECT_TEST_JAVA_LIBS); see docs/testing.md.
set -euo pipefail

CACHE="${KCONNECT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kconnect}"
VERSION="${KCONNECT_KAFKA_VERSION:-4.3.1}"
LIBS="$CACHE/javaclients-$VERSION/libs"
POM="$(cd "$(dirname "$0")" && pwd)/javaclients/pom.xml"

# The marker holds the pom's checksum, so a changed pom fetches again.
want="$(sha256sum "$POM" | cut -d' ' -f1)"
if [[ "$(cat "$LIBS/.complete" 2>/dev/null)" != "$want" ]]; then
	command -v mvn >/dev/null || { echo "javaclients.sh: mvn not found (apt-get install maven)" >&2; exit 1; }
	tmp="$LIBS.tmp"
	rm -rf "$tmp"
	mkdir -p "$tmp"
	if ! mvn -q -f "$POM" dependency:copy-dependencies -Dkafka.version="$VERSION" \
		-DoutputDirectory="$tmp" >"$tmp.log" 2>&1; then
		echo "javaclients.sh: Maven could not fetch Kafka $VERSION clients, see $tmp.log" >&2
		exit 1
	fi
	echo "$want" >"$tmp/.complete"
	rm -rf "$LIBS" "$tmp.log"
	mv "$tmp" "$LIBS"
fi
echo "$LIBS"
