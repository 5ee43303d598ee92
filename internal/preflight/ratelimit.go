package preflight

import (
	"context"
	"fmt"
	"time"

	"github.com/mxinvite/mxinvite/matrix"
)

// checkRateLimit notes, when the homeserver lets the token read the
// sender's override_ratelimit (Synapse, a server admin's token), whether
// the sender is rate-limited and what that means for the campaign. Any
// refusal (not an admin, not Synapse) adds nothing: it never fails.
func checkRateLimit(ctx context.Context, cfg Config, user matrix.UserID, r *Report) {
	if user == "" {
		return
	}
	override, found, o := cfg.Client.OverrideRatelimit(ctx, user)
	if !o.Status.Good() {
		return
	}
	n := -1
	if cfg.Addresses != nil {
		n = cfg.Addresses()
	}
	lift := "mxinvite ratelimit lift"
	if cfg.Sender != "" {
		lift += " --sender " + cfg.Sender
	}
	switch {
	case found && override.Unlimited():
		r.note(CheckRateLimit, "%s is not rate-limited (admin override: messages_per_second 0)", user)
	case found:
		interval := time.Duration(float64(time.Second) / float64(override.MessagesPerSecond))
		r.note(CheckRateLimit, "%s is rate-limited by an admin override: burst %d, then %d per second%s; %s lifts it",
			user, override.BurstCount, override.MessagesPerSecond, campaignLength(n, override.BurstCount, interval), lift)
	default:
		r.note(CheckRateLimit, "%s has no rate-limit override: Synapse's code default for 3PID invites "+
			"(burst %d, then one per %d s) applies unless homeserver.yaml sets rc_third_party_invite%s; %s lifts it",
			user, matrix.SynapseDefaultInviteBurst, int(matrix.SynapseDefaultInviteInterval/time.Second),
			campaignLength(n, matrix.SynapseDefaultInviteBurst, matrix.SynapseDefaultInviteInterval), lift)
	}
}

// checkKnownPace notes the pace the sender's gate learnt from the
// homeserver in an earlier campaign (a rate limit that still applies,
// unless it was lifted since), and what it means for this list.
func checkKnownPace(cfg Config, r *Report) {
	if cfg.SenderPace == nil {
		return
	}
	interval := cfg.SenderPace()
	if interval <= 0 {
		return
	}
	n := -1
	if cfg.Addresses != nil {
		n = cfg.Addresses()
	}
	r.note(CheckPace, "an earlier campaign of sender %s was rate-limited by the homeserver to one invite per %s%s",
		cfg.Sender, PaceText(interval), campaignLength(n, 0, interval))
}

// campaignLength says how long n invites take at a burst, then one per
// interval: the first burst at once, the last after (n-burst)*interval.
// n <= 0 (unknown, or nothing counted) gives the daily rate instead.
func campaignLength(n, burst int, interval time.Duration) string {
	switch {
	case interval <= 0:
		return ""
	case n <= 0:
		return fmt.Sprintf(": about %d invites a day", int(24*time.Hour/interval))
	case n <= burst:
		return fmt.Sprintf(": this campaign's %d addresses go out at once", n)
	}
	return fmt.Sprintf(": this campaign's %d addresses would take about %s", n, HumanDuration(time.Duration(n-burst)*interval))
}

// PaceText renders the interval of a pace: "347 ms", "1.5 s", "6 min 40 s"
// (HumanDuration from 10 s up); a pace under a second is not "0 s".
func PaceText(d time.Duration) string {
	switch {
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	case d < 10*time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	}
	return HumanDuration(d.Round(time.Second))
}

// HumanDuration renders d for people: "46 days 7 h", "3 h 20 min",
// "6 min 40 s", "40 s"; the two largest units, rounded down.
func HumanDuration(d time.Duration) string {
	d = d.Truncate(time.Second)
	days, rest := d/(24*time.Hour), d%(24*time.Hour)
	hours, rest := rest/time.Hour, rest%time.Hour
	minutes, seconds := rest/time.Minute, (rest%time.Minute)/time.Second
	plural := func(n time.Duration, one, many string) string {
		if n == 1 {
			return "1 " + one
		}
		return fmt.Sprintf("%d %s", n, many)
	}
	switch {
	case days > 0 && hours > 0:
		return plural(days, "day", "days") + fmt.Sprintf(" %d h", hours)
	case days > 0:
		return plural(days, "day", "days")
	case hours > 0 && minutes > 0:
		return fmt.Sprintf("%d h %d min", hours, minutes)
	case hours > 0:
		return fmt.Sprintf("%d h", hours)
	case minutes > 0 && seconds > 0:
		return fmt.Sprintf("%d min %d s", minutes, seconds)
	case minutes > 0:
		return fmt.Sprintf("%d min", minutes)
	}
	return fmt.Sprintf("%d s", seconds)
}
