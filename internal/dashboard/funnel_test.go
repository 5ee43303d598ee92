package dashboard

import (
	"strings"
	"testing"

	"github.com/mxinvite/mxinvite/internal/record"
)

// The campaign page draws the funnel once there is one, and not before.
func TestCampaignPageDrawsTheFunnel(t *testing.T) {
	src := newFakeSource()
	c := newClient(t, Options{Source: src})
	_, page := c.do("GET", campaignPath(hostileName), nil, nil)
	if strings.Contains(page, "funnel-table") {
		t.Fatal("a funnel drawn for a campaign without one")
	}
	src.campaigns[0].Counts.Deliveries = map[record.Delivery]int{record.DeliveryUserID: 15, record.Delivery3PID: 40, record.DeliveryAlreadyJoined: 5}
	src.campaigns[0].Counts.Funnel = record.Funnel{Sent: 55, Registered: 10, Joined: 15}
	_, page = c.do("GET", campaignPath(hostileName), nil, nil)
	for _, want := range []string{
		`<tr data-stage="sent"><th>sent</th><td class="n">55</td>`, `<progress max="60" value="55"`,
		`<tr data-stage="registered"><th>registered</th><td class="n">10</td>`, `<progress max="40" value="10"`,
		`<tr data-stage="joined"><th>joined</th><td class="n">15</td>`, `<progress max="60" value="15"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("campaign page lacks %q", want)
		}
	}
}
