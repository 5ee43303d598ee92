package dendritetest

import (
	"context"
	"net/http"
	"os/exec"
	"testing"
	"time"
)

// Password returns the password CreateUser gives the account localpart.
func Password(localpart string) string { return "dendritetest-" + localpart + "-password" }

// UserID returns "@localpart:ServerName".
func (h *Homeserver) UserID(localpart string) string { return "@" + localpart + ":" + h.ServerName }

// CreateUser creates the account localpart with Dendrite's create-account
// tool (shared-secret registration; public registration is disabled),
// password [Password](localpart), then logs in and returns the user ID and an
// access token for a new device. Non-admin accounts are subject to rate
// limiting when it is on; admin accounts never are.
func (h *Homeserver) CreateUser(t testing.TB, localpart string, admin bool) (userID, accessToken string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	args := []string{"-config", h.ConfigPath, "-url", h.URL, "-username", localpart, "-password", Password(localpart)}
	if admin {
		args = append(args, "-admin")
	}
	cmd := exec.CommandContext(ctx, h.Binaries.CreateAccount, args...)
	cmd.Dir = h.Dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("dendritetest: create-account %s: %v\n%s", localpart, err, out)
	}
	return h.UserID(localpart), h.Login(t, localpart)
}

// Login logs localpart in with its [Password] and returns the access token
// of the new device (each device has its own rate-limit bucket).
func (h *Homeserver) Login(t testing.TB, localpart string) (accessToken string) {
	t.Helper()
	r := h.Do(t, http.MethodPost, "/_matrix/client/v3/login", "", map[string]any{
		"type":       "m.login.password",
		"identifier": map[string]string{"type": "m.id.user", "user": localpart},
		"password":   Password(localpart),
	})
	mustOK(t, "login "+localpart, r)
	var body struct {
		AccessToken string `json:"access_token"`
	}
	if err := r.Decode(&body); err != nil || body.AccessToken == "" {
		t.Fatalf("dendritetest: login %s: no access_token in %s", localpart, r)
	}
	return body.AccessToken
}
