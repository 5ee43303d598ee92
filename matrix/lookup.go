package matrix

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
)

// ThreePID is a third-party identifier: a medium ("email", "msisdn") and
// an address.
type ThreePID struct {
	Medium, Address string
}

// LookupAlgorithm is the only hash algorithm mxinvite looks addresses up
// with (spec: identity service API, "Client behaviour" of the v2 lookup:
// sha256 is mandatory for servers; "none" sends addresses in the clear).
const LookupAlgorithm = "sha256"

// CanonicalAddress is an address in the form identity servers store
// bindings under, so that its lookup hash matches: an email address
// lower-cased, a phone number as E.164 digits without "+" (Sydent's form).
// tasks already normalises addresses this way; this is the last word
// before hashing.
func CanonicalAddress(medium, address string) string {
	address = strings.TrimSpace(address)
	switch medium {
	case "email":
		return strings.ToLower(address)
	case "msisdn":
		return strings.TrimPrefix(address, "+")
	}
	return address
}

// LookupHash is the v2 lookup hash of a 3PID: unpadded URL-safe base64 of
// sha256("<address> <medium> <pepper>"), the address in canonical form.
func LookupHash(medium, address, pepper string) string {
	sum := sha256.Sum256([]byte(CanonicalAddress(medium, address) + " " + medium + " " + pepper))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// LookupAnswer is what a Lookup found.
type LookupAnswer struct {
	// Bound maps each 3PID bound to an account to that account; unbound
	// ones are absent.
	Bound map[ThreePID]UserID
	// Pepper is the pepper the lookup used (for the next one).
	Pepper string
	// NoV2 is set when the identity server has no v2 lookup (it answered
	// hash_details 404/405, or M_UNRECOGNIZED): a v1-only server such as
	// Dendrite's. Its addresses can only be invited by 3PID.
	NoV2 bool
}

// Lookup resolves 3PIDs to the accounts they are bound to, the way Element
// does before inviting: GET /_matrix/identity/v2/hash_details for the
// pepper (skipped when pepper is given), then one POST
// /_matrix/identity/v2/lookup {"algorithm":"sha256","pepper","addresses":[hash…]}
// (spec: identity service API, "POST /_matrix/identity/v2/lookup") for all
// of pids. The identity server sees only peppered hashes. A stale pepper
// (400 M_INVALID_PEPPER) costs one more hash_details and one more lookup.
// token is the identity access token, sent as a Bearer header.
func (ic *IdentityClient) Lookup(ctx context.Context, token, pepper string, pids []ThreePID, opts ...CallOption) (LookupAnswer, Outcome) {
	var o Outcome
	for round := 0; ; round++ {
		if pepper == "" {
			var details HashDetails
			details, o = ic.HashDetails(ctx, token, opts...)
			if !o.Status.Good() {
				return LookupAnswer{NoV2: noEndpoint(o)}, o
			}
			if !slices.Contains(details.Algorithms, LookupAlgorithm) || details.LookupPepper == "" {
				return LookupAnswer{NoV2: true}, incorrectResponse(o, "hash_details: no sha256 lookup offered")
			}
			pepper = details.LookupPepper
		}
		var ans LookupAnswer
		ans, o = ic.lookup(ctx, token, pepper, pids, opts)
		if o.ErrCode == MInvalidPepper && round == 0 {
			pepper = ""
			continue
		}
		return ans, o
	}
}

// lookup is one POST /_matrix/identity/v2/lookup.
func (ic *IdentityClient) lookup(ctx context.Context, token, pepper string, pids []ThreePID, opts []CallOption) (LookupAnswer, Outcome) {
	byHash := make(map[string]ThreePID, len(pids))
	hashes := make([]string, 0, len(pids))
	for _, p := range pids {
		h := LookupHash(p.Medium, p.Address, pepper)
		if _, dup := byHash[h]; !dup {
			hashes = append(hashes, h)
		}
		byHash[h] = p
	}
	body, _ := json.Marshal(map[string]any{"algorithm": LookupAlgorithm, "pepper": pepper, "addresses": hashes})
	if token == "" {
		return LookupAnswer{}, ic.c.rejectedCall(ctx, ic.newCall(http.MethodPost, "", body, opts, "lookup"), "no identity access token")
	}
	var resp struct {
		Mappings map[string]string `json:"mappings"`
	}
	o := ic.c.doJSON(ctx, ic.newCall(http.MethodPost, token, body, opts, "lookup"), &resp)
	if !o.Status.Good() {
		return LookupAnswer{NoV2: noEndpoint(o)}, o
	}
	ans := LookupAnswer{Bound: map[ThreePID]UserID{}, Pepper: pepper}
	for h, id := range resp.Mappings {
		p, ok := byHash[h]
		if !ok {
			continue // not asked: ignored
		}
		user, err := ParseUserID(id)
		if err != nil {
			return LookupAnswer{}, incorrectResponse(o, "lookup: "+err.Error())
		}
		ans.Bound[p] = user
	}
	return ans, o
}

// noEndpoint recognises an identity server without the endpoint: 404 or
// 405 with M_UNRECOGNIZED or no errcode (a router's own answer).
func noEndpoint(o Outcome) bool {
	return (o.HTTPStatus == http.StatusNotFound || o.HTTPStatus == http.StatusMethodNotAllowed) &&
		(o.ErrCode == MUnrecognized || o.ErrCode == "" || o.ErrCode == MNotFound)
}
