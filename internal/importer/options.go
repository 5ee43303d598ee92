package importer

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/mxinvite/mxinvite/internal/addrlist"
	"github.com/mxinvite/mxinvite/internal/producer"
	"github.com/mxinvite/mxinvite/tasks"
)

// Defaults for the zero values of Options.
const (
	// DefaultWorkers is how many goroutines register and enqueue batches at
	// once: enough to keep Redis busy while each waits for its replies.
	DefaultWorkers = 16
	// DefaultBatchSize is how many rows one registration round trip carries.
	DefaultBatchSize = 64
	// DefaultProgressInterval is how often Run reports progress.
	DefaultProgressInterval = 200 * time.Millisecond
)

// Options describe one import.
type Options struct {
	// Campaign, RoomID (a room ID, not an alias), Sender (a profile name;
	// "" means tasks.DefaultSender) and IDServer ("" means the worker's
	// default) are the same for every invite of the import.
	Campaign string
	RoomID   string
	Sender   string
	IDServer string

	// Medium, if set, is the only medium accepted; rows of the other one
	// are rejected. Empty means infer it per row, or with MediumFromList
	// take it from the list (see addrlist.Options).
	Medium         tasks.Medium
	MediumFromList bool
	// Column is the address column of CSV/TSV input; empty means find it
	// by name. Format forces the input format (addrlist.FormatCSV, …).
	Column string
	Format string
	// Encoding is the input's character encoding ("" detects it) and
	// Region the country of national phone numbers ("" rejects them): see
	// addrlist.Options.
	Encoding string
	Region   string

	// Start is when the first invite is to be sent; zero means now.
	Start time.Time
	// Spread, if positive, spreads the invites evenly over [Start,
	// Start+Spread): valid row i of n at Start + i·Spread/n.
	Spread time.Duration

	// Again re-invites invites that already have a final result.
	Again bool
	// Priority is the campaign's claim on its sender's turns
	// (tasks/queue.go); empty keeps the campaign's (normal for a new one).
	Priority tasks.Priority
	// DryRun validates and counts without writing to Redis. Producer may
	// then be nil (no comparison with what Redis already holds).
	DryRun bool

	// Producer registers and enqueues the invites. Required unless DryRun.
	Producer *producer.Producer

	// Workers and BatchSize size the pool; zero means the defaults.
	Workers   int
	BatchSize int
	// ProgressInterval is how often the progress callback is called; zero
	// means DefaultProgressInterval.
	ProgressInterval time.Duration
	// TempDir is where input that cannot be read twice is spooled when
	// Spread is set; empty means os.TempDir.
	TempDir string
}

// withDefaults fills in the zero values.
func (o Options) withDefaults() Options {
	if o.Workers <= 0 {
		o.Workers = DefaultWorkers
	}
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultBatchSize
	}
	if o.ProgressInterval <= 0 {
		o.ProgressInterval = DefaultProgressInterval
	}
	return o
}

// ListOptions are the options of the list reader.
func (o Options) ListOptions() addrlist.Options {
	return addrlist.Options{Format: o.Format, Column: o.Column, Medium: o.Medium, MediumFromList: o.MediumFromList,
		Encoding: o.Encoding, Region: o.Region}
}

// CheckInput reads the start of src as Run would and returns the error Run
// would stop with before doing anything (wrapping ErrInput): a file that
// is not text, a CSV header without an address column, an unknown Column.
// Commands call it to refuse a bad list before they contact anything.
func CheckInput(src io.Reader, o Options) error {
	if _, err := addrlist.NewReader(src, o.ListOptions()); err != nil {
		return fmt.Errorf("%w: %w", ErrInput, err)
	}
	return nil
}

// template validates the fields shared by every invite and returns an
// invite holding them in canonical form; rows only add medium and address.
func (o Options) template() (tasks.Invite, error) {
	if o.Producer == nil && !o.DryRun {
		return tasks.Invite{}, errors.New("importer: Options.Producer is required unless DryRun")
	}
	if o.Spread < 0 {
		return tasks.Invite{}, fmt.Errorf("importer: Options.Spread %s is negative", o.Spread)
	}
	probe, err := tasks.NewInvite(tasks.Invite{
		Campaign: o.Campaign, RoomID: o.RoomID, Sender: o.Sender, IDServer: o.IDServer,
		Medium: tasks.MediumEmail, Address: "probe@example.org",
	})
	if err != nil {
		return tasks.Invite{}, fmt.Errorf("importer: %w", err)
	}
	probe.Medium, probe.Address, probe.EnqueuedAt = "", "", time.Time{}
	return probe, nil
}
