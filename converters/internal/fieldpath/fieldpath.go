// Package fieldpath locates a problem inside a converted value: "field a.b[3]["key"]: …". The
// path is built while the error travels up through the converter, so the success path pays
// nothing for it.
package fieldpath

import "strconv"

// Error is an error inside a value, with the path to where it happened.
type Error struct {
	path string
	err  error
}

func (e *Error) Error() string { return "field " + e.path + ": " + e.err.Error() }

// Unwrap returns the error found at the path.
func (e *Error) Unwrap() error { return e.err }

// InField places err inside the struct field name.
func InField(name string, err error) error { return prefix(name, err) }

// AtIndex places err at index i of an array.
func AtIndex(i int, err error) error { return prefix("["+strconv.Itoa(i)+"]", err) }

// AtKey places err at key k of a map.
func AtKey(k string, err error) error { return prefix("["+strconv.Quote(k)+"]", err) }

func prefix(p string, err error) error {
	if pe, ok := err.(*Error); ok {
		if pe.path[0] == '[' {
			pe.path = p + pe.path
		} else {
			pe.path = p + "." + pe.path
		}
		return pe
	}
	return &Error{path: p, err: err}
}
