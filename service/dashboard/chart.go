package dashboard

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"strata/service/health"
)

// The chart's box, in SVG user units; the plot sits inside the margins.
const (
	chartW, chartH = 760, 260
	marginL        = 78
	marginR        = 16
	marginT        = 14
	marginB        = 34
)

// chart is one tier's SVG chart: its stored bytes (the running total of
// what its snapshots added) and each snapshot's raw bytes, over time.
type chart struct {
	Tier          string
	W, H          int
	Stored, Raw   series
	XTicks        []tick
	YTicks        []tick
	PlotX, PlotY  int // the plot's top left corner
	PlotW, PlotH  int
	Snapshots     int
	Last          GrowthPoint
	LastStored    uint64
	First, Latest time.Time
}

// series is one line: its polyline and its points with their labels.
type series struct {
	Points string // "x,y x,y ..." for <polyline points>
	Dots   []dot
}

type dot struct {
	X, Y  float64
	Title string
}

type tick struct {
	X, Y  float64
	Label string
	// Anchor is the label's text-anchor: the first and last time labels
	// stay inside the chart.
	Anchor string
}

// tierCharts draws a chart for each tier of pts (oldest first), tiers
// sorted by name ("" shown as "(none)").
func tierCharts(pts []GrowthPoint) []chart {
	byTier := map[string][]GrowthPoint{}
	for _, p := range pts {
		byTier[p.Tier] = append(byTier[p.Tier], p)
	}
	tiers := make([]string, 0, len(byTier))
	for t := range byTier {
		tiers = append(tiers, t)
	}
	sort.Strings(tiers)
	var out []chart
	for _, t := range tiers {
		out = append(out, drawChart(t, byTier[t]))
	}
	return out
}

func drawChart(tier string, pts []GrowthPoint) chart {
	sort.SliceStable(pts, func(i, j int) bool { return pts[i].Time.Before(pts[j].Time) })
	c := chart{Tier: tier, W: chartW, H: chartH, PlotX: marginL, PlotY: marginT,
		PlotW: chartW - marginL - marginR, PlotH: chartH - marginT - marginB, Snapshots: len(pts)}
	if c.Tier == "" {
		c.Tier = "(none)"
	}
	stored := make([]uint64, len(pts))
	var total, top uint64
	for i, p := range pts {
		total += p.AddedBytes
		stored[i] = total
		top = max(top, total, p.RawBytes)
	}
	if top == 0 {
		top = 1
	}
	t0, t1 := pts[0].Time, pts[len(pts)-1].Time
	c.First, c.Latest, c.Last, c.LastStored = t0, t1, pts[len(pts)-1], total
	x := func(t time.Time) float64 {
		if !t1.After(t0) {
			return float64(c.PlotX) + float64(c.PlotW)/2
		}
		return float64(c.PlotX) + float64(c.PlotW)*float64(t.Sub(t0))/float64(t1.Sub(t0))
	}
	y := func(v uint64) float64 {
		return float64(c.PlotY+c.PlotH) - float64(c.PlotH)*float64(v)/float64(top)
	}
	var sp, rp []string
	for i, p := range pts {
		px, sy, ry := x(p.Time), y(stored[i]), y(p.RawBytes)
		sp = append(sp, fmt.Sprintf("%.1f,%.1f", px, sy))
		rp = append(rp, fmt.Sprintf("%.1f,%.1f", px, ry))
		when := p.Time.Local().Format("2006-01-02 15:04")
		c.Stored.Dots = append(c.Stored.Dots, dot{px, sy, fmt.Sprintf("%s: stored %s (added %s)", when, health.Bytes(int64(stored[i])), health.Bytes(int64(p.AddedBytes)))})
		c.Raw.Dots = append(c.Raw.Dots, dot{px, ry, fmt.Sprintf("%s: raw %s", when, health.Bytes(int64(p.RawBytes)))})
	}
	c.Stored.Points, c.Raw.Points = strings.Join(sp, " "), strings.Join(rp, " ")
	for i := 0; i <= 4; i++ {
		v := top * uint64(i) / 4
		c.YTicks = append(c.YTicks, tick{X: float64(c.PlotX) - 6, Y: y(v), Label: health.Bytes(int64(v))})
	}
	layout := "2006-01-02 15:04"
	if t1.Sub(t0) > 72*time.Hour {
		layout = "2006-01-02"
	}
	ty := float64(c.PlotY + c.PlotH + 20)
	if !t1.After(t0) {
		c.XTicks = append(c.XTicks, tick{X: x(t0), Y: ty, Label: t0.Local().Format(layout), Anchor: "middle"})
		return c
	}
	mid := t0.Add(t1.Sub(t0) / 2)
	c.XTicks = append(c.XTicks,
		tick{X: x(t0), Y: ty, Label: t0.Local().Format(layout), Anchor: "start"},
		tick{X: x(mid), Y: ty, Label: mid.Local().Format(layout), Anchor: "middle"},
		tick{X: x(t1), Y: ty, Label: t1.Local().Format(layout), Anchor: "end"})
	return c
}
