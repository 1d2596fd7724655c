// Package faults holds the fault-injection suite: its tests run pipelines of the real kconnect
// binary under load, inject random faults (kill -9 and SIGSTOP of the worker, or of one of a
// distributed cluster's three workers, restarts of the databases and of the Kafka broker, killed
// database sessions, a full disk under the offsets file), and compare the destination with the
// source by key and checksum. See docs/testing.md.
package faults
