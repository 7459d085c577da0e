package main

import (
	"fmt"
	"time"

	"strata/internal/progress"
)

// statusInterval is how often --json prints a status line while a backup
// or restore runs; a last one follows when it ends.
const statusInterval = time.Second

// startProgress shows the progress of a backup or restore: a bar on a
// terminal (stderr), or with --json status lines on stdout, as restic's
// --json does; nothing with --quiet or in a pipe without --json. noun
// names what files are ("file", "table"). It returns the function that
// stops it, which prints the last status line under --json.
func (g *globals) startProgress(label string, asJSON bool, noun string, counts func() progress.Counts) func() {
	if asJSON {
		s := progress.StartStatus(g.env.stdout, !g.quiet, statusInterval, counts)
		return s.Stop
	}
	bar := progress.Start(g.env.stderr, g.showProgress(), label, func() (uint64, uint64, string) {
		c := counts()
		files := counted(c.FilesDone, noun)
		if c.FilesTotal > 0 {
			files = fmt.Sprintf("%d / %s", c.FilesDone, counted(c.FilesTotal, noun))
		}
		total := c.BytesTotal
		if c.RowsTotal > 0 {
			files += fmt.Sprintf(", %d / %s", c.RowsDone, counted(c.RowsTotal, "row"))
			// The bytes a table backup will read are unknown; the rows
			// done so far tell the bytes per row, hence percent and ETA.
			if total == 0 && c.RowsDone > 0 {
				total = uint64(float64(c.BytesDone) / float64(c.RowsDone) * float64(c.RowsTotal))
			}
		}
		return c.BytesDone, total, files
	})
	return bar.Stop
}
