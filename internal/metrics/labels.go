package metrics

import (
	"container/list"
	"strings"
	"sync"
	"unicode/utf8"
)

// Label values that come from tasks are bounded, so that a stream of new
// names cannot grow the registry (and every scrape) without end.

// otherValue stands for the values past a cap; noneValue for an empty one.
const (
	otherValue = "other"
	noneValue  = "none"
)

// maxLabelBytes bounds one label value.
const maxLabelBytes = 100

// cleanLabel makes v a label value: valid UTF-8, at most maxLabelBytes,
// never empty (Prometheus reads an empty label as no label).
func cleanLabel(v string) string {
	v = strings.ToValidUTF8(v, "\uFFFD")
	if len(v) > maxLabelBytes {
		cut := maxLabelBytes
		for cut > 0 && !utf8.RuneStart(v[cut]) {
			cut--
		}
		v = v[:cut]
	}
	if v == "" {
		return noneValue
	}
	return v
}

// cappedLabel keeps the first max values it is given; later ones become
// otherValue, and onCap is called for each observation folded that way.
type cappedLabel struct {
	max   int
	onCap func()

	mu   sync.RWMutex
	seen map[string]struct{}
}

func newCappedLabel(max int, onCap func()) *cappedLabel {
	return &cappedLabel{max: max, onCap: onCap, seen: map[string]struct{}{}}
}

// value returns the label value to use for v.
func (c *cappedLabel) value(v string) string {
	v = cleanLabel(v)
	c.mu.RLock()
	_, ok := c.seen[v]
	c.mu.RUnlock()
	if ok {
		return v
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.seen[v]; ok {
		return v
	}
	if len(c.seen) >= c.max {
		c.onCap()
		return otherValue
	}
	c.seen[v] = struct{}{}
	return v
}

// recentLabel keeps the max values used most recently. When a new value
// would exceed max, the least recently used one is evicted: onEvict deletes
// its series. Unlike cappedLabel it never stops following new values, which
// suits campaigns: a long-running worker meets new ones every day, and the
// old ones are over (their exact totals stay in Redis, see `mxinvite status`).
type recentLabel struct {
	max     int
	onEvict func(string)

	mu    sync.Mutex
	order *list.List // of string, most recent first
	items map[string]*list.Element
}

func newRecentLabel(max int, onEvict func(string)) *recentLabel {
	return &recentLabel{max: max, onEvict: onEvict, order: list.New(), items: map[string]*list.Element{}}
}

// with marks v as used and calls use with its label value. use runs under
// the lock, so that an eviction cannot delete a series between the choice
// of the value and its use.
func (r *recentLabel) with(v string, use func(string)) {
	v = cleanLabel(v)
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.items[v]; ok {
		r.order.MoveToFront(e)
	} else {
		r.items[v] = r.order.PushFront(v)
		if r.order.Len() > r.max {
			oldest := r.order.Remove(r.order.Back()).(string)
			delete(r.items, oldest)
			r.onEvict(oldest)
		}
	}
	use(v)
}
