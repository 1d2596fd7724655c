package jsonconverter

import (
	"fmt"
	"strconv"

	"github.com/kconnect/kconnect/connect"
)

func dataErr(format string, args ...any) error {
	return &connect.DataError{Msg: fmt.Sprintf(format, args...)}
}

// pathError locates a problem inside a value: field a.b[3][key]. The path is built while the
// error travels up, so the success path pays nothing for it.
type pathError struct {
	path string
	err  error
}

func (e *pathError) Error() string { return "field " + e.path + ": " + e.err.Error() }

func (e *pathError) Unwrap() error { return e.err }

func inField(name string, err error) error { return prefixPath(name, err) }

func atIndex(i int, err error) error { return prefixPath("["+strconv.Itoa(i)+"]", err) }

func atKey(k string, err error) error { return prefixPath("["+strconv.Quote(k)+"]", err) }

func prefixPath(p string, err error) error {
	if pe, ok := err.(*pathError); ok {
		if pe.path[0] == '[' {
			pe.path = p + pe.path
		} else {
			pe.path = p + "." + pe.path
		}
		return pe
	}
	return &pathError{path: p, err: err}
}
