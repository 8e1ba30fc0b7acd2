package ops

import (
	"slices"
	"strings"
	"sync"
	"time"
)

// ChannelState is a notification channel's last success and failure in this process.
type ChannelState struct {
	Name, Type  string
	LastSent    time.Time
	LastFailure time.Time
	LastError   string // never holds a webhook URL (the dispatcher's errors do not)
	Sent        int
	Failed      int
}

// ChannelStats keeps the notification channels' states for the status page.
type ChannelStats struct {
	now func() time.Time
	mu  sync.Mutex
	chs map[string]*ChannelState
}

// NewChannelStats knows the channels defined in TRIAGEBOT_CONFIG (name → type).
func NewChannelStats(types map[string]string, now func() time.Time) *ChannelStats {
	c := &ChannelStats{now: now, chs: map[string]*ChannelState{}}
	for name, typ := range types {
		c.chs[name] = &ChannelState{Name: name, Type: typ}
	}
	return c
}

// Type is a channel's type ("unknown" for a name not defined).
func (c *ChannelStats) Type(name string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.chs[name]; ok {
		return st.Type
	}
	return "unknown"
}

// Record notes n notifications of a channel sent (err nil) or failed.
func (c *ChannelStats) Record(name string, n int, err error) {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	st, ok := c.chs[name]
	if !ok {
		return
	}
	if err == nil {
		st.LastSent = now
		st.Sent += n
		return
	}
	st.LastFailure, st.LastError = now, err.Error()
	st.Failed += n
}

// States lists the channels by name.
func (c *ChannelStats) States() []ChannelState {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]ChannelState, 0, len(c.chs))
	for _, st := range c.chs {
		out = append(out, *st)
	}
	slices.SortFunc(out, func(a, b ChannelState) int { return strings.Compare(a.Name, b.Name) })
	return out
}
