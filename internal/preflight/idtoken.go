package preflight

import (
	"context"
	"errors"
	"strings"

	"github.com/mxinvite/mxinvite/matrix"
)

// checkIdentityToken obtains the identity token from the sender's account
// and returns it ("" when that failed). The token is never shown.
func checkIdentityToken(ctx context.Context, p *matrix.IdentityTokens, idServer string, user matrix.UserID, r *Report) string {
	token, err := p.Token(ctx, idServer)
	var terms *matrix.TermsError
	var step *matrix.IdentityTokenError
	switch {
	case err == nil:
		who := "the sender"
		if user != "" {
			who = string(user)
		}
		r.add(CheckIdentityToken, true, "registered with %s for %s through OpenID (kept in memory only)", idServer, who)
	case errors.As(err, &terms):
		docs := make([]string, 0, len(terms.Documents))
		for _, d := range terms.Documents {
			docs = append(docs, d.Describe())
		}
		r.add(CheckIdentityToken, false, "%s wants its terms accepted before it sends invites: %s; read them, then rerun with %s to accept them",
			idServer, strings.Join(docs, "; "), AcceptTermsFlag)
	case errors.As(err, &step):
		r.add(CheckIdentityToken, false, "could not get one from the account (%s: %s)", step.Step, describeStep(step))
	default:
		r.add(CheckIdentityToken, false, "could not get one from the account (%v)", err)
	}
	return token
}

// describeStep renders a failed step: its problem, or its outcome.
func describeStep(e *matrix.IdentityTokenError) string {
	if e.Problem != "" {
		return e.Problem
	}
	return describe(e.Outcome)
}
