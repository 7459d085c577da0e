package monitor

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"strata/service/daemon"
	"strata/service/health"
	"strata/service/notify"
)

// Options build a Monitor.
type Options struct {
	// Notifier sends the events; nil sends none. SetNotifier changes it.
	Notifier *notify.Notifier
	// Evaluate opens the repository and judges its health; nil judges
	// nothing after runs.
	Evaluate func(ctx context.Context) (*health.Report, error)
	// Tracker keeps the last evaluation's findings in the state folder.
	Tracker *health.Tracker
	// Host and Repository (without credentials) are put on events.
	Host, Repository string
	// Logger; nil logs nothing.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Monitor is the daemon's subscriber for notifications and health.
type Monitor struct {
	opts Options
	wake chan struct{}

	mu       sync.Mutex
	notifier *notify.Notifier   // opts.Notifier, then SetNotifier's
	retired  []*notify.Notifier // replaced, perhaps still delivering
}

// New returns a monitor; call Run to have health evaluated after runs.
func New(o Options) *Monitor {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Tracker != nil {
		o.Tracker.Host, o.Tracker.Repository = o.Host, o.Repository
	}
	return &Monitor{opts: o, wake: make(chan struct{}, 1), notifier: o.Notifier}
}

// SetNotifier sends the events from now on through n (nil: none): the
// daemon's configuration was read again. What the one it replaces is
// still delivering goes on, and Close and Run wait for it too.
func (m *Monitor) SetNotifier(n *notify.Notifier) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.notifier != nil {
		m.retired = append(m.retired, m.notifier)
	}
	m.notifier = n
}

func (m *Monitor) notify(e notify.Event) {
	m.mu.Lock()
	n := m.notifier
	m.mu.Unlock()
	if n != nil {
		n.Notify(e)
	}
}

// OnEvent is the function to give the daemon's Subscribe. It returns at
// once.
func (m *Monitor) OnEvent(e daemon.Event) {
	if ev, ok := JobEvent(e, m.opts.Host, m.opts.Repository); ok {
		m.notify(ev)
	}
	if e.Kind != daemon.Started {
		m.Reevaluate()
	}
}

// Reevaluate asks Run for an evaluation of health, as the end of a run
// does, and returns at once: the daemon's configuration was read again,
// and the findings follow its jobs and limits without waiting for a run.
func (m *Monitor) Reevaluate() {
	select {
	case m.wake <- struct{}{}:
	default: // an evaluation is already asked for
	}
}

// notifiers are the current notifier and those it replaced.
func (m *Monitor) notifiers() []*notify.Notifier {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]*notify.Notifier{m.notifier}, m.retired...)
}

// StopGrace is how long Run gives the notifications under way once its
// context ended, before it abandons them.
const StopGrace = 5 * time.Second

// Close waits for the notifications under way until ctx ends, then
// abandons those still under way, each logged with its channel.
func (m *Monitor) Close(ctx context.Context) {
	for _, n := range m.notifiers() {
		if n != nil {
			n.Close(ctx)
		}
	}
}

// Run evaluates health after each run that ended, one evaluation at a
// time, until ctx ends; then it gives the notifications under way
// StopGrace and abandons the rest.
func (m *Monitor) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), StopGrace)
			m.Close(wctx)
			cancel()
			return
		case <-m.wake:
			if _, _, err := m.Health(ctx); err != nil {
				m.opts.Logger.Warn("health evaluation", "err", err)
			}
		}
	}
}

// Health evaluates once, keeps the findings and sends the events of what
// changed. A repository that could not be read is itself a critical
// finding ("repository"), the others kept as they were.
func (m *Monitor) Health(ctx context.Context) (*health.Report, []notify.Event, error) {
	if m.opts.Evaluate == nil || m.opts.Tracker == nil {
		return nil, nil, nil
	}
	rep, evalErr := m.opts.Evaluate(ctx)
	var (
		events []notify.Event
		err    error
	)
	if evalErr != nil {
		if ctx.Err() != nil {
			return nil, nil, evalErr
		}
		events, err = m.opts.Tracker.Unreadable(m.opts.Now(), evalErr)
	} else {
		events, err = m.opts.Tracker.Update(rep)
	}
	for _, ev := range events {
		m.opts.Logger.Info("health changed", "event", string(ev.Kind), "check", ev.Check, "severity", ev.Severity.String())
		m.notify(ev)
	}
	if evalErr != nil {
		return nil, events, evalErr
	}
	return rep, events, err
}
