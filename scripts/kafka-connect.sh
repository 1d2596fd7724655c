#!/usr/bin/env bash
# Fetches Apache Kafka Connect from Maven Central for the tests that check kconnect's
# internal-topic stores against a real Kafka Connect worker: connect-runtime, connect-file,
# connect-json and a Log4j 2 backend, into $KCONNECT_CACHE/kafka-connect-$VERSION/libs (once;
# later runs return at once). Prints the line that points the tests at it:
#
#   export KCONNECT_TEST_KAFKA_CONNECT='<libs dir>'
#
# internal/testenv reads KCONNECT_TEST_KAFKA_CONNECT from the environment or from
# $KCONNECT_CACHE/testenv.env. The tests run the worker with
# `java -cp '<libs dir>/*' org.apache.kafka.connect.cli.ConnectDistributed` against the real
# broker (KCONNECT_TEST_BROKER=real).
#
# Needs java (17+) and mvn. Knobs: KCONNECT_CACHE (default ${XDG_CACHE_HOME:-$HOME/.cache}/kconnect),
# KCONNECT_KAFKA_VERSION (default 4.3.1, must match scripts/connect/pom.xml's default).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly REPO_ROOT
readonly CACHE="${KCONNECT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kconnect}"
readonly VERSION="${KCONNECT_KAFKA_VERSION:-4.3.1}"
readonly LIBS="$CACHE/kafka-connect-$VERSION/libs"

die() { printf 'kafka-connect: ERROR: %s\n' "$*" >&2; exit 1; }

if [[ ! -f $LIBS/.complete ]]; then
	command -v java >/dev/null || die "no java on PATH (apt-get install openjdk-17-jre-headless)"
	command -v mvn >/dev/null || die "no mvn on PATH (apt-get install maven)"
	printf 'kafka-connect: fetching Kafka Connect %s from Maven Central into %s\n' "$VERSION" "$LIBS" >&2
	tmp="$LIBS.tmp"
	rm -rf "$tmp"
	mkdir -p "$tmp"
	mvn -q -B -Dstyle.color=never -f "$REPO_ROOT/scripts/connect/pom.xml" \
		-Dkafka.version="$VERSION" -DoutputDirectory="$tmp" \
		dependency:copy-dependencies >"$tmp.log" 2>&1 ||
		die "Maven could not fetch Kafka Connect $VERSION, see $tmp.log"
	for jar in connect-runtime connect-file connect-json; do
		[[ -f $tmp/$jar-$VERSION.jar ]] || die "Maven did not deliver $jar-$VERSION.jar, see $tmp.log"
	done
	touch "$tmp/.complete"
	rm -rf "$LIBS" "$tmp.log"
	mv "$tmp" "$LIBS"
fi
printf "export KCONNECT_TEST_KAFKA_CONNECT='%s'\n" "$LIBS"
