package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Options tune a Notifier.
type Options struct {
	// Logger receives a record per delivery that failed or was retried;
	// nil means none. Records name channels, never their URLs.
	Logger *slog.Logger
	// Attempts is how often a failing channel is tried per event; 0 means
	// 4.
	Attempts int
	// Backoff is the wait after the first failed attempt, doubled after
	// each further one up to MaxBackoff; 0 means 2 s and 1 min. A 429's
	// Retry-After is honoured up to MaxBackoff.
	Backoff, MaxBackoff time.Duration
	// Timeout bounds one attempt; 0 means 30 s.
	Timeout time.Duration
	// Host is put on events that do not name one.
	Host string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Attempts <= 0 {
		o.Attempts = 4
	}
	if o.Backoff <= 0 {
		o.Backoff = 2 * time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = time.Minute
	}
	if o.Timeout <= 0 {
		o.Timeout = defaultTimeout
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Notifier sends events to its channels.
type Notifier struct {
	channels []Channel
	opts     Options
	pending  sync.WaitGroup
	// life is the context of the deliveries Notify starts; abandon ends
	// it.
	life    context.Context
	abandon context.CancelFunc
}

// NewNotifier returns a notifier for channels; their names must be
// unique.
func NewNotifier(channels []Channel, opts Options) (*Notifier, error) {
	seen := map[string]bool{}
	for _, c := range channels {
		if seen[c.Name()] {
			return nil, fmt.Errorf("two notification channels are named %q: give each its own name", c.Name())
		}
		seen[c.Name()] = true
	}
	life, abandon := context.WithCancel(context.Background())
	return &Notifier{channels: channels, opts: opts.withDefaults(), life: life, abandon: abandon}, nil
}

// Channels are the notifier's channels.
func (n *Notifier) Channels() []Channel { return n.channels }

// Result is what became of an event on one channel.
type Result struct {
	Channel string `json:"channel"`
	Type    string `json:"type"`
	// Skipped: the channel's filter does not take the event.
	Skipped  bool  `json:"skipped,omitempty"`
	Attempts int   `json:"attempts"`
	Err      error `json:"-"`
}

// OK says whether the event was delivered or skipped.
func (r Result) OK() bool { return r.Err == nil }

// Notify sends e to every channel that takes it, in the background: it
// returns at once, and a channel that fails or hangs delays nothing. Wait
// waits for what Notify started, Close gives it a grace and abandons it.
func (n *Notifier) Notify(e Event) {
	n.pending.Add(1)
	go func() {
		defer n.pending.Done()
		n.Send(n.life, e)
	}()
}

// Close waits for the deliveries Notify started until ctx ends, then
// abandons those still under way (each logged with its channel) and
// waits for them to return, which they do at once.
func (n *Notifier) Close(ctx context.Context) {
	if n.Wait(ctx) != nil {
		n.abandon()
		n.pending.Wait()
	}
	n.abandon()
}

// Wait waits for the deliveries Notify started, or until ctx ends.
func (n *Notifier) Wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		n.pending.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Send sends e to every channel that takes it, all at once, each retried
// as Options say, and returns a result per channel in the channels'
// order once all are done.
func (n *Notifier) Send(ctx context.Context, e Event) []Result {
	return n.send(ctx, e, n.channels)
}

// Test sends a test event to the channel named name, or to every channel
// when name is "", whatever their filters.
func (n *Notifier) Test(ctx context.Context, name string) ([]Result, error) {
	chs := n.channels
	if name != "" {
		chs = nil
		for _, c := range n.channels {
			if c.Name() == name {
				chs = []Channel{c}
			}
		}
		if chs == nil {
			return nil, fmt.Errorf("no notification channel is named %q: strata config show lists them", name)
		}
	}
	if len(chs) == 0 {
		return nil, errors.New("no notification channels are configured: add them under notifications: in the configuration")
	}
	e := Event{Kind: Test, Severity: Info, Message: "a test notification from strata: this channel works"}
	return n.send(ctx, e, chs), nil
}

func (n *Notifier) send(ctx context.Context, e Event, chs []Channel) []Result {
	e = e.withDefaults(n.opts.Now())
	if e.Host == "" {
		e.Host = n.opts.Host
	}
	results := make([]Result, len(chs))
	var wg sync.WaitGroup
	for i, c := range chs {
		results[i] = Result{Channel: c.Name(), Type: c.Type()}
		if f, ok := c.(filtered); ok && !f.accepts(e) {
			results[i].Skipped = true
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i].Attempts, results[i].Err = n.deliver(ctx, c, e)
		}()
	}
	wg.Wait()
	return results
}

// deliver tries c until it takes e, it fails for good, the attempts are
// used up, or ctx ends. Each attempt has its own Timeout, so one that
// hangs costs that attempt, not the others: a delivery takes at most
// Attempts × Timeout plus the pauses between them.
func (n *Notifier) deliver(ctx context.Context, c Channel, e Event) (int, error) {
	log := n.opts.Logger.With("channel", c.Name(), "type", c.Type(), "event", string(e.Kind))
	wait := n.opts.Backoff
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, n.opts.Timeout)
		err := c.Send(actx, e)
		cancel()
		if err == nil {
			if attempt > 1 {
				log.Info("notification delivered", "attempts", attempt)
			}
			return attempt, nil
		}
		var se *SendError
		retry := errors.As(err, &se) && se.Retry
		err = fmt.Errorf("notification channel %q (%s): %w", c.Name(), c.Type(), err)
		if ctx.Err() != nil {
			log.Warn("notification abandoned", "attempts", attempt, "err", err)
			return attempt, fmt.Errorf("%w (abandoned: %w)", err, ctx.Err())
		}
		if !retry || attempt >= n.opts.Attempts {
			log.Warn("notification failed", "attempts", attempt, "err", err)
			return attempt, err
		}
		d := wait
		if se.RetryAfter > d {
			d = se.RetryAfter
		}
		d = min(d, n.opts.MaxBackoff)
		log.Info("notification failed, retrying", "attempt", attempt, "in", d, "err", err)
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			log.Warn("notification abandoned", "attempts", attempt, "err", err)
			return attempt, fmt.Errorf("%w (abandoned before retrying: %w)", err, ctx.Err())
		case <-t.C:
		}
		wait = min(wait*2, n.opts.MaxBackoff)
	}
}
