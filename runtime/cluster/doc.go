// Package cluster is the group membership of distributed workers: Kafka Connect's group
// protocol encodings and its assignors.
package cluster
