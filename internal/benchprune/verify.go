package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"time"
)

// verifyRestores reads every remaining snapshot's table back with
// `strata dump SNAPSHOT customers --format tsv` (the stored COPY text)
// and compares its SHA-256 and length with the export the build backed
// up in that hour. A difference means prune lost or damaged data.
func verifyRestores(c config, env []string, b *buildRecord, m *measurement) error {
	byID := map[string]hourRecord{}
	for _, r := range b.Records {
		byID[r.Snapshot] = r
	}
	fmt.Printf("strata dump of the table of each of the %d remaining snapshots\n", len(m.kept))
	began := time.Now()
	for _, sn := range m.kept {
		want, ok := byID[sn.ID]
		if !ok {
			m.fail("snapshot %s (%s) was not made by the build", sn.ID[:8], sn.Time)
			continue
		}
		h := sha256.New()
		cw := &countingWriter{w: h}
		if _, err := command(env, cw, c.strata, "dump", sn.ID, tableName, "--format", "tsv"); err != nil {
			m.fail("restoring hour %d (snapshot %s): %v", want.Hour, sn.ID[:8], err)
			continue
		}
		m.restored++
		m.restoredBytes += cw.n
		if got := hex.EncodeToString(h.Sum(nil)); got != want.SHA256 || cw.n != want.Bytes {
			m.fail("hour %d (snapshot %s): restored %d bytes with SHA-256 %s, the export had %d bytes with %s",
				want.Hour, sn.ID[:8], cw.n, got[:16], want.Bytes, want.SHA256[:16])
		}
	}
	m.restoreSeconds = time.Since(began).Seconds()
	return nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
