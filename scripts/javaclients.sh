#!/usr/bin/env bash
# Fetches Apache Kafka's own Java clients (tools, Kafka Connect runtime, file connectors) from
# Maven Central into $KCONNECT_CACHE/javaclients-$KCONNECT_KAFKA_VERSION/libs, once, and prints
# that directory. Next to it, plugins/debezium-connector-jdbc gets Debezium's JDBC sink connector
# as a Kafka Connect plugin (plugin.path=.../plugins). Idempotent: a complete download is marked
# with its pom's checksum and reused. Needs Java 17 and Maven.
# Tests find the jars there (or in $KCONNECT_TEST_JAVA_LIBS); see docs/testing.md.
set -euo pipefail

CACHE="${KCONNECT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kconnect}"
VERSION="${KCONNECT_KAFKA_VERSION:-4.3.1}"
LIBS="$CACHE/javaclients-$VERSION/libs"
HERE="$(cd "$(dirname "$0")" && pwd)/javaclients"

# fetch DIR WHAT POM SETTINGS [MVN-ARGS...] copies POM's runtime dependencies into DIR unless
# DIR's marker holds the checksum of POM (and of the Maven SETTINGS file, if not ""), so a changed
# pom fetches again.
fetch() {
	local dir="$1" what="$2" pom="$3" settings="$4"
	shift 4
	local want
	want="$(cat "$pom" ${settings:+"$settings"} | sha256sum | cut -d' ' -f1)"
	[[ -z "$settings" ]] || set -- -s "$settings" "$@"
	[[ "$(cat "$dir/.complete" 2>/dev/null)" == "$want" ]] && return 0
	command -v mvn >/dev/null || { echo "javaclients.sh: mvn not found (apt-get install maven)" >&2; exit 1; }
	local tmp="$dir.tmp"
	rm -rf "$tmp"
	mkdir -p "$tmp"
	if ! mvn -q -f "$pom" "$@" dependency:copy-dependencies -DoutputDirectory="$tmp" >"$tmp.log" 2>&1; then
		echo "javaclients.sh: Maven could not fetch $what, see $tmp.log" >&2
		exit 1
	fi
	echo "$want" >"$tmp/.complete"
	rm -rf "$dir" "$tmp.log"
	mv "$tmp" "$dir"
}

fetch "$LIBS" "Kafka $VERSION clients" "$HERE/pom.xml" "" -Dkafka.version="$VERSION"
fetch "$CACHE/javaclients-$VERSION/plugins/debezium-connector-jdbc" "Debezium's JDBC sink" \
	"$HERE/debezium-jdbc/pom.xml" "$HERE/central-only.xml"
echo "$LIBS"
