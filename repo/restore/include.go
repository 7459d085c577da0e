package restore

import (
	"fmt"
	"path"
	"strings"
)

// selector decides which nodes an include list selects. A node is selected
// when a pattern matches its snapshot path (path.Match) or the path of one
// of its parent dirs, so including a dir includes its whole content. The
// walker then selects everything below a selected dir without asking.
type selector struct {
	patterns []string   // cleaned, absolute
	parts    [][]string // each pattern split at "/"; empty for "/"
}

// newSelector compiles patterns; no patterns gives nil, which selects
// everything. A pattern without a leading slash is taken from the root.
func newSelector(patterns []string) (*selector, error) {
	if len(patterns) == 0 {
		return nil, nil
	}
	s := &selector{}
	for _, raw := range patterns {
		p := cleanPath(raw)
		if _, err := path.Match(p, ""); err != nil {
			return nil, fmt.Errorf("include pattern %q: %w", raw, err)
		}
		s.patterns = append(s.patterns, p)
		s.parts = append(s.parts, splitPath(p))
	}
	return s, nil
}

// match reports whether a pattern matches p itself; the walker has asked
// about p's parent dirs already.
func (s *selector) match(p string) bool {
	for i, pat := range s.patterns {
		if len(s.parts[i]) == 0 {
			return true // "/": everything
		}
		if ok, _ := path.Match(pat, p); ok {
			return true
		}
	}
	return false
}

// mayContain reports whether the dir p may hold a node that a pattern
// matches: p has fewer parts than the pattern and each of them matches the
// pattern's part at the same place. Comparing part by part is exact for
// "*" and "?", which never match a slash in path.Match.
func (s *selector) mayContain(p string) bool {
	dir := splitPath(p)
	for _, parts := range s.parts {
		if len(dir) >= len(parts) {
			continue
		}
		ok := true
		for i, name := range dir {
			if m, _ := path.Match(parts[i], name); !m {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// splitPath splits a cleaned snapshot path into names; "/" has none.
func splitPath(p string) []string {
	if p == "/" {
		return nil
	}
	return strings.Split(p[1:], "/")
}
