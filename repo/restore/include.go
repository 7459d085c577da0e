package restore

import (
	"strata/filter"
)

// selector decides which nodes the include and exclude patterns select
// (package filter: a pattern with a leading "/" matches the whole
// snapshot path, any other the path's last parts, so "*.csv" matches
// base names). A node is selected when an include pattern matches its
// path or the path of one of its parent dirs, so including a dir includes
// its whole content, and no exclude pattern matches it or a parent dir,
// so excluding a dir leaves out its whole content. The walker selects
// everything below a selected dir without asking again about includes.
type selector struct {
	include filter.List // empty: everything is included
	exclude filter.List
}

// newSelector compiles the patterns of opts; no patterns gives nil, which
// selects everything.
func newSelector(opts Options) (*selector, error) {
	s := &selector{}
	for _, l := range []struct {
		to   *filter.List
		raws []string
		fold bool
	}{
		{&s.include, opts.Include, false}, {&s.include, opts.IInclude, true},
		{&s.exclude, opts.Exclude, false}, {&s.exclude, opts.IExclude, true},
	} {
		ps, err := filter.ParseList(l.raws, l.fold)
		if err != nil {
			return nil, err
		}
		*l.to = append(*l.to, ps...)
	}
	if len(s.include) == 0 && len(s.exclude) == 0 {
		return nil, nil
	}
	return s, nil
}

// excluded reports whether an exclude pattern matches p itself; the
// walker has not entered an excluded parent.
func (s *selector) excluded(p string) bool {
	return s != nil && s.exclude.Match(p)
}

// includesAll reports whether every node is included before excludes.
func (s *selector) includesAll() bool {
	return s == nil || len(s.include) == 0
}

// match reports whether an include pattern matches p itself; the walker
// has asked about p's parent dirs already.
func (s *selector) match(p string) bool {
	return s.includesAll() || s.include.Match(p)
}

// mayContain reports whether the dir p may hold a node that an include
// pattern matches.
func (s *selector) mayContain(p string) bool {
	return s.includesAll() || s.include.ChildMayMatch(p)
}
