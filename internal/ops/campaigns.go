package ops

import (
	"context"

	"github.com/mxinvite/mxinvite/internal/metrics"
	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/internal/record"
)

// StoreCampaigns is a metrics.CampaignSource over internal/rdb: the
// campaigns with pending invites, their counts (one MULTI per 200
// campaigns) and each one's outlook (pause, ETA).
type StoreCampaigns struct{ Store *rdb.Client }

// PendingCampaigns implements metrics.CampaignSource.
func (s StoreCampaigns) PendingCampaigns(ctx context.Context) ([]metrics.CampaignGauge, error) {
	infos, err := s.Store.ListCampaigns(ctx)
	if err != nil {
		return nil, err
	}
	var out []metrics.CampaignGauge
	for _, info := range infos {
		c := info.Counts
		if c.Pending() == 0 {
			continue
		}
		o, err := s.Store.Outlook(ctx, c)
		if err != nil {
			return nil, err
		}
		g := metrics.CampaignGauge{Campaign: info.Name, Pending: map[string]int{},
			Finished: c.States[record.StateDone] + c.States[record.StateCancelled], Paused: o.Paused != nil, ETASeconds: o.ETASeconds}
		for state, n := range c.States {
			if state.Pending() {
				g.Pending[string(state)] = n
			}
		}
		out = append(out, g)
	}
	return out, nil
}
