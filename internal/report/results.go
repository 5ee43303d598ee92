// Package report renders invite results and campaign counts for people and
// programs: JSON Lines and CSV files of results, and status summaries.
package report

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/mxinvite/mxinvite/internal/csvsafe"
	"github.com/mxinvite/mxinvite/internal/record"
)

// Columns are the CSV columns of a results file, in order. "address" and
// "medium" are named so that `mxinvite enqueue --file` re-imports the file
// (its medium column gives each row's medium).
var Columns = []string{
	"task_id", "campaign", "room_id", "medium", "address", "state", "status_code", "status",
	"http_status", "errcode", "error", "attempts", "requests", "rate_limited",
	"possible_duplicate", "enqueued_at", "finished_at",
	"delivery", "user_id", "joined_at_ms", "registered_at_ms",
}

// ResultWriter writes results as "jsonl" or "csv".
type ResultWriter interface {
	Write(record.Result) error
	// Flush writes out anything buffered and reports a write error.
	Flush() error
}

// NewResultWriter returns a writer for format ("jsonl" or "csv").
func NewResultWriter(w io.Writer, format string) (ResultWriter, error) {
	switch format {
	case "jsonl", "json":
		return &jsonlWriter{enc: json.NewEncoder(w)}, nil
	case "csv":
		cw := csv.NewWriter(w)
		if err := cw.Write(Columns); err != nil {
			return nil, err
		}
		return &csvWriter{w: cw}, nil
	}
	return nil, fmt.Errorf("format %q: want jsonl or csv", format)
}

type jsonlWriter struct{ enc *json.Encoder }

func (j *jsonlWriter) Write(r record.Result) error { return j.enc.Encode(r) }
func (j *jsonlWriter) Flush() error                { return nil }

type csvWriter struct{ w *csv.Writer }

func (c *csvWriter) Write(r record.Result) error {
	// Addresses and error texts come from outside: neutralise formulas
	// (see csvsafe); enqueue reads the cells back unchanged.
	return c.w.Write(csvsafe.Record([]string{
		r.TaskID, r.Campaign, r.RoomID, r.Medium, r.Address, string(r.State),
		code(r), r.Status, strconv.Itoa(r.HTTPStatus), r.ErrCode, r.Error,
		strconv.Itoa(r.Attempts), strconv.Itoa(r.Requests), strconv.Itoa(r.RateLimited),
		strconv.FormatBool(r.PossibleDuplicate), stamp(r.EnqueuedAt), stamp(r.FinishedAt),
		string(r.Delivery), r.UserID, msOrEmpty(r.JoinedAtMS), msOrEmpty(r.RegisteredAtMS),
	}))
}

// msOrEmpty is a time in ms, "" for none.
func msOrEmpty(ms int64) string {
	if ms == 0 {
		return ""
	}
	return strconv.FormatInt(ms, 10)
}

func (c *csvWriter) Flush() error {
	c.w.Flush()
	return c.w.Error()
}

// code is empty until an invite is final: 0 would read as Success.
func code(r record.Result) string {
	if !r.Final() {
		return ""
	}
	return strconv.Itoa(int(r.StatusCode))
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}
