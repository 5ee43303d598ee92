package matrix

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinels of IdentityTokens.Token's errors.
var (
	// ErrTermsNotSigned is matched by *TermsError: the identity server
	// wants its terms accepted and IdentityTokensConfig.AcceptTerms is off.
	ErrTermsNotSigned = errors.New("matrix: identity server terms not accepted")
	// ErrIdentityToken is matched by *IdentityTokenError: a step of
	// obtaining an identity token failed.
	ErrIdentityToken = errors.New("matrix: cannot obtain an identity token")
)

// TermsError says which documents the identity server wants accepted
// before it serves the user (Sydent answers 403 M_TERMS_NOT_SIGNED on GET
// /account, store-invite and lookup until then). It never holds a token.
type TermsError struct {
	// IDServer is the identity server, hostname[:port].
	IDServer string
	// Documents are the policies to accept, one language each.
	Documents []TermsDocument
}

// Error lists every document with its URL.
func (e *TermsError) Error() string {
	docs := make([]string, 0, len(e.Documents))
	for _, d := range e.Documents {
		docs = append(docs, d.Describe())
	}
	return fmt.Sprintf("identity server %s wants its terms accepted: %s", e.IDServer, strings.Join(docs, "; "))
}

// Is matches ErrTermsNotSigned.
func (e *TermsError) Is(target error) bool { return target == ErrTermsNotSigned }

// Describe renders the document as `"Title" (name) version V: URL`.
func (d TermsDocument) Describe() string {
	title := d.Name
	if d.Title != "" && d.Title != d.Name {
		title = fmt.Sprintf("%q (%s)", d.Title, d.Name)
	}
	if d.Version != "" {
		title += " version " + d.Version
	}
	return title + ": " + d.URL
}

// IdentityTokenError is a failed step of obtaining an identity token. Its
// Outcome is redacted like every Outcome; its message holds no token.
type IdentityTokenError struct {
	// IDServer is the identity server, hostname[:port].
	IDServer string
	// Step names the call that failed: "whoami", "openid/request_token",
	// "account/register", "account", "terms" or "accept terms".
	Step string
	// Outcome is the failed call's outcome (for Problem, the good one).
	Outcome Outcome
	// Problem, when set, says what was wrong with a good answer.
	Problem string
}

// Error names the identity server, the step and the failure.
func (e *IdentityTokenError) Error() string {
	what := e.Problem
	if what == "" {
		what = e.Outcome.Status.String()
		if e.Outcome.HTTPStatus != 0 {
			what += fmt.Sprintf("; HTTP %d", e.Outcome.HTTPStatus)
			if e.Outcome.ErrCode != "" {
				what += " " + string(e.Outcome.ErrCode)
			}
		}
	}
	return fmt.Sprintf("identity token for %s: %s: %s", e.IDServer, e.Step, what)
}

// Is matches ErrIdentityToken.
func (e *IdentityTokenError) Is(target error) bool { return target == ErrIdentityToken }
