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
# Needs Java 17 and Maven.
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

log() { printf 'hdfs: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# wait_for SECONDS COMMAND...: polls COMMAND every 0.2 s until it succeeds; fails when SECONDS pass.
wait_for() {
	local secs=$1
	shift
	local deadline=$((SECONDS + secs))
	until "$@"; do
		((SECONDS < deadline)) || return 1
		sleep 0.2
	done
}

# build fetches the jars and compiles the launcher; the marker holds the checksums of the pom and
# the launcher, so changing either rebuilds.
build() {
	local want
	want="$(cat "$REPO_ROOT/scripts/hdfs/pom.xml" "$REPO_ROOT/scripts/hdfs/MiniHdfs.java" | sha256sum | cut -d' ' -f1)"
	[[ "$(cat "$HOME_DIR/.complete" 2>/dev/null)" == "$want" ]] && return 0
	command -v java >/dev/null && command -v javac >/dev/null && command -v mvn >/dev/null ||
		die "building the HDFS launcher needs java, javac and mvn"
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

hdfs_pid() {
	local pid
	pid="$(cat "$PID_FILE" 2>/dev/null)" || return 1
	[[ -n $pid ]] && grep -qs 'MiniHdfs' "/proc/$pid/cmdline" && echo "$pid"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$NN_PORT") 2>/dev/null; }

# ready: the launcher writes READY only after the namenode left safe mode and the datanode
# registered (MiniDFSCluster.waitActive).
hdfs_ready() { [[ -s $READY ]] && port_open; }

hdfs_up_or_dead() { ! hdfs_pid >/dev/null || hdfs_ready; }

start_hdfs() {
	build
	mkdir -p "$STATE"
	if hdfs_pid >/dev/null && hdfs_ready; then
		return 0
	fi
	stop_hdfs
	port_open && die "port $NN_PORT is taken by something that is not our HDFS"
	log "starting MiniDFSCluster on 127.0.0.1:$NN_PORT"
	rm -rf "$STATE/data" "$READY"
	setsid java -Xmx384m -XX:+ExitOnOutOfMemoryError -cp "$HOME_DIR/libs/*:$HOME_DIR/classes" \
		MiniHdfs "$NN_PORT" "$STATE/data" "$READY" </dev/null >"$LOG" 2>&1 &
	echo $! >"$PID_FILE"
	wait_for 120 hdfs_up_or_dead || true
	if ! hdfs_ready; then
		tail -n 30 "$LOG" >&2 || true
		die "HDFS did not come up, see $LOG"
	fi
}

stop_hdfs() {
	local pid
	if pid="$(hdfs_pid)"; then
		log "stopping HDFS (pid $pid)"
		kill -TERM "$pid"
		wait_for 30 bash -c "! kill -0 $pid 2>/dev/null" || kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -f "$PID_FILE" "$READY"
}

env_line() { printf "export %s='%s'\n" "$1" "${2//\'/\'\\\'\'}"; }

start() {
	mkdir -p "$CACHE"
	local url="${KCONNECT_TEST_HDFS:-}"
	if [[ -z $url ]]; then
		(start_hdfs) && url="$URL" || log "HDFS not provisioned; tests needing it will skip"
	fi
	{
		echo "# Written by kconnect scripts/hdfs.sh; read by internal/testenv."
		[[ -n $url ]] && env_line KCONNECT_TEST_HDFS "$url"
	} >"$ENV_FILE.tmp"
	if cmp -s "$ENV_FILE.tmp" "$ENV_FILE"; then rm -f "$ENV_FILE.tmp"; else mv -f "$ENV_FILE.tmp" "$ENV_FILE"; fi
}

case "${1:-start}" in
start) start ;;
stop) stop_hdfs ;;
*) die "usage: $0 [start|stop]" ;;
esac
