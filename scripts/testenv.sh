#!/usr/bin/env bash
# Provisions the services the kconnect tests run against, on loopback only:
#
#   PostgreSQL  127.0.0.1:15432  Debian cluster "kconnect" (pg_ctlcluster), wal_level=logical
#   MariaDB     127.0.0.1:13306  own datadir under $STATE/mariadb, binlog on, binlog_format=ROW
#   Kafka       127.0.0.1:19092  Apache Kafka 4.x from Maven Central, KRaft combined node
#                                (controller on 127.0.0.1:19093)
#
# and writes $KCONNECT_CACHE/testenv.env with the KCONNECT_TEST_* variables
# that internal/testenv reads. A service whose variable is already set in the
# environment is not provisioned: the given value is written instead, so you
# can bring your own (see docs/testing.md). A service that cannot be
# provisioned is reported and skipped; the rest still come up.
#
# Usage: scripts/testenv.sh [start|stop]
#   start (default)  provision and start everything (idempotent, quick when warm)
#   stop             stop the services this script started
#
# Knobs: KCONNECT_CACHE (default ${XDG_CACHE_HOME:-$HOME/.cache}/kconnect),
#        KCONNECT_KAFKA_VERSION (default 4.3.1, must match scripts/kafka/pom.xml's default).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly REPO_ROOT
readonly CACHE="${KCONNECT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kconnect}"
readonly STATE="$CACHE/state"
readonly ENV_FILE="$CACHE/testenv.env"

readonly PG_CLUSTER=kconnect
readonly PG_PORT=15432
readonly PG_SUPER_USER=kconnect PG_SUPER_PASS=kconnect
readonly PG_REPL_USER=kconnect_repl PG_REPL_PASS=kconnect_repl

readonly MY_PORT=13306
readonly MY_USER=kconnect MY_PASS=kconnect
readonly MY_DIR="$STATE/mariadb"
readonly MY_CNF="$MY_DIR/my.cnf"

readonly KAFKA_VERSION="${KCONNECT_KAFKA_VERSION:-4.3.1}"
readonly KAFKA_PORT=19092 KAFKA_CONTROLLER_PORT=19093
readonly KAFKA_LIBS="$CACHE/kafka-$KAFKA_VERSION/libs"
readonly KAFKA_DIR="$STATE/kafka-$KAFKA_VERSION"
readonly KAFKA_PID="$KAFKA_DIR/kafka.pid"
readonly KAFKA_LOG="$KAFKA_DIR/server.log"

log() { printf 'testenv: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

is_root() { [[ $(id -u) -eq 0 ]]; }

# port_open HOST PORT: whether something accepts TCP connections there.
port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

pid_gone() { ! kill -0 "$1" 2>/dev/null; }

# write_if_changed FILE: replaces FILE with stdin unless identical, so that
# mtimes (which go test's cache and restart decisions look at) stay put.
# Returns 0 when the file changed.
write_if_changed() {
	local file=$1 tmp
	tmp="$(mktemp "$file.XXXXXX")"
	cat >"$tmp"
	if [[ -f $file ]] && cmp -s "$tmp" "$file"; then
		rm -f "$tmp"
		return 1
	fi
	chmod 0644 "$tmp"
	mv -f "$tmp" "$file"
}

# apt_install PKG...: installs Debian packages, refreshing the package lists
# only when a package has no install candidate or the first attempt fails
# (stale lists point at files the mirror no longer has).
apt_install() {
	is_root || die "need root to apt-get install $*"
	command -v apt-get >/dev/null || die "no apt-get here to install $*"
	export DEBIAN_FRONTEND=noninteractive
	local pkg
	for pkg in "$@"; do
		# (no grep -q in the pipe: its early exit would fail the pipeline under pipefail)
		if [[ $(apt-cache policy "$pkg" 2>/dev/null) != *"Candidate: "[!\(]* ]]; then
			log "apt-get update (no candidate for $pkg)"
			apt-get update -q >/dev/null
			break
		fi
	done
	log "apt-get install $*"
	if ! apt-get install -y -q --no-install-recommends "$@" >"$STATE/apt.log" 2>&1; then
		log "apt-get install failed; retrying after apt-get update"
		apt-get update -q >/dev/null
		apt-get install -y -q --no-install-recommends "$@" >"$STATE/apt.log" 2>&1 ||
			die "apt-get install $* failed, see $STATE/apt.log"
	fi
}

# wait_for SECONDS COMMAND...: polls COMMAND every 0.2 s until it succeeds;
# fails when SECONDS pass first.
wait_for() {
	local secs=$1
	shift
	local deadline=$((SECONDS + secs))
	until "$@"; do
		((SECONDS < deadline)) || return 1
		sleep 0.2
	done
}

# ---------------------------------------------------------------- PostgreSQL

# pg_version: the major version of our cluster if it exists, else the newest
# installed server.
pg_version() {
	local bin existing
	existing="$(pg_lsclusters -h 2>/dev/null | awk -v c="$PG_CLUSTER" '$2 == c {print $1; exit}')" || true
	[[ -n $existing ]] && { echo "$existing"; return; }
	bin="$(find /usr/lib/postgresql -mindepth 3 -maxdepth 3 -path '*/bin/postgres' 2>/dev/null | sort -V | tail -n1)"
	[[ -n $bin ]] && basename "$(dirname "$(dirname "$bin")")"
}

pg_psql() { (cd / && runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -p "$PG_PORT" -d postgres "$@"); }

pg_online() { pg_lsclusters -h "$1" "$PG_CLUSTER" 2>/dev/null | awk '$4 ~ /^online/ {up = 1} END {exit !up}'; }

provision_postgres() {
	is_root || die "PostgreSQL: need root to create and start a Debian cluster"
	local ver
	ver="$(pg_version || true)"
	if [[ -z $ver ]] || ! command -v pg_createcluster >/dev/null; then
		apt_install postgresql
		ver="$(pg_version)" || die "PostgreSQL installed but no server binary under /usr/lib/postgresql"
	fi
	# gdb stops a walsender inside a PostgreSQL race in the CDC hand-off test
	# (connectors/postgres/slotwindow_test.go).
	command -v gdb >/dev/null || apt_install gdb
	local conf="/etc/postgresql/$ver/$PG_CLUSTER"
	if [[ ! -f $conf/postgresql.conf ]]; then
		log "creating PostgreSQL $ver cluster $PG_CLUSTER on port $PG_PORT"
		pg_createcluster "$ver" "$PG_CLUSTER" --port="$PG_PORT" --start-conf=manual \
			-- --auth-local=peer --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >/dev/null
	fi
	local changed=0
	# Throwaway test data: durability is traded for speed. The slot/sender
	# limits leave room for many CDC tests running in parallel, and
	# max_slot_wal_keep_size stops a leaked slot from filling the disk.
	write_if_changed "$conf/conf.d/kconnect.conf" <<-EOF && changed=1
		# Written by kconnect scripts/testenv.sh; edits are overwritten.
		listen_addresses = '127.0.0.1'
		port = $PG_PORT
		max_connections = 200
		wal_level = logical
		max_replication_slots = 40
		max_wal_senders = 40
		max_slot_wal_keep_size = '2GB'
		fsync = off
		synchronous_commit = off
		full_page_writes = off
	EOF
	write_if_changed "$conf/pg_hba.conf" <<-EOF && changed=1
		# Written by kconnect scripts/testenv.sh; edits are overwritten.
		local   all          all                       peer
		host    all          all          127.0.0.1/32 scram-sha-256
		local   replication  all                       peer
		host    replication  all          127.0.0.1/32 scram-sha-256
	EOF
	if pg_online "$ver" && ((changed)); then
		log "PostgreSQL configuration changed; restarting cluster $PG_CLUSTER"
		pg_ctlcluster "$ver" "$PG_CLUSTER" restart
	elif ! pg_online "$ver"; then
		log "starting PostgreSQL $ver cluster $PG_CLUSTER"
		pg_ctlcluster "$ver" "$PG_CLUSTER" start ||
			die "PostgreSQL did not start, see /var/log/postgresql/postgresql-$ver-$PG_CLUSTER.log"
	fi
	wait_for 30 pg_psql -c 'SELECT 1' >/dev/null ||
		die "PostgreSQL does not answer, see /var/log/postgresql/postgresql-$ver-$PG_CLUSTER.log"
	# The REPLICATION role deliberately has nothing else: CDC code must work
	# with the privileges a production replication user would get.
	pg_psql -f - <<-EOF
		SET client_min_messages = warning;
		DO \$\$
		BEGIN
			IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$PG_SUPER_USER') THEN
				CREATE ROLE $PG_SUPER_USER;
			END IF;
			IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$PG_REPL_USER') THEN
				CREATE ROLE $PG_REPL_USER;
			END IF;
		END
		\$\$;
		ALTER ROLE $PG_SUPER_USER WITH LOGIN SUPERUSER PASSWORD '$PG_SUPER_PASS';
		ALTER ROLE $PG_REPL_USER WITH LOGIN REPLICATION NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '$PG_REPL_PASS';
	EOF
}

stop_postgres() {
	local ver
	ver="$(pg_version || true)"
	if [[ -n $ver ]] && pg_online "$ver"; then
		log "stopping PostgreSQL cluster $PG_CLUSTER"
		pg_ctlcluster "$ver" "$PG_CLUSTER" stop
	fi
}

# ------------------------------------------------------------------- MariaDB

my_admin() { mariadb-admin --defaults-file="$MY_CNF" --user=root "$@"; }
my_ping() { my_admin --connect-timeout=2 ping >/dev/null 2>&1; }
my_up_or_dead() { my_ping || pid_gone "$1"; }

provision_mariadb() {
	if ! command -v mariadbd >/dev/null && [[ ! -x /usr/sbin/mariadbd ]]; then
		apt_install mariadb-server
	fi
	local daemon user
	daemon="$(command -v mariadbd || echo /usr/sbin/mariadbd)"
	user="$(id -un)"
	mkdir -p "$MY_DIR/binlog"
	# Our own instance with --no-defaults semantics (a private defaults
	# file), so that whatever /etc/mysql says cannot interfere.
	local changed=0
	write_if_changed "$MY_CNF" <<-EOF && changed=1
		# Written by kconnect scripts/testenv.sh; edits are overwritten.
		[client]
		socket = $MY_DIR/mariadb.sock
		[mariadbd]
		user = $user
		datadir = $MY_DIR/data
		socket = $MY_DIR/mariadb.sock
		pid-file = $MY_DIR/mariadb.pid
		log-error = $MY_DIR/error.log
		bind-address = 127.0.0.1
		port = $MY_PORT
		skip-name-resolve
		character-set-server = utf8mb4
		collation-server = utf8mb4_general_ci
		server-id = 1
		log-bin = $MY_DIR/binlog/mariadb-bin
		binlog-format = ROW
		binlog-row-image = FULL
		binlog-expire-logs-seconds = 86400
		max-connections = 300
		innodb-buffer-pool-size = 256M
		innodb-flush-log-at-trx-commit = 2
		sync-binlog = 0
	EOF
	if ((changed)) && my_ping; then
		log "MariaDB configuration changed; restarting it"
		my_admin shutdown
	fi
	if ! my_ping; then
		if [[ ! -d $MY_DIR/data/mysql ]]; then
			log "initialising MariaDB datadir $MY_DIR/data"
			rm -rf "$MY_DIR/data"
			mariadb-install-db --defaults-file="$MY_CNF" --auth-root-authentication-method=socket \
				--skip-test-db >"$MY_DIR/install.log" 2>&1 ||
				die "mariadb-install-db failed, see $MY_DIR/install.log"
		fi
		port_open 127.0.0.1 "$MY_PORT" && die "port $MY_PORT is taken by something that is not our MariaDB"
		log "starting MariaDB on 127.0.0.1:$MY_PORT"
		setsid "$daemon" --defaults-file="$MY_CNF" </dev/null >>"$MY_DIR/stdout.log" 2>&1 &
		wait_for 60 my_up_or_dead $! || true
		my_ping || die "MariaDB did not come up, see $MY_DIR/error.log"
	fi
	mariadb --defaults-file="$MY_CNF" --user=root <<-EOF
		CREATE USER IF NOT EXISTS '$MY_USER'@'%' IDENTIFIED BY '$MY_PASS';
		CREATE USER IF NOT EXISTS '$MY_USER'@'localhost' IDENTIFIED BY '$MY_PASS';
		ALTER USER '$MY_USER'@'%' IDENTIFIED BY '$MY_PASS';
		ALTER USER '$MY_USER'@'localhost' IDENTIFIED BY '$MY_PASS';
		GRANT ALL PRIVILEGES ON *.* TO '$MY_USER'@'%' WITH GRANT OPTION;
		GRANT ALL PRIVILEGES ON *.* TO '$MY_USER'@'localhost' WITH GRANT OPTION;
	EOF
}

stop_mariadb() {
	[[ -f $MY_CNF ]] && command -v mariadb-admin >/dev/null || return 0
	if my_ping; then
		log "stopping MariaDB"
		my_admin shutdown
	fi
}

# --------------------------------------------------------------------- Kafka

# kafka_pid PIDFILE: prints the pid recorded there if it is a live broker.
kafka_pid() {
	local pid
	pid="$(cat "$1" 2>/dev/null)" || return 1
	[[ -n $pid ]] && grep -qs 'kafka\.Kafka' "/proc/$pid/cmdline" && echo "$pid"
}

kafka_running() { kafka_pid "$KAFKA_PID" >/dev/null; }

# The JVM command line shared by the storage tool and the broker; a modest
# heap, as the node serves tests on a 2-core machine.
readonly KAFKA_JAVA=(java -Xms256m -Xmx1g -XX:+UseG1GC -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true
	-Dlog4j2.configurationFile="$KAFKA_DIR/log4j2.properties" -cp "$KAFKA_LIBS/*")

fetch_kafka() {
	[[ -f $KAFKA_LIBS/.complete ]] && return 0
	if ! command -v java >/dev/null || ! command -v mvn >/dev/null; then
		apt_install openjdk-17-jre-headless maven
	fi
	log "fetching Apache Kafka $KAFKA_VERSION from Maven Central into $KAFKA_LIBS"
	local tmp="$KAFKA_LIBS.tmp"
	rm -rf "$tmp"
	mkdir -p "$tmp" "$(dirname "$KAFKA_LIBS")"
	mvn -q -B -Dstyle.color=never -f "$REPO_ROOT/scripts/kafka/pom.xml" \
		-Dkafka.version="$KAFKA_VERSION" -DoutputDirectory="$tmp" \
		dependency:copy-dependencies >"$tmp.log" 2>&1 ||
		die "Maven could not fetch Kafka $KAFKA_VERSION, see $tmp.log"
	[[ -f $tmp/kafka_2.13-$KAFKA_VERSION.jar ]] || die "Maven did not deliver kafka_2.13-$KAFKA_VERSION.jar, see $tmp.log"
	touch "$tmp/.complete"
	rm -rf "$KAFKA_LIBS" "$tmp.log"
	mv "$tmp" "$KAFKA_LIBS"
}

provision_kafka() {
	fetch_kafka
	command -v java >/dev/null || die "Kafka: no java on PATH"
	mkdir -p "$KAFKA_DIR"
	local changed=0
	write_if_changed "$KAFKA_DIR/server.properties" <<-EOF && changed=1
		# Written by kconnect scripts/testenv.sh; edits are overwritten.
		process.roles=broker,controller
		node.id=1
		controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
		listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
		advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
		controller.listener.names=CONTROLLER
		inter.broker.listener.name=PLAINTEXT
		listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
		log.dirs=$KAFKA_DIR/data
		auto.create.topics.enable=true
		delete.topic.enable=true
		num.partitions=1
		default.replication.factor=1
		offsets.topic.replication.factor=1
		offsets.topic.num.partitions=5
		transaction.state.log.replication.factor=1
		transaction.state.log.min.isr=1
		transaction.state.log.num.partitions=5
		share.coordinator.state.topic.replication.factor=1
		share.coordinator.state.topic.min.isr=1
		group.initial.rebalance.delay.ms=0
	EOF
	write_if_changed "$KAFKA_DIR/log4j2.properties" <<-EOF && changed=1
		status = warn
		appender.file.type = RollingFile
		appender.file.name = file
		appender.file.fileName = $KAFKA_LOG
		appender.file.filePattern = $KAFKA_LOG.%i
		appender.file.policies.type = Policies
		appender.file.policies.size.type = SizeBasedTriggeringPolicy
		appender.file.policies.size.size = 50MB
		appender.file.strategy.type = DefaultRolloverStrategy
		appender.file.strategy.max = 2
		appender.file.layout.type = PatternLayout
		appender.file.layout.pattern = [%d] %p %m (%c)%n
		rootLogger.level = INFO
		rootLogger.appenderRef.file.ref = file
		logger.controller.name = org.apache.kafka.controller
		logger.controller.level = WARN
	EOF
	if kafka_running; then
		((changed)) || { port_open 127.0.0.1 "$KAFKA_PORT" && return 0; }
		log "restarting Kafka (configuration changed or port $KAFKA_PORT not answering)"
	fi
	stop_kafka # also a broker of another KCONNECT_KAFKA_VERSION holding the ports
	if [[ ! -f $KAFKA_DIR/data/meta.properties ]]; then
		log "formatting KRaft storage in $KAFKA_DIR/data"
		rm -rf "$KAFKA_DIR/data"
		local cluster_id
		cluster_id="$("${KAFKA_JAVA[@]}" kafka.tools.StorageTool random-uuid 2>>"$KAFKA_DIR/format.log")" ||
			die "kafka-storage random-uuid failed, see $KAFKA_DIR/format.log"
		"${KAFKA_JAVA[@]}" kafka.tools.StorageTool format -t "$cluster_id" -c "$KAFKA_DIR/server.properties" \
			>>"$KAFKA_DIR/format.log" 2>&1 || die "kafka-storage format failed, see $KAFKA_DIR/format.log"
	fi
	port_open 127.0.0.1 "$KAFKA_PORT" && die "port $KAFKA_PORT is taken by something that is not our Kafka"
	log "starting Apache Kafka $KAFKA_VERSION on 127.0.0.1:$KAFKA_PORT"
	[[ -f $KAFKA_LOG ]] && mv -f "$KAFKA_LOG" "$KAFKA_LOG.1"
	setsid "${KAFKA_JAVA[@]}" kafka.Kafka "$KAFKA_DIR/server.properties" </dev/null >"$KAFKA_DIR/stdout.log" 2>&1 &
	echo $! >"$KAFKA_PID"
	# "Kafka Server started" is logged once the broker has registered with
	# the controller and serves requests; the port check guards the rest.
	wait_for 90 kafka_up_or_dead || true
	if ! kafka_ready; then
		tail -n 30 "$KAFKA_LOG" "$KAFKA_DIR/stdout.log" >&2 2>/dev/null || true
		die "Kafka did not come up, see $KAFKA_LOG and $KAFKA_DIR/stdout.log"
	fi
}

kafka_ready() {
	kafka_running && grep -qs 'Kafka Server started' "$KAFKA_LOG" && port_open 127.0.0.1 "$KAFKA_PORT"
}

# Dead means the pid is gone: right after the fork its command line is still this shell's.
kafka_up_or_dead() { pid_gone "$(cat "$KAFKA_PID")" || kafka_ready; }

# stop_kafka: stops every broker this script started, whatever its version.
stop_kafka() {
	local pidfile pid
	for pidfile in "$STATE"/kafka-*/kafka.pid; do
		if pid="$(kafka_pid "$pidfile")"; then
			log "stopping Kafka (pid $pid)"
			kill -TERM "$pid"
			if ! wait_for 60 pid_gone "$pid"; then
				log "Kafka ignored SIGTERM for 60 s; killing it"
				kill -KILL "$pid" 2>/dev/null || true
			fi
		fi
		rm -f "$pidfile"
	done
}

# ---------------------------------------------------------------------- main

# provision NAME VAR FUNC: runs FUNC in a subshell (so one failing service
# does not stop the others) unless the user already set VAR.
# Sets PROVISIONED to 1 on success.
provision() {
	local name=$1 var=$2 fn=$3
	PROVISIONED=0
	if [[ -n ${!var:-} ]]; then
		log "$name: using $var from the environment"
		return 0
	fi
	set +e
	(
		set -e
		"$fn"
	)
	local rc=$?
	set -e
	if ((rc == 0)); then
		PROVISIONED=1
	else
		log "$name could NOT be provisioned; tests that need it will skip (or fail under CI=true)."
		log "  Point them at your own instance with $var (e.g. after 'docker compose up -d', see docs/testing.md)."
		FAILED+=("$name")
	fi
}

# env_line VAR VALUE: a shell-sourceable export, single-quoted.
env_line() { printf "export %s='%s'\n" "$1" "${2//\'/\'\\\'\'}"; }

start() {
	mkdir -p "$STATE"
	FAILED=()
	local pg_dsn="${KCONNECT_TEST_POSTGRES_DSN:-}" pg_repl="${KCONNECT_TEST_POSTGRES_REPL_DSN:-}"
	provision PostgreSQL KCONNECT_TEST_POSTGRES_DSN provision_postgres
	if ((PROVISIONED)); then
		pg_dsn="postgres://$PG_SUPER_USER:$PG_SUPER_PASS@127.0.0.1:$PG_PORT/postgres?sslmode=disable"
		pg_repl="postgres://$PG_REPL_USER:$PG_REPL_PASS@127.0.0.1:$PG_PORT/postgres?sslmode=disable"
	fi
	local my_dsn="${KCONNECT_TEST_MYSQL_DSN:-}"
	provision MariaDB KCONNECT_TEST_MYSQL_DSN provision_mariadb
	((PROVISIONED)) && my_dsn="$MY_USER:$MY_PASS@tcp(127.0.0.1:$MY_PORT)/"
	local kafka="${KCONNECT_TEST_KAFKA:-}"
	provision Kafka KCONNECT_TEST_KAFKA provision_kafka
	((PROVISIONED)) && kafka="127.0.0.1:$KAFKA_PORT"

	{
		echo "# Written by scripts/testenv.sh: the services kconnect's tests use."
		[[ -n $pg_dsn ]] && env_line KCONNECT_TEST_POSTGRES_DSN "$pg_dsn"
		[[ -n $pg_repl ]] && env_line KCONNECT_TEST_POSTGRES_REPL_DSN "$pg_repl"
		[[ -n $my_dsn ]] && env_line KCONNECT_TEST_MYSQL_DSN "$my_dsn"
		[[ -n $kafka ]] && env_line KCONNECT_TEST_KAFKA "$kafka"
		true
	} | write_if_changed "$ENV_FILE" || true
	if ((${#FAILED[@]})); then
		log "ready, WITHOUT: ${FAILED[*]}; environment in $ENV_FILE"
	else
		log "ready; environment in $ENV_FILE"
	fi
}

stop() {
	stop_kafka
	stop_mariadb
	is_root && command -v pg_lsclusters >/dev/null && stop_postgres
	log "stopped"
}

case "${1:-start}" in
start) start ;;
stop) stop ;;
*) die "usage: $0 [start|stop]" ;;
esac
