package connect

import (
	"errors"
	"fmt"
	"runtime/debug"
)

// RetriableError marks a failure that may succeed if the same operation is tried again (upstream's
// RetriableException): the runtime retries it with backoff instead of failing the task.
type RetriableError struct{ Err error }

func (e *RetriableError) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *RetriableError) Unwrap() error { return e.Err }

// Retriable wraps err as retriable; nil stays nil.
func Retriable(err error) error {
	if err == nil {
		return nil
	}
	return &RetriableError{Err: err}
}

// IsRetriable reports whether err, or an error it wraps, is retriable.
func IsRetriable(err error) bool {
	var r *RetriableError
	return errors.As(err, &r)
}

// PanicError is a panic recovered from plugin code, with the stack of the goroutine that
// panicked. The runtime reports it as the connector's or task's failure, with the stack as the
// status trace, so a bug in one plugin never takes the worker down.
type PanicError struct {
	Value any
	Stack string
}

func (e *PanicError) Error() string { return fmt.Sprintf("panic: %v\n%s", e.Value, e.Stack) }

// Recover turns a panic of the calling goroutine into a *PanicError stored in *err. recover
// works only in a function called by defer itself, so defer Recover directly, best as the first
// defer of a function with a named error result (it then also catches panics of the others):
//
//	func (c *Connector) monitor(ctx context.Context) (err error) {
//		defer connect.Recover(&err)
//
// Every goroutine a plugin starts should begin that way and hand its error to the runtime (a
// connector through ConnectorContext.RaiseError, a task through its next Poll or Put): Go cannot
// recover a panic from another goroutine, and an unrecovered one ends the process.
func Recover(err *error) {
	if r := recover(); r != nil {
		*err = &PanicError{Value: r, Stack: string(debug.Stack())}
	}
}
