// Package schedule keeps recurring campaigns: a mailing list re-read on a
// cron schedule, enqueueing only the addresses not invited yet. Definitions
// live in Redis; any number of schedulers may run, and each tick fires once.
package schedule

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/mxinvite/mxinvite/tasks"
)

// Campaign is a recurring campaign's definition.
type Campaign struct {
	// Name is the campaign its invites are counted under.
	Name string `json:"name"`
	// Cron is the schedule: five fields (minute hour day month weekday) or a
	// descriptor such as "@hourly" or "@every 30m". Times are UTC.
	Cron string `json:"cron"`
	// RoomID is the room, resolved from an alias when the campaign was added.
	RoomID string `json:"room_id"`
	// File is the list re-read at every tick, on the scheduler's machine.
	File string `json:"file"`
	// Medium forces the medium of every row ("" infers it per row, or
	// with MediumFromList takes it from the list: see addrlist.Options).
	Medium         string `json:"medium,omitempty"`
	MediumFromList bool   `json:"medium_from_list,omitempty"`
	// Column names the address column of a CSV/TSV ("" finds it by name).
	Column string `json:"column,omitempty"`
	// Encoding is the list's character encoding ("" detects it) and Region
	// the country of its national phone numbers: see addrlist.Options.
	Encoding string `json:"encoding,omitempty"`
	Region   string `json:"region,omitempty"`
	// Rejects is where each tick writes the rows it rejected, on the
	// scheduler's machine ("" keeps them nowhere, only counted). A tick
	// without rejects leaves the previous tick's file as it was.
	Rejects string `json:"rejects,omitempty"`
	// IDServer overrides the worker's default identity server.
	IDServer string `json:"id_server,omitempty"`
	// Sender is the worker's sender profile name.
	Sender string `json:"sender,omitempty"`
	// Priority is the campaign's claim on its sender's turns ("" keeps
	// the campaign's; normal for a new one).
	Priority string `json:"priority,omitempty"`
	// Created is when the campaign was added.
	Created time.Time `json:"created"`
}

// ErrInvalid marks an invalid campaign definition.
var ErrInvalid = errors.New("invalid recurring campaign")

// parser reads standard five-field specs and descriptors (@every, @daily…).
var parser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Schedule parses the campaign's cron spec.
func (c Campaign) Schedule() (cron.Schedule, error) {
	s, err := parser.Parse(c.Cron)
	if err != nil {
		return nil, fmt.Errorf("%w: cron %q: %v", ErrInvalid, c.Cron, err)
	}
	return s, nil
}

// Validate names the first invalid field.
func (c Campaign) Validate() error {
	switch {
	case c.Name == "":
		return fmt.Errorf("%w: campaign name is empty", ErrInvalid)
	case c.RoomID == "":
		return fmt.Errorf("%w: room is empty", ErrInvalid)
	case c.File == "":
		return fmt.Errorf("%w: file is empty", ErrInvalid)
	}
	// Either form of room ID (legacy or room version 12), by the rule every
	// invite of the campaign will be checked against.
	if err := tasks.ValidateRoomID(c.RoomID); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	_, err := c.Schedule()
	return err
}

func (c Campaign) marshal() (string, error) {
	b, err := json.Marshal(c)
	return string(b), err
}
