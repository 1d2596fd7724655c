package transforms

import (
	"strings"

	"github.com/kconnect/kconnect/connect"
)

// javaList renders a list value as Java's List.toString does, for error messages.
func javaList(l []string) string { return "[" + strings.Join(l, ", ") + "]" }

// replaceNullKey is replace.null.with.default, which most transforms share.
var replaceNullKey = connect.ConfigKey{Name: "replace.null.with.default", Type: connect.ConfigBoolean, Default: "true", Importance: connect.Medium,
	Doc: "Whether a null field that has a default value takes the default (true) or stays null (false)."}
