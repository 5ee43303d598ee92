package worker

import (
	"context"
	"errors"
	"fmt"

	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/matrix"
)

// Identity tokens. Synapse refuses a 3PID invite without id_access_token,
// and nobody has one lying around: when none is configured for an identity
// server, the worker obtains one from the sender's account the way Element
// does (matrix.IdentityTokens: OpenID → account/register → GET account),
// once per process and identity server, in memory only. When the identity
// server wants its terms accepted, the worker accepts them with
// Config.AcceptIdentityTerms, and otherwise pauses the sender (kind
// identity_terms) rather than let every invite fail with Synapse's 500.

// identityToken is the id_access_token to send with an invite naming
// idServer: the one configured for it, else one obtained from the account.
// When the identity server's terms are not accepted the sender pauses and
// the invite is held; when no token can be had for another reason (an
// identity server without the v2 account API, such as Dendrite's v1-only
// ones, or one that cannot be reached), the invite goes without a token,
// for the homeserver to judge: Dendrite ignores it, Synapse refuses with
// 400 M_MISSING_PARAM, which the campaign breaker turns into one pause
// rather than a list of failures. The failure is remembered for a minute,
// so invites do not each try to register again.
func (j *job) identityToken(ctx context.Context, idServer string) (string, error) {
	if t := j.snd.idToken(idServer); t != "" {
		return t, nil
	}
	tok, err := j.snd.cur.Load().identityToken(ctx, idServer)
	switch {
	case err == nil:
		return tok, nil
	case errors.Is(err, matrix.ErrTermsNotSigned):
		return "", j.pauseSender(ctx, record.PauseIdentityTerms, termsReason(j.snd.Name, err), record.AttemptUpdate{})
	case ctx.Err() != nil:
		return "", ctx.Err()
	}
	return "", nil
}

// recheckIdentity checks, after an ambiguous answer, the identity token the
// invite will be sent with: Synapse turns an identity server's refusal (a
// bad token, new terms not accepted) into a 500, so a bad token is found
// once for the sender, not once per address. A token obtained from the
// account that the identity server refuses is dropped (the next invite
// registers again); a configured one pauses the sender.
func (j *job) recheckIdentity(ctx context.Context, idServer string) error {
	snd := j.snd
	configured := snd.idToken(idServer)
	tok := configured
	sc := snd.cur.Load()
	if tok == "" {
		tok = sc.cachedIdentityToken(idServer)
	}
	if tok == "" {
		return nil
	}
	_, o := snd.client().Identity(idServer).Account(ctx, tok)
	switch {
	case o.Status.Good():
		return nil
	case o.HTTPStatus == 401 && configured == "":
		sc.ids.Invalidate(tok)
		return nil
	case o.HTTPStatus == 401:
		return j.pauseSender(ctx, record.PauseIdentityToken, fmt.Sprintf(
			"identity server %s refuses the configured identity token of sender %q (%s); put a valid one in the token file and restart the workers, then run: mxinvite resume --sender %s",
			idServer, snd.Name, o.ErrCode, snd.Name), record.AttemptUpdate{})
	case o.ErrCode == matrix.MTermsNotSigned && configured == "":
		sc.ids.Invalidate(tok) // the next Token registers again, and meets the new terms
		return nil
	case o.ErrCode == matrix.MTermsNotSigned:
		if err := j.h.acceptTerms(ctx, snd, idServer, tok); err != nil {
			return j.pauseSender(ctx, record.PauseIdentityTerms, termsReason(snd.Name, err), record.AttemptUpdate{})
		}
	}
	return nil // no verdict (an identity server without GET /account): the invite decides
}

func termsReason(sender string, err error) string {
	return fmt.Sprintf("%v; restart the workers with --accept-identity-terms (MXINVITE_ACCEPT_IDENTITY_TERMS=true) to accept them for sender %q: they accept once and resume", err, sender)
}

// acceptTerms accepts, with a configured token, the terms an identity
// server asks for, when the worker is allowed to; else it returns the
// terms as a *matrix.TermsError.
func (h *Handler) acceptTerms(ctx context.Context, s *sender, idServer, tok string) error {
	ic := s.client().Identity(idServer)
	terms, o := ic.Terms(ctx)
	if !o.Status.Good() {
		return fmt.Errorf("identity server %s: reading its terms: %s", idServer, o.Status)
	}
	if !h.cfg.AcceptIdentityTerms {
		return &matrix.TermsError{IDServer: idServer, Documents: terms.Documents}
	}
	if o := ic.AcceptTerms(ctx, tok, terms.URLs()); !o.Status.Good() {
		return fmt.Errorf("identity server %s: accepting its terms: %s", idServer, o.Status)
	}
	h.cfg.Logger.Info().Str("sender", s.Name).Str("id_server", idServer).Int("documents", len(terms.Documents)).
		Msg("identity server terms accepted for the sender")
	return nil
}

// checkIdentity checks a sender's identity token for its default identity
// server at start (see checkSenders): a configured token the identity
// server refuses stops the worker (a typo'd token file), terms not
// accepted pause the sender (or are accepted), and a token that works ends
// an identity pause of the sender. An identity server that cannot be asked
// (no v2 account API) is let be.
func (w *Worker) checkIdentity(ctx context.Context, s *sender) error {
	idServer := s.IDServer
	if idServer == "" {
		return nil
	}
	log := w.cfg.Logger.With().Str("sender", s.Name).Str("id_server", idServer).Logger()
	var terms error
	if tok := s.idToken(idServer); tok != "" {
		_, o := s.client().Identity(idServer).Account(ctx, tok)
		switch {
		case o.HTTPStatus == 401:
			return &SenderError{Sender: s.Name, Problem: fmt.Sprintf(
				"the identity server %s refuses its identity token (%s): check the identity token file", idServer, describe(o))}
		case o.ErrCode == matrix.MTermsNotSigned:
			terms = w.handler.acceptTerms(ctx, s, idServer, tok)
		case !o.Status.Good():
			log.Warn().Str("status", o.Status.Code.String()).Int("http_status", o.HTTPStatus).
				Msg("cannot check the identity token (no v2 account API?); invites will tell")
			return nil
		}
	} else {
		_, err := s.cur.Load().identityToken(ctx, idServer)
		switch {
		case errors.Is(err, matrix.ErrTermsNotSigned):
			terms = err
		case err != nil:
			log.Warn().Err(err).Msg("no identity token from the account; invites go without one (Synapse needs one; Dendrite ignores it)")
			return nil
		}
	}
	if terms != nil {
		return w.handler.pauseSender(ctx, log, s.Name, record.PauseIdentityTerms, termsReason(s.Name, terms))
	}
	ok, err := w.store.ClearPause(ctx, record.PauseSender, s.Name, record.PauseIdentityTerms, record.PauseIdentityToken)
	if err != nil {
		return err
	}
	if ok {
		log.Info().Msg("sender resumed: its identity token works")
		w.cfg.Observer.SenderResumed(s.Name)
		w.wakeHeld()
	}
	return nil
}
