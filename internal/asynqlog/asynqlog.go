// Package asynqlog routes asynq's own logs into a zerolog logger.
package asynqlog

import (
	"fmt"

	"github.com/rs/zerolog"
)

// Logger is an asynq.Logger writing to a zerolog logger (component "asynq").
type Logger struct{ L *zerolog.Logger }

func (a Logger) Debug(args ...any) {
	a.L.Debug().Str("component", "asynq").Msg(fmt.Sprint(args...))
}
func (a Logger) Info(args ...any) { a.L.Info().Str("component", "asynq").Msg(fmt.Sprint(args...)) }
func (a Logger) Warn(args ...any) { a.L.Warn().Str("component", "asynq").Msg(fmt.Sprint(args...)) }
func (a Logger) Error(args ...any) {
	a.L.Error().Str("component", "asynq").Msg(fmt.Sprint(args...))
}

// Fatal logs at error level: asynq calls it for unrecoverable start-up
// errors, and a library must not exit the process on the caller's behalf.
func (a Logger) Fatal(args ...any) {
	a.L.Error().Str("component", "asynq").Msg(fmt.Sprint(args...))
}
