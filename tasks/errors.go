package tasks

import (
	"errors"
	"strconv"
)

// ErrInvalid is matched by every validation error of this package, so callers
// can tell "this invite can never succeed" from transient failures:
//
//	if errors.Is(err, tasks.ErrInvalid) { return fmt.Errorf("%v: %w", err, asynq.SkipRetry) }
var ErrInvalid = errors.New("invalid invite")

// maxErrorValueRunes bounds how much of an offending value an error message
// repeats; payloads can be large and logs should stay readable.
const maxErrorValueRunes = 80

// FieldError reports which field failed validation and why. Field is the JSON
// name of the field ("room_id", "address", ...) or "payload" when the payload
// as a whole is unusable.
type FieldError struct {
	Field  string // JSON name of the field
	Value  string // the offending value as given
	Reason string // the rule it broke, e.g. `must not be empty`
}

// Error formats the error as `field "value": reason`, with the value
// truncated to about 80 characters.
func (e *FieldError) Error() string {
	return e.Field + " " + strconv.Quote(truncateRunes(e.Value, maxErrorValueRunes)) + ": " + e.Reason
}

// Is reports whether target is ErrInvalid, so that errors.Is(err, ErrInvalid)
// holds for every FieldError.
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }

func fieldError(field, value, reason string) *FieldError {
	return &FieldError{Field: field, Value: value, Reason: reason}
}

// truncateRunes cuts s after n runes and marks the cut with an ellipsis.
func truncateRunes(s string, n int) string {
	count := 0
	for i := range s {
		if count == n {
			return s[:i] + "…"
		}
		count++
	}
	return s
}
