package transforms

import (
	"fmt"
	"strings"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/transforms/internal/javaregex"
	"github.com/kconnect/kconnect/transforms/internal/simpledate"
)

// Validators upstream's transforms share.

// nonEmptyList is upstream's NonEmptyListValidator.
func nonEmptyList() connect.Validator {
	return connect.ValidatorFunc("non-empty list", func(name string, v any) error {
		if l, _ := v.([]string); len(l) == 0 {
			return fmt.Errorf("Invalid value [] for configuration %s: Empty list", name)
		}
		return nil
	})
}

// javaList renders a list value as Java's List.toString does, for error messages.
func javaList(l []string) string { return "[" + strings.Join(l, ", ") + "]" }

// replaceNullKey is replace.null.with.default, which most transforms share.
var replaceNullKey = connect.ConfigKey{Name: "replace.null.with.default", Type: connect.ConfigBoolean, Default: "true", Importance: connect.Medium,
	Doc: "Whether a null field that has a default value takes the default (true) or stays null (false)."}

// validString is upstream's case-sensitive ValidString.
func validString(values ...string) connect.Validator {
	return connect.ValidatorFunc("["+strings.Join(values, ", ")+"]", func(name string, v any) error {
		s, _ := v.(string)
		for _, ok := range values {
			if s == ok {
				return nil
			}
		}
		return fmt.Errorf("Invalid value %s for configuration %s: String must be one of: %s", s, name, strings.Join(values, ", "))
	})
}

// nonEmptyOrNull is upstream's NonEmptyString: unset is fine, an empty string is not.
func nonEmptyOrNull() connect.Validator {
	return connect.ValidatorFunc("non-empty string", func(name string, v any) error {
		if s, ok := v.(string); ok && s == "" {
			return fmt.Errorf("Invalid value  for configuration %s: String may not be empty", name)
		}
		return nil
	})
}

// validRegex is upstream's RegexValidator.
func validRegex() connect.Validator {
	return connect.ValidatorFunc("valid regex", func(name string, v any) error {
		s, _ := v.(string)
		if _, err := javaregex.Compile(s); err != nil {
			return fmt.Errorf("Invalid value %s for configuration %s: Invalid regex: %v", s, name, err)
		}
		return nil
	})
}

// validDateFormat accepts a SimpleDateFormat pattern (upstream fails at configure time instead).
func validDateFormat() connect.Validator {
	return connect.ValidatorFunc("SimpleDateFormat pattern", func(name string, v any) error {
		s, _ := v.(string)
		if _, err := simpledate.Compile(s); err != nil {
			return fmt.Errorf("Invalid value %s for configuration %s: %v", s, name, err)
		}
		return nil
	})
}
