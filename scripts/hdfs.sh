#!/usr/bin/env bash
# Provisions the HDFS the storage sink's tests run against, on loopback only:
#
#   HDFS  hdfs://127.0.0.1:19000  MiniDFSCluster from Maven Central's hadoop-client-minicluster
#                                 3.4.1: one namenode (fixed port), one datanode (random ports),
#                                 formatted on every start, dfs.permissions.enabled=false
#
# and writes $KCONNECT_CACHE/hdfs.env with KCONNECT_TEST_HDFS, which internal/testenv reads next
# to testenv.env. A KCONNECT_TEST_HDFS already set in the environment is written as given and no
# cluster is started. Idempotent: quick when the cluster is up; the first run fetches about 90 MB
# with Maven (scripts/hdfs/pom.xml) and compiles scripts/hdfs/MiniHdfs.java, in the cache.
# Needs Java 17 and Maven; as root, installs openjdk-17-jdk-headless when javac is missing.
#
# Usage: scripts/hdfs.sh [start|stop]
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly REPO_ROOT
readonly CACHE="${KCONNECT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kconnect}"
readonly STATE="$CACHE/state/hdfs"
readonly ENV_FILE="$CACHE/hdfs.env"

readonly HADOOP_VERSION=3.4.1
readonly NN_PORT=19000
readonly HOME_DIR="$CACHE/hdfs-$HADOOP_VERSION"
readonly PID_FILE="$STATE/hdfs.pid"
readonly LOG="$STATE/hdfs.log"
readonly READY="$STATE/ready"
readonly URL="hdfs://127.0.0.1:$NN_PORT"
readonly SERVICE=hdfs
readonly PATTERN=MiniHdfs

# shellcheck source=lib/service.sh
. "$REPO_ROOT/scripts/lib/service.sh"


# build fetches the jars and compiles the launcher; the marker holds the checksums of the pom and
# the launcher, so changing either rebuilds.
build() {
	local want
	want="$(cat "$REPO_ROOT/scripts/hdfs/pom.xml" "$REPO_ROOT/scripts/hdfs/MiniHdfs.java" | sha256sum | cut -d' ' -f1)"
	[[ "$(cat "$HOME_DIR/.complete" 2>/dev/null)" == "$want" ]] && return 0
	command -v java >/dev/null && command -v mvn >/dev/null || die "building the HDFS launcher needs java and mvn"
	# scripts/testenv.sh installs Java as a JRE, which has no compiler.
	if ! command -v javac >/dev/null; then
		((EUID == 0)) && command -v apt-get >/dev/null || die "compiling the HDFS launcher needs javac (apt-get install openjdk-17-jdk-headless)"
		log "installing openjdk-17-jdk-headless for javac"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q openjdk-17-jdk-headless >"$HOME_DIR.apt.log" 2>&1 ||
			die "apt-get install openjdk-17-jdk-headless failed, see $HOME_DIR.apt.log"
	fi
	local tmp="$HOME_DIR.tmp"
	rm -rf "$tmp"
	mkdir -p "$tmp/classes"
	log "fetching hadoop-client-minicluster $HADOOP_VERSION from Maven Central"
	mvn -q -B -Dstyle.color=never -f "$REPO_ROOT/scripts/hdfs/pom.xml" dependency:copy-dependencies \
		-DoutputDirectory="$tmp/libs" >"$tmp.log" 2>&1 || die "Maven could not fetch the jars, see $tmp.log"
	javac -d "$tmp/classes" -cp "$tmp/libs/*" "$REPO_ROOT/scripts/hdfs/MiniHdfs.java" >>"$tmp.log" 2>&1 ||
		die "compiling MiniHdfs.java failed, see $tmp.log"
	echo "$want" >"$tmp/.complete"
	rm -rf "$HOME_DIR" "$tmp.log"
	mv "$tmp" "$HOME_DIR"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$NN_PORT") 2>/dev/null; }

# hdfs_ready: the launcher writes READY only after the namenode left safe mode and the datanode
# registered (MiniDFSCluster.waitActive).
hdfs_ready() { [[ -s $READY ]] && port_open; }

start_hdfs() {
	build
	mkdir -p "$STATE"
	if daemon_pid "$PID_FILE" "$PATTERN" >/dev/null && hdfs_ready; then
		return 0
	fi
	stop_daemon "$PID_FILE" "$PATTERN"
	port_open && die "port $NN_PORT is taken by something that is not our HDFS"
	log "starting MiniDFSCluster on 127.0.0.1:$NN_PORT"
	rm -rf "$STATE/data" "$READY"
	start_daemon "$PID_FILE" "$LOG" java -Xmx384m -XX:+ExitOnOutOfMemoryError \
		-cp "$HOME_DIR/libs/*:$HOME_DIR/classes" MiniHdfs "$NN_PORT" "$STATE/data" "$READY"
	await_daemon "$PID_FILE" "$PATTERN" 120 "$LOG" hdfs_ready
}

stop_hdfs() {
	stop_daemon "$PID_FILE" "$PATTERN"
	rm -f "$READY"
}

start() {
	mkdir -p "$CACHE"
	local url="${KCONNECT_TEST_HDFS:-}"
	if [[ -z $url ]]; then
		(start_hdfs) && url="$URL" || log "HDFS not provisioned; tests needing it will skip"
	fi
	write_env_file "$ENV_FILE" KCONNECT_TEST_HDFS "$url"
}

case "${1:-start}" in
start) start ;;
stop) stop_hdfs ;;
*) die "usage: $0 [start|stop]" ;;
esac
