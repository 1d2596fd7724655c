#!/usr/bin/env bash
# Provisions a second Apache Kafka node, with security, for the TLS and SASL tests, on loopback only:
#
#   SASL_SSL  127.0.0.1:19192  SCRAM-SHA-512 (user kconnect) and OAUTHBEARER (upstream's unsecured
#                              tokens), server certificate signed by a test CA
#   SSL       127.0.0.1:19193  mutual TLS: a client certificate signed by the test CA is required
#   (internal PLAINTEXT 127.0.0.1:19195 between the node and itself, controller 127.0.0.1:19194)
#
# It reuses the Kafka jars scripts/testenv.sh fetched ($KCONNECT_CACHE/kafka-$VERSION/libs), makes
# the test CA and certificates once with openssl and keytool (PEM, PKCS12 and JKS, as clients may
# use any), and writes $KCONNECT_CACHE/kafka-secure.env with the KCONNECT_TEST_KAFKA_SECURE_*
# variables internal/testenv reads. Idempotent: quick when the node is up.
#
# Usage: scripts/kafka-secure.sh [start|stop]
set -euo pipefail

readonly CACHE="${KCONNECT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kconnect}"
readonly VERSION="${KCONNECT_KAFKA_VERSION:-4.3.1}"
readonly LIBS="$CACHE/kafka-$VERSION/libs"
# Not under state/kafka-*: scripts/testenv.sh stops every broker it finds there.
readonly DIR="$CACHE/state/secure-kafka-$VERSION"
readonly PKI="$DIR/pki"
readonly PID_FILE="$DIR/kafka.pid"
readonly LOG_FILE="$DIR/server.log"
readonly ENV_FILE="$CACHE/kafka-secure.env"

readonly SASL_PORT=19192 SSL_PORT=19193 CONTROLLER_PORT=19194 INTERNAL_PORT=19195
readonly STORE_PASS=kconnect-store
readonly SCRAM_USER=kconnect SCRAM_PASS=kconnect-scram-secret

readonly SERVICE=kafka-secure
# shellcheck source=lib/service.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/service.sh"

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

kafka_pid() {
	local pid
	pid="$(cat "$PID_FILE" 2>/dev/null)" || return 1
	[[ -n $pid ]] && grep -qs 'kafka\.Kafka' "/proc/$pid/cmdline" && echo "$pid"
}

readonly JAVA=(java -Xms128m -Xmx512m -XX:+UseG1GC -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true
	-Dlog4j2.configurationFile="$DIR/log4j2.properties" -cp "$LIBS/*")

# make_pki: a CA, the node's certificate (for 127.0.0.1 and localhost) and a client certificate,
# as the files the tests configure clients with. Made once; delete $PKI to make new ones.
make_pki() {
	[[ -f $PKI/.complete ]] && return 0
	command -v openssl >/dev/null && command -v keytool >/dev/null || die "need openssl and keytool"
	rm -rf "$PKI"
	mkdir -p "$PKI"
	(
		cd "$PKI"
		openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj '/CN=kconnect test CA' \
			-keyout ca.key -out ca.pem 2>/dev/null
		local name
		for name in server client; do
			openssl req -newkey rsa:2048 -nodes -subj "/CN=kconnect-$name" -keyout "$name.key" -out "$name.csr" 2>/dev/null
			printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n' >"$name.ext"
			openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 \
				-extfile "$name.ext" -out "$name.crt" 2>/dev/null
			openssl pkcs12 -export -in "$name.crt" -inkey "$name.key" -certfile ca.pem -name "$name" \
				-passout "pass:$STORE_PASS" -out "$name.p12"
		done
		# The client's PEM keystore as upstream's ssl.keystore.type=PEM reads it: an encrypted
		# PKCS#8 key (ssl.key.password) and the certificate chain.
		openssl pkcs8 -topk8 -in client.key -v2 aes-256-cbc -passout "pass:$STORE_PASS" -out client-key.pem
		cat client-key.pem client.crt ca.pem >client.pem
		keytool -importcert -noprompt -alias ca -file ca.pem -keystore truststore.p12 -storetype PKCS12 \
			-storepass "$STORE_PASS" >/dev/null 2>&1
		keytool -importcert -noprompt -alias ca -file ca.pem -keystore truststore.jks -storetype JKS \
			-storepass "$STORE_PASS" >/dev/null 2>&1
		rm -f ./*.csr ./*.ext ./*.srl ca.key client.key
	)
	touch "$PKI/.complete"
}

write_config() {
	mkdir -p "$DIR"
	cat >"$DIR/server.properties" <<-EOF
		# Written by kconnect scripts/kafka-secure.sh; edits are overwritten.
		process.roles=broker,controller
		node.id=1
		controller.quorum.voters=1@127.0.0.1:$CONTROLLER_PORT
		listeners=SASL_SSL://127.0.0.1:$SASL_PORT,SSL://127.0.0.1:$SSL_PORT,INTERNAL://127.0.0.1:$INTERNAL_PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
		advertised.listeners=SASL_SSL://127.0.0.1:$SASL_PORT,SSL://127.0.0.1:$SSL_PORT,INTERNAL://127.0.0.1:$INTERNAL_PORT
		controller.listener.names=CONTROLLER
		inter.broker.listener.name=INTERNAL
		listener.security.protocol.map=CONTROLLER:PLAINTEXT,INTERNAL:PLAINTEXT,SASL_SSL:SASL_SSL,SSL:SSL
		ssl.keystore.type=PKCS12
		ssl.keystore.location=$PKI/server.p12
		ssl.keystore.password=$STORE_PASS
		ssl.truststore.type=PKCS12
		ssl.truststore.location=$PKI/truststore.p12
		ssl.truststore.password=$STORE_PASS
		listener.name.ssl.ssl.client.auth=required
		listener.name.sasl_ssl.ssl.client.auth=none
		sasl.enabled.mechanisms=SCRAM-SHA-512,OAUTHBEARER
		listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
		listener.name.sasl_ssl.oauthbearer.sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredLoginStringClaim_sub="broker";
		log.dirs=$DIR/data
		auto.create.topics.enable=true
		num.partitions=1
		default.replication.factor=1
		offsets.topic.replication.factor=1
		offsets.topic.num.partitions=3
		transaction.state.log.replication.factor=1
		transaction.state.log.min.isr=1
		transaction.state.log.num.partitions=3
		share.coordinator.state.topic.replication.factor=1
		share.coordinator.state.topic.min.isr=1
		group.initial.rebalance.delay.ms=0
	EOF
	cat >"$DIR/log4j2.properties" <<-EOF
		status = warn
		appender.file.type = RollingFile
		appender.file.name = file
		appender.file.fileName = $LOG_FILE
		appender.file.filePattern = $LOG_FILE.%i
		appender.file.policies.type = Policies
		appender.file.policies.size.type = SizeBasedTriggeringPolicy
		appender.file.policies.size.size = 20MB
		appender.file.strategy.type = DefaultRolloverStrategy
		appender.file.strategy.max = 1
		appender.file.layout.type = PatternLayout
		appender.file.layout.pattern = [%d] %p %m (%c)%n
		rootLogger.level = INFO
		rootLogger.appenderRef.file.ref = file
	EOF
}

ready() { kafka_pid >/dev/null && grep -qs 'Kafka Server started' "$LOG_FILE" && port_open 127.0.0.1 "$SASL_PORT"; }
# Dead means the pid is gone: right after the fork its command line is still this shell's.
up_or_dead() { pid_gone "$(cat "$PID_FILE")" || ready; }

start() {
	[[ -f $LIBS/.complete ]] || die "no Kafka jars in $LIBS; run scripts/testenv.sh first"
	command -v java >/dev/null || die "no java on PATH"
	make_pki
	write_config
	if kafka_pid >/dev/null && port_open 127.0.0.1 "$SASL_PORT"; then
		write_env
		return 0
	fi
	stop
	if [[ ! -f $DIR/data/meta.properties ]]; then
		log "formatting KRaft storage with SCRAM user $SCRAM_USER"
		rm -rf "$DIR/data"
		local cluster_id
		cluster_id="$("${JAVA[@]}" kafka.tools.StorageTool random-uuid 2>>"$DIR/format.log")" ||
			die "random-uuid failed, see $DIR/format.log"
		"${JAVA[@]}" kafka.tools.StorageTool format -t "$cluster_id" -c "$DIR/server.properties" \
			--add-scram "SCRAM-SHA-512=[name=$SCRAM_USER,password=$SCRAM_PASS]" \
			>>"$DIR/format.log" 2>&1 || die "format failed, see $DIR/format.log"
	fi
	local port
	for port in $SASL_PORT $SSL_PORT $CONTROLLER_PORT $INTERNAL_PORT; do
		port_open 127.0.0.1 "$port" && die "port $port is taken by something that is not our Kafka"
	done
	log "starting Apache Kafka $VERSION with SASL_SSL on 127.0.0.1:$SASL_PORT and SSL on 127.0.0.1:$SSL_PORT"
	[[ -f $LOG_FILE ]] && mv -f "$LOG_FILE" "$LOG_FILE.1"
	setsid "${JAVA[@]}" kafka.Kafka "$DIR/server.properties" </dev/null >"$DIR/stdout.log" 2>&1 &
	echo $! >"$PID_FILE"
	wait_for 90 up_or_dead || true
	if ! ready; then
		tail -n 30 "$LOG_FILE" "$DIR/stdout.log" >&2 2>/dev/null || true
		die "Kafka did not come up, see $LOG_FILE and $DIR/stdout.log"
	fi
	write_env
}

write_env() {
	{
		env_line KCONNECT_TEST_KAFKA_SECURE_SASL_SSL "127.0.0.1:$SASL_PORT"
		env_line KCONNECT_TEST_KAFKA_SECURE_SSL "127.0.0.1:$SSL_PORT"
		env_line KCONNECT_TEST_KAFKA_SECURE_PKI "$PKI"
		env_line KCONNECT_TEST_KAFKA_SECURE_STORE_PASSWORD "$STORE_PASS"
		env_line KCONNECT_TEST_KAFKA_SECURE_USER "$SCRAM_USER"
		env_line KCONNECT_TEST_KAFKA_SECURE_PASSWORD "$SCRAM_PASS"
	} >"$ENV_FILE.tmp"
	if cmp -s "$ENV_FILE.tmp" "$ENV_FILE"; then rm -f "$ENV_FILE.tmp"; else mv -f "$ENV_FILE.tmp" "$ENV_FILE"; fi
}

stop() {
	local pid
	if pid="$(kafka_pid)"; then
		log "stopping Kafka (pid $pid)"
		kill -TERM "$pid"
		if ! wait_for 60 pid_gone "$pid"; then
			log "Kafka ignored SIGTERM for 60 s; killing it"
			kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	rm -f "$PID_FILE"
}

case "${1:-start}" in
start) start ;;
stop) stop ;;
*) die "usage: $0 [start|stop]" ;;
esac
