// Package tasks defines the invite:3pid task: the payload a producer enqueues
// to invite an email address or phone number into a Matrix room, and the
// strict decoder the worker uses to read it back.
//
// The producer builds an [Invite] with [NewInvite], which validates and
// normalises it, and turns it into an [asynq.Task] with [Invite.Task]. The
// task ID is derived from the invite itself ([Invite.TaskID]), so enqueuing
// the same invite twice is rejected by asynq as a duplicate instead of
// inviting the same person twice. The worker decodes payloads with
// [DecodeInvite], which re-validates everything: a payload that fails is
// permanently broken and should not be retried (every such error matches
// [ErrInvalid]).
package tasks
