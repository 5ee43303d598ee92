package dashboard

import (
	"bufio"
	"net/http"
	"strings"

	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/internal/report"
)

// download streams a campaign's results ("results") or failures
// ("failures") with internal/report's writers, the same files as
// `mxinvite results [--failed] --format F`: the failures CSV has the
// address and medium columns `mxinvite enqueue --file` reads back.
func (s *server) download(what, format string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, ok := s.campaign(w, r)
		if !ok {
			return
		}
		ctype := "text/csv; charset=utf-8"
		if format == "jsonl" {
			ctype = "application/x-ndjson"
		}
		w.Header().Set("Content-Type", ctype)
		w.Header().Set("Content-Disposition", `attachment; filename="`+fileName(c.Name, what, format)+`"`)
		noStore(w)
		bw := bufio.NewWriterSize(w, 32<<10)
		rw, err := report.NewResultWriter(bw, format)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		// ?cause=ID keeps one group of failures (FailureGroup.ID).
		cause := r.URL.Query().Get("cause")
		err = s.src.Results(r.Context(), c.Name, what == "failures", func(res record.Result) error {
			if cause != "" && causeOf(res).ID() != cause {
				return nil
			}
			return rw.Write(res)
		})
		if err == nil {
			err = rw.Flush()
		}
		if err == nil {
			err = bw.Flush()
		}
		if err != nil {
			// The headers are gone: the truncated file is all that can be
			// said to the browser; the log says why.
			s.opts.Logger.Error().Err(err).Str("campaign", c.Name).Msg("dashboard download")
		}
	}
}

// fileName is "mxinvite-<campaign>-<what>.<ext>" with every character
// outside [A-Za-z0-9_-] replaced, so the header needs no quoting rules.
func fileName(campaign, what, ext string) string {
	safe := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			return r
		}
		return '_'
	}, campaign)
	if len(safe) > 80 {
		safe = safe[:80]
	}
	return "mxinvite-" + safe + "-" + what + "." + ext
}
