package main

import (
	"fmt"
	"strings"
)

// damTable prints the damage matrix's results: one row per file kind,
// then one line per case that missed a target.
func damTable(results []*damResult, full bool) string {
	type row struct {
		cases, harmful, detected, attributed, recovered, clean int
		unitsGone, unitsLost                                   int
	}
	rows := map[string]*row{}
	var total row
	for _, r := range results {
		if r == nil {
			continue // the case failed before it finished
		}
		k := rows[r.kind.name]
		if k == nil {
			k = &row{}
			rows[r.kind.name] = k
		}
		lost := r.units - r.restored
		avoidable := max(0, r.intact-r.restored)
		for _, x := range []*row{k, &total} {
			x.cases++
			x.unitsLost += avoidable
			x.unitsGone += lost - avoidable
			if !r.harmless {
				x.harmful++
				x.detected += b2i(r.detected)
				x.attributed += b2i(r.attributed)
			}
			x.recovered += b2i(r.recovered())
			x.clean += b2i(r.clean)
		}
	}
	var b strings.Builder
	scope := "a fifth of the cases (make test)"
	if full {
		scope = "every case (make test-damage)"
	}
	fmt.Fprintf(&b, "Damage matrix, %s. Units are the files, streams and tables of the 4 snapshots (8 in all).\n\n", scope)
	b.WriteString("| file kind | cases | detected | attributed | recovered | check clean after | units lost, no intact copy | units lost, intact copy existed |\n")
	b.WriteString("|---|--:|--:|--:|--:|--:|--:|--:|\n")
	line := func(name string, x *row) {
		fmt.Fprintf(&b, "| %s | %d | %d/%d | %d/%d | %d | %d | %d | %d |\n", name, x.cases, x.detected, x.harmful, x.attributed, x.harmful, x.recovered, x.clean, x.unitsGone, x.unitsLost)
	}
	for _, k := range damKinds {
		if x := rows[k.name]; x != nil {
			line(k.name, x)
		}
	}
	line("**all**", &total)

	b.WriteString("\nCases that missed a target (D detected, A attributed, C check clean after repairs, restored/intact/units):\n\n")
	for _, r := range results {
		if r == nil || (r.detected || r.harmless) && (r.attributed || r.harmless) && r.recovered() {
			continue
		}
		repairs := strings.Join(r.repairs, "; ")
		if repairs == "" {
			repairs = "no repair advised"
		}
		fmt.Fprintf(&b, "- %s / %s: D %s A %s C %s, %d/%d/%d; %s\n", r.kind.name, r.damage.name,
			yn(r.detected || r.harmless), yn(r.attributed || r.harmless), yn(r.clean), r.restored, r.intact, r.units, repairs)
	}
	return b.String()
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func yn(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
