// Package validators holds the configuration validators upstream's transforms and predicates share
// (NonEmptyListValidator, NonEmptyString, ValidString, RegexValidator), with upstream's messages.
package validators

import (
	"fmt"
	"strings"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/transforms/internal/javaregex"
	"github.com/kconnect/kconnect/transforms/internal/simpledate"
)

// NonEmptyList rejects an empty list.
func NonEmptyList() connect.Validator {
	return connect.ValidatorFunc("non-empty list", func(name string, v any) error {
		if l, _ := v.([]string); len(l) == 0 {
			return fmt.Errorf("Configuration '%s' must not be empty. Valid values include: any non-empty value", name)
		}
		return nil
	})
}

// NonEmptyString rejects an empty string; unset (null) is fine.
func NonEmptyString() connect.Validator {
	return connect.ValidatorFunc("non-empty string", func(name string, v any) error {
		if s, ok := v.(string); ok && s == "" {
			return fmt.Errorf("Invalid value  for configuration %s: String must be non-empty", name)
		}
		return nil
	})
}

// ValidString accepts exactly one of values (case matters).
func ValidString(values ...string) connect.Validator {
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

// Regex accepts a regular expression the transforms can run.
func Regex() connect.Validator {
	return connect.ValidatorFunc("valid regex", func(name string, v any) error {
		s, _ := v.(string)
		if _, err := javaregex.Compile(s); err != nil {
			return fmt.Errorf("Invalid value %s for configuration %s: Invalid regex: %v", s, name, err)
		}
		return nil
	})
}

// DateFormat accepts a java.text.SimpleDateFormat pattern (upstream fails at configure time instead).
func DateFormat() connect.Validator {
	return connect.ValidatorFunc("SimpleDateFormat pattern", func(name string, v any) error {
		s, _ := v.(string)
		if _, err := simpledate.Compile(s); err != nil {
			return fmt.Errorf("Invalid value %s for configuration %s: %v", s, name, err)
		}
		return nil
	})
}

// All runs every validator in turn and reports the first failure, as CompositeValidator does.
func All(vs ...connect.Validator) connect.Validator {
	return connect.ValidatorFunc("", func(name string, v any) error {
		for _, val := range vs {
			if err := val.Validate(name, v); err != nil {
				return err
			}
		}
		return nil
	})
}
