package connect

// ExactlyOnceConnector is optionally implemented by a source connector that knows whether its
// tasks can resume exactly where the last committed offsets say, which exactly-once delivery
// (KIP-618) needs: upstream's SourceConnector.exactlyOnceSupport. A connector that does not
// implement it is treated as upstream treats a null answer: exactly.once.support=required fails
// validation, requested runs it with transactions anyway.
type ExactlyOnceConnector interface {
	// ExactlyOnceSupport reports whether the connector, configured with props, supports
	// exactly-once delivery.
	ExactlyOnceSupport(props map[string]string) bool
}

// TransactionBoundaryConnector is optionally implemented by a source connector whose tasks can
// define their own transaction boundaries (transaction.boundary=connector) through
// TransactionContext: upstream's SourceConnector.canDefineTransactionBoundaries. Without it the
// connector boundary is rejected.
type TransactionBoundaryConnector interface {
	// CanDefineTransactionBoundaries reports whether tasks of the connector, configured with
	// props, commit and abort transactions themselves.
	CanDefineTransactionBoundaries(props map[string]string) bool
}

// TransactionContext lets a source task running with transaction.boundary=connector decide where
// its transactions end. A request takes effect once the records of the Poll during which (or
// before whose return) it was made have been dispatched, as upstream's requests take effect after
// the current batch.
type TransactionContext interface {
	// CommitTransaction asks the runtime to commit the open transaction, with the offsets of its
	// records.
	CommitTransaction()
	// AbortTransaction asks the runtime to abort the open transaction: its records are never
	// visible to read_committed consumers and their offsets are not committed, so the task must
	// produce them again (it is told nothing else; a task usually rewinds to its last committed
	// offset).
	AbortTransaction()
}

// TransactionalTaskContext is implemented by the SourceTaskContext the runtime gives a task:
// TransactionContext returns nil unless exactly-once is on for the task and its connector's
// transaction.boundary is connector, as upstream's SourceTaskContext.transactionContext.
type TransactionalTaskContext interface {
	TransactionContext() TransactionContext
}
