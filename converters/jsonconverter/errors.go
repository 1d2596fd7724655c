package jsonconverter

import (
	"fmt"

	"github.com/kconnect/kconnect/connect"
)

func dataErr(format string, args ...any) error {
	return &connect.DataError{Msg: fmt.Sprintf(format, args...)}
}
