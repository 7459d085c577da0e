package filter

import (
	"fmt"
	"path"
	"strings"
)

// Pattern is one compiled pattern.
type Pattern struct {
	raw      string
	anchored bool     // started with "/"
	parts    []string // split at "/", without empty parts
	fold     bool     // parts are lower case; match lower-cased paths
}

// Parse compiles a pattern. With fold, it matches without regard to case
// (restic's --iinclude and --iexclude). An empty pattern and a malformed
// part ("[a-") are errors naming the pattern.
func Parse(raw string, fold bool) (Pattern, error) {
	if strings.TrimSpace(raw) == "" {
		return Pattern{}, fmt.Errorf("empty pattern %q", raw)
	}
	p := Pattern{raw: raw, anchored: strings.HasPrefix(raw, "/"), fold: fold}
	s := raw
	if fold {
		s = strings.ToLower(s)
	}
	for _, part := range strings.Split(s, "/") {
		if part == "" || part == "." {
			continue
		}
		if _, err := path.Match(part, ""); err != nil {
			return Pattern{}, fmt.Errorf("pattern %q: %w", raw, err)
		}
		p.parts = append(p.parts, part)
	}
	if !p.anchored && len(p.parts) == 0 {
		return Pattern{}, fmt.Errorf("pattern %q names no path", raw)
	}
	return p, nil
}

// String returns the pattern as given.
func (p Pattern) String() string { return p.raw }

// Match reports whether the pattern matches the path p ("/a/b/c"; a path
// without a leading slash is taken from the root). The pattern "/"
// matches every path.
func (p Pattern) Match(pth string) bool {
	if p.anchored && len(p.parts) == 0 {
		return true
	}
	names := p.split(pth)
	if p.anchored {
		return matchParts(p.parts, names)
	}
	for i := range names {
		if matchParts(p.parts, names[i:]) {
			return true
		}
	}
	return false
}

// ChildMayMatch reports whether a path below the dir p may match the
// pattern, so that a walker knows whether to look into a dir that the
// pattern does not match itself.
func (p Pattern) ChildMayMatch(dir string) bool {
	if !p.anchored || len(p.parts) == 0 {
		return true // it may match the last parts of any deeper path
	}
	return prefixMayMatch(p.parts, p.split(dir))
}

func (p Pattern) split(pth string) []string {
	if p.fold {
		pth = strings.ToLower(pth)
	}
	var names []string
	for _, n := range strings.Split(pth, "/") {
		if n != "" {
			names = append(names, n)
		}
	}
	return names
}

// matchParts matches pattern parts against all of names.
func matchParts(pat, names []string) bool {
	if len(pat) == 0 {
		return len(names) == 0
	}
	if pat[0] == "**" {
		for i := 0; i <= len(names); i++ {
			if matchParts(pat[1:], names[i:]) {
				return true
			}
		}
		return false
	}
	if len(names) == 0 {
		return false
	}
	if ok, _ := path.Match(pat[0], names[0]); !ok {
		return false
	}
	return matchParts(pat[1:], names[1:])
}

// prefixMayMatch reports whether names followed by one or more names can
// match pat.
func prefixMayMatch(pat, names []string) bool {
	if len(names) == 0 {
		return len(pat) > 0
	}
	if len(pat) == 0 {
		return false
	}
	if pat[0] == "**" {
		return true
	}
	if ok, _ := path.Match(pat[0], names[0]); !ok {
		return false
	}
	return prefixMayMatch(pat[1:], names[1:])
}

// List is a set of patterns; a path matches the list when it matches any
// of them.
type List []Pattern

// ParseList compiles patterns; see Parse.
func ParseList(raws []string, fold bool) (List, error) {
	var l List
	for _, raw := range raws {
		p, err := Parse(raw, fold)
		if err != nil {
			return nil, err
		}
		l = append(l, p)
	}
	return l, nil
}

// Match reports whether any pattern matches p.
func (l List) Match(p string) bool {
	for _, pat := range l {
		if pat.Match(p) {
			return true
		}
	}
	return false
}

// ChildMayMatch reports whether any pattern may match a path below dir.
func (l List) ChildMayMatch(dir string) bool {
	for _, pat := range l {
		if pat.ChildMayMatch(dir) {
			return true
		}
	}
	return false
}
