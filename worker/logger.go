package worker

import (
	"fmt"

	"github.com/rs/zerolog"
)

// asynqLogger routes asynq's own logs into the worker's zerolog logger.
type asynqLogger struct{ l *zerolog.Logger }

func (a asynqLogger) Debug(args ...any) {
	a.l.Debug().Str("component", "asynq").Msg(fmt.Sprint(args...))
}
func (a asynqLogger) Info(args ...any) { a.l.Info().Str("component", "asynq").Msg(fmt.Sprint(args...)) }
func (a asynqLogger) Warn(args ...any) { a.l.Warn().Str("component", "asynq").Msg(fmt.Sprint(args...)) }
func (a asynqLogger) Error(args ...any) {
	a.l.Error().Str("component", "asynq").Msg(fmt.Sprint(args...))
}

// Fatal logs at error level: asynq calls it for unrecoverable start-up
// errors, and a library must not exit the process on the caller's behalf.
func (a asynqLogger) Fatal(args ...any) {
	a.l.Error().Str("component", "asynq").Msg(fmt.Sprint(args...))
}
