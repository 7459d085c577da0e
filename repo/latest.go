package repo

import (
	"fmt"
	"strconv"
	"strings"
)

// LatestRef parses a reference to the newest snapshot or one before it,
// as git names commits before HEAD: "latest" is 0, "latest~" and
// "latest^" 1, "latest~N" N, and the suffixes add up ("latest^^" and
// "latest~1~1" are 2). Snapshots are counted among those latest chooses
// from (all of the repository for FindSnapshot; for a database, those of
// its source and host). ok is false for any other reference (an ID or a
// prefix); err is set for one that starts "latest" and is none of these.
func LatestRef(ref string) (n int, ok bool, err error) {
	rest, found := strings.CutPrefix(ref, "latest")
	if !found {
		return 0, false, nil
	}
	for rest != "" {
		switch rest[0] {
		case '^':
			n++
			rest = rest[1:]
		case '~':
			rest = rest[1:]
			digits := len(rest) - len(strings.TrimLeft(rest, "0123456789"))
			step := 1
			if digits > 0 {
				v, err := strconv.Atoi(rest[:digits])
				if err != nil || v > 1<<20 {
					return 0, false, fmt.Errorf("snapshot %q: ~%s is too far back", ref, rest[:digits])
				}
				step = v
			}
			n += step
			rest = rest[digits:]
		default:
			return 0, false, fmt.Errorf("snapshot %q: want latest, latest~N (the Nth snapshot before latest) or an ID", ref)
		}
	}
	return n, true, nil
}

// IsLatest reports whether ref names latest or one before it
// (LatestRef), well-formed or not: such a reference is never an ID.
func IsLatest(ref string) bool { return strings.HasPrefix(ref, "latest") }

// BeforeLatest returns the snapshot n before the last of sns (oldest
// first): sns[len-1-n]. ref and where ("in the repository", "of
// postgres://...") word the error when there are not that many.
func BeforeLatest(sns []*Snapshot, n int, ref, where string) (*Snapshot, error) {
	if n >= len(sns) {
		if len(sns) == 0 {
			return nil, fmt.Errorf("%w: there are no snapshots %s", ErrSnapshotNotFound, where)
		}
		return nil, fmt.Errorf("%w: %s is %d before the newest, but there are %d snapshots %s (the oldest is latest~%d)",
			ErrSnapshotNotFound, ref, n, len(sns), where, len(sns)-1)
	}
	return sns[len(sns)-1-n], nil
}
