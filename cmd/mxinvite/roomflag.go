package main

import (
	"errors"
	"strings"

	"github.com/urfave/cli/v3"

	"github.com/mxinvite/mxinvite/matrix"
	"github.com/mxinvite/mxinvite/tasks"
)

// roomFlagUsage is the --room help of commands that take an ID or an alias.
const roomFlagUsage = "room ID (!opaque:server, or !+43 characters for room version 12) or alias (#name:server)"

// roomFlag reads --room: a room ID of either form (legacy "!opaque:server"
// or room version 12's "!" + 43 URL-safe base64 characters) or, when
// aliasOK, a room alias for the homeserver to resolve. Anything else is one
// line naming the flag and the accepted forms, exit code 2. The ID is kept
// opaque: nothing is derived from it.
func roomFlag(cmd *cli.Command, aliasOK bool) (room string, alias bool, err error) {
	room = strings.TrimSpace(cmd.String("room"))
	if aliasOK && strings.HasPrefix(room, "#") {
		if _, err := matrix.ParseRoomAlias(room); err != nil {
			var idErr *matrix.IDError
			if errors.As(err, &idErr) {
				return "", true, usageErr("--room %q: not a room alias #name:server (%s)", room, idErr.Problem)
			}
			return "", true, usageErr("--room %q: %v", room, err)
		}
		return room, true, nil
	}
	if err := tasks.ValidateRoomID(room); err != nil {
		reason := err.Error()
		var fe *tasks.FieldError
		if errors.As(err, &fe) {
			reason = fe.Reason
		}
		if aliasOK {
			reason += `, or a room alias "#name:server"`
		}
		return "", false, usageErr("--room %q: %s", room, reason)
	}
	return room, false, nil
}

// flagForField names the flag that set an invite field, for errors.
var flagForField = map[string]string{"room_id": "room", "id_server": "id-server"}

// fieldFlagErr turns a *tasks.FieldError about a value from a flag into a
// usage error naming the flag (campaign and sender are named alike).
func fieldFlagErr(err error) error {
	var fe *tasks.FieldError
	if !errors.As(err, &fe) {
		return usageErr("%v", err)
	}
	flag := flagForField[fe.Field]
	if flag == "" {
		flag = fe.Field
	}
	return usageErr("--%s %q: %s", flag, fe.Value, fe.Reason)
}
