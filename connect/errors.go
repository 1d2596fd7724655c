package connect

import "errors"

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
