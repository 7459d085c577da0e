package progress

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Source reports the current totals: done and, when known, total bytes
// (total 0 means unknown), and a short text such as "12 files".
type Source func() (done, total uint64, extra string)

// Bar redraws one status line on w every interval until Stop.
type Bar struct {
	w      io.Writer
	label  string
	source Source
	start  time.Time
	now    func() time.Time

	stop chan struct{}
	wg   sync.WaitGroup
	last int
}

// Start begins drawing when enabled; a disabled Bar does nothing, so
// callers need no conditionals.
func Start(w io.Writer, enabled bool, label string, source Source) *Bar {
	b := &Bar{w: w, label: label, source: source, start: time.Now(), now: time.Now, stop: make(chan struct{})}
	if !enabled {
		return b
	}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-b.stop:
				return
			case <-t.C:
				b.draw()
			}
		}
	}()
	return b
}

// Stop clears the line. Safe to call more than once.
func (b *Bar) Stop() {
	select {
	case <-b.stop:
		return
	default:
		close(b.stop)
	}
	b.wg.Wait()
	if b.last > 0 {
		fmt.Fprintf(b.w, "\r%s\r", strings.Repeat(" ", b.last))
		b.last = 0
	}
}

func (b *Bar) draw() {
	line := Line(b.label, b.source, b.now().Sub(b.start))
	pad := ""
	if len(line) < b.last {
		pad = strings.Repeat(" ", b.last-len(line))
	}
	fmt.Fprintf(b.w, "\r%s%s", line, pad)
	b.last = len(line)
}

// Line formats one status line; exported for tests.
func Line(label string, source Source, elapsed time.Duration) string {
	done, total, extra := source()
	secs := elapsed.Seconds()
	rate := 0.0
	if secs > 0 {
		rate = float64(done) / secs
	}
	var sb strings.Builder
	sb.WriteString(label)
	if total > 0 {
		pct := float64(done) / float64(total) * 100
		if pct > 100 {
			pct = 100
		}
		fmt.Fprintf(&sb, " %s %5.1f%% %s / %s", graphic(pct), pct, Bytes(done), Bytes(total))
	} else {
		fmt.Fprintf(&sb, " %s", Bytes(done))
	}
	fmt.Fprintf(&sb, "  %s/s", Bytes(uint64(rate)))
	if total > done && rate > 0 {
		eta := time.Duration(float64(total-done) / rate * float64(time.Second))
		fmt.Fprintf(&sb, "  ETA %s", Duration(eta))
	}
	if extra != "" {
		sb.WriteString("  " + extra)
	}
	return sb.String()
}

// Bytes formats a byte count with binary units.
func Bytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// Duration formats d as h:mm:ss or m:ss.
func Duration(d time.Duration) string {
	s := int(d.Round(time.Second).Seconds())
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// barWidth is the number of cells between the brackets of the bar.
const barWidth = 20

// graphic draws pct (0 to 100) as "[=====>      ]".
func graphic(pct float64) string {
	full := int(pct / 100 * barWidth)
	if full >= barWidth {
		return "[" + strings.Repeat("=", barWidth) + "]"
	}
	return "[" + strings.Repeat("=", full) + ">" + strings.Repeat(" ", barWidth-full-1) + "]"
}

// Counted writes n and the noun, plural unless n is 1: "1 snapshot",
// "2 snapshots", "3 entries".
func Counted[T ~int | ~int64 | ~uint64 | ~uint32](n T, noun string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", noun)
	}
	if strings.HasSuffix(noun, "y") && !strings.HasSuffix(noun, "ey") {
		return fmt.Sprintf("%d %sies", n, noun[:len(noun)-1])
	}
	for _, end := range []string{"s", "x", "ch", "sh"} {
		if strings.HasSuffix(noun, end) {
			return fmt.Sprintf("%d %ses", n, noun)
		}
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
