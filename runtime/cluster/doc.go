// Package cluster is the group membership of distributed workers, compatible with Kafka
// Connect's: the "connect" group protocol encodings, the leader's assignors, and a group
// member built on franz-go requests.
//
// # Wire formats
//
// WorkerState (JoinGroup metadata) and Assignment (SyncGroup assignment) encode and decode
// byte for byte as upstream's ConnectProtocol (the eager "default" protocol, version 0) and
// IncrementalCooperativeConnectProtocol ("compatible", version 1, and "sessioned", version 2)
// do; JoinProtocols lists what a worker offers for its connect.protocol setting, in upstream's
// order of preference. testdata/gen regenerates the fixtures that prove it from
// connect-runtime itself.
//
// # Assignment
//
// An Assignor computes every member's Assignment from a Round: the members' metadata (each
// with what it runs now) and the leader's ConfigSnapshot (connector -> task count). Eager
// rounds deal everything round-robin; cooperative rounds move only what must move and hold a
// departed worker's work for scheduled.rebalance.max.delay.ms, as upstream's
// IncrementalCooperativeAssignor (replayed against it in testdata/assignor.json).
//
// # Membership, and how the distributed herder uses it
//
// The herder builds one Member per worker with NewMember (its own franz-go client, the worker's
// group.id, connect.protocol, rest.advertised URL, timeouts and a Config function returning its
// current ConfigSnapshot read from the config topic), and runs Member.Run in a goroutine for
// the worker's life. Through its Listener it is told:
//
//   - Revoked(connectors, tasks): stop them, and return only once stopped. The member calls it
//     for a cooperative revocation, for everything before an eager rejoin, when the coordinator
//     has been silent so long that the session may expire (one heartbeat interval before it
//     can), and when Run ends. Nobody else is given the work before that.
//   - Assigned(r): start what r.Held lists that is not running yet. If r.Assignment.Failed()
//     or its ConfigOffset differs from what the herder has read, start nothing new: read the
//     config topic to the end and call Rejoin, as upstream's herder does (a failed assignment
//     rejoins anyway). r.Leader is set on the leader: its owners and URLs answer "who runs
//     this" for request forwarding; every member learns the leader's URL from
//     r.Assignment.LeaderURL.
//
// The herder calls Member.Rejoin when it sees connectors or task configs change in the config
// topic, so that the leader assigns the new work. Everything else (the rejoin after
// revocations, after the assignment's delay, when the coordinator announces a rebalance) the
// member does itself. Cancelling Run's context revokes everything and leaves the group.
package cluster
