package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Errors Load and Validate return, for errors.Is.
var (
	// ErrUnknownKey: a key strata.yaml does not have (a typo, or a key of
	// a newer strata).
	ErrUnknownKey = errors.New("unknown key")
	// ErrVersion: version missing or not one this strata reads.
	ErrVersion = errors.New("unsupported config version")
	// ErrInvalid: a value Validate refuses.
	ErrInvalid = errors.New("invalid value")
)

// Version is the config format this strata reads.
const Version = 1

// maxFileSize bounds what Load reads: a config is a few kilobytes.
const maxFileSize = 4 << 20

// maxNodes bounds the nodes the key check visits, so that aliases cannot
// make it walk an exponential tree.
const maxNodes = 200000

// FieldError is a problem with one key: its file, line and path.
type FieldError struct {
	File string
	Line int    // 0 when unknown
	Path string // "jobs[1].schedule"
	Err  error
}

func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Path != "" {
		b.WriteString(": " + e.Path)
	}
	b.WriteString(": " + e.Err.Error())
	return b.String()
}

func (e *FieldError) Unwrap() error { return e.Err }

// Load reads, checks and validates the config at path, and fills in the
// defaults (ApplyDefaults). Every problem found is in the error (one
// FieldError each, joined, in the file's order), not only the first:
// unknown keys, values that do not decode, and what Validate refuses.
func Load(path string) (*Config, error) {
	c, err := Inspect(path)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Inspect is Load for strata config validate: with problems, it returns
// them with the config as far as it was read (nil when the file could
// not be decoded), its paths resolved and defaults filled in, so that
// its Warnings and CheckSecrets can be listed in the same run. Do not
// run a config Inspect returned with an error.
func Inspect(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading config %s: %w", path, err)
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("config %s is larger than %d MiB: is it the right file?", path, maxFileSize>>20)
	}
	c, errs := parse(data, path)
	if c == nil {
		return nil, joinSorted(errs)
	}
	if c.Version != 0 && c.Version != Version {
		// A file of another strata: its keys may mean other things.
		return nil, joinSorted(append(errs, c.versionErr()))
	}
	if err := c.Validate(); err != nil {
		verrs := []error{err}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			verrs = j.Unwrap()
		}
		for _, e := range verrs {
			if !below(e, undecoded(errs)) {
				errs = append(errs, e)
			}
		}
	}
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	c.resolvePaths(dir)
	c.ApplyDefaults()
	return c, joinSorted(errs)
}

// undecoded lists the keys whose values did not decode, of errs.
func undecoded(errs []error) []string {
	var out []string
	for _, err := range errs {
		var fe *FieldError
		if errors.As(err, &fe) && fe.Path != "" && !errors.Is(err, ErrUnknownKey) {
			out = append(out, fe.Path)
		}
	}
	return out
}

// below says whether err is about one of keys or what is below them:
// Validate's word on a value that did not decode (repository: [a] has
// no url) would only repeat the decoder's.
func below(err error, keys []string) bool {
	var fe *FieldError
	if !errors.As(err, &fe) {
		return false
	}
	for _, k := range keys {
		if rest, ok := strings.CutPrefix(fe.Path, k); ok && (rest == "" || rest[0] == '.' || rest[0] == '[') {
			return true
		}
	}
	return false
}

// joinSorted joins errs in the order of their lines in the file (those
// of no line last).
func joinSorted(errs []error) error {
	line := func(err error) int {
		var fe *FieldError
		if errors.As(err, &fe) && fe.Line > 0 {
			return fe.Line
		}
		return math.MaxInt
	}
	sort.SliceStable(errs, func(i, j int) bool { return line(errs[i]) < line(errs[j]) })
	return errors.Join(errs...)
}

// Parse decodes a config read from file (named in errors), strictly:
// unknown keys and a missing or unknown version are errors, all of them
// in the error. It does not validate values; Load does.
func Parse(data []byte, file string) (*Config, error) {
	c, errs := parse(data, file)
	if c != nil {
		if err := c.versionErr(); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, joinSorted(errs)
	}
	return c, nil
}

// parse decodes a config as far as it can, going past unknown keys and
// values that do not decode, and returns it (nil when the file is no
// YAML mapping or does not decode) with those problems. It does not
// check the version.
func parse(data []byte, file string) (*Config, []error) {
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, []error{&FieldError{File: file, Err: fmt.Errorf("%w: the file is empty; start it with \"version: 1\"", ErrVersion)}}
		}
		return nil, []error{fmt.Errorf("%s: %w", file, err)}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, []error{fmt.Errorf("%s: more than one YAML document (a \"---\" line): keep one", file)}
	}
	if len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		return nil, []error{&FieldError{File: file, Line: root.Line, Err: fmt.Errorf("%w: want a mapping of keys, starting with \"version: 1\"", ErrInvalid)}}
	}
	w := keyWalker{file: file, lines: map[string]int{}}
	w.walk(root.Content[0], reflect.TypeOf(Config{}), "")
	errs := w.errs
	c := &Config{File: file, lines: w.lines}
	dec = yaml.NewDecoder(bytes.NewReader(data))
	// The key check named the unknown keys and the key meant; the
	// decoder's own errors for them would only repeat them.
	dec.KnownFields(len(w.errs) == 0)
	err := dec.Decode(c)
	var te *yaml.TypeError
	switch {
	case errors.As(err, &te):
		// The decoder went on past these values.
		for _, msg := range te.Errors {
			errs = append(errs, c.decodeErr(msg))
		}
	case err != nil:
		return nil, append(errs, fmt.Errorf("%s: %w", file, err))
	}
	return c, errs
}

// decodeErr is a decoder's message ("line 12: cannot unmarshal ...") as
// a FieldError naming the key on that line.
func (c *Config) decodeErr(msg string) error {
	var line int
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if n, after, ok := strings.Cut(rest, ": "); ok {
			if l, err := strconv.Atoi(n); err == nil {
				line, msg = l, after
			}
		}
	}
	// The deepest key on that line: "jobs[0].timeout" rather than "jobs[0]".
	path := ""
	for p, l := range c.lines {
		if l == line && (len(p) > len(path) || len(p) == len(path) && p < path) {
			path = p
		}
	}
	return &FieldError{File: c.File, Line: line, Path: path, Err: errors.New(msg)}
}

// versionErr says what is wrong with the version key, if anything.
func (c *Config) versionErr() error {
	if c.Version == Version {
		return nil
	}
	msg := fmt.Errorf("%w %d: this strata reads version %d", ErrVersion, c.Version, Version)
	if _, ok := c.lines["version"]; !ok {
		msg = fmt.Errorf("%w: missing; add \"version: %d\" at the top", ErrVersion, Version)
	}
	return c.fieldErr("version", msg)
}

// Line is the line of the key at path ("jobs[1].schedule"), or 0.
func (c *Config) Line(path string) int { return c.lines[path] }

func (c *Config) fieldErr(path string, err error) *FieldError {
	line, p := 0, path
	// The nearest key that is in the file: a missing key is reported at
	// its parent.
	for p != "" {
		if l, ok := c.lines[p]; ok {
			line = l
			break
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			break
		}
		p = p[:i]
	}
	return &FieldError{File: c.File, Line: line, Path: path, Err: err}
}

// keyWalker checks the keys of a YAML tree against the Go types, to name
// an unknown key's path and line and the key meant, and records the line
// of every key.
type keyWalker struct {
	file  string
	lines map[string]int
	errs  []error
	nodes int
}

var unmarshalerType = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()

func (w *keyWalker) walk(n *yaml.Node, t reflect.Type, path string) {
	w.nodes++
	if w.nodes > maxNodes {
		if w.nodes == maxNodes+1 {
			w.errs = append(w.errs, &FieldError{File: w.file, Line: n.Line, Path: path, Err: fmt.Errorf("%w: more than %d values (aliases expanding?)", ErrInvalid, maxNodes)})
		}
		return
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return // the decoder names the wrong kind
		}
		fields := yamlFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Value == "<<" { // a merge key: its mapping's keys count as ours
				if v.Kind == yaml.AliasNode && v.Alias != nil {
					v = v.Alias
				}
				if v.Kind == yaml.SequenceNode {
					for _, m := range v.Content {
						w.walk(m, t, path)
					}
				} else {
					w.walk(v, t, path)
				}
				continue
			}
			p := join(path, k.Value)
			f, ok := fields[k.Value]
			if !ok {
				w.errs = append(w.errs, &FieldError{File: w.file, Line: k.Line, Path: p, Err: unknownKey(k.Value, fields)})
				continue
			}
			w.lines[p] = k.Line
			w.walk(v, f.Type, p)
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return
		}
		for i, item := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			w.lines[p] = item.Line
			w.walk(item, t.Elem(), p)
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			p := join(path, n.Content[i].Value)
			w.lines[p] = n.Content[i].Line
			w.walk(n.Content[i+1], t.Elem(), p)
		}
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// yamlFields maps the yaml keys of struct t to their fields.
func yamlFields(t reflect.Type) map[string]reflect.StructField {
	out := map[string]reflect.StructField{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if name := YAMLKey(f); name != "" {
			out[name] = f
		}
	}
	return out
}

// YAMLKey is the key of a struct field in strata.yaml, or "" for a field
// that is not one.
func YAMLKey(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "-" || name == "" {
		return ""
	}
	return name
}

func unknownKey(key string, fields map[string]reflect.StructField) error {
	var known []string
	for k := range fields {
		known = append(known, k)
	}
	sort.Strings(known)
	best, bestDist := "", 4
	for _, k := range known {
		if d := editDistance(key, k); d < bestDist || (d == bestDist && best == "") {
			if d < bestDist {
				best, bestDist = k, d
			}
		}
	}
	if best != "" && bestDist <= max(1, len(key)/3) {
		return fmt.Errorf("%w %q: did you mean %q?", ErrUnknownKey, key, best)
	}
	return fmt.Errorf("%w %q (known here: %s)", ErrUnknownKey, key, strings.Join(known, ", "))
}

// editDistance is the Levenshtein distance of a and b (short keys only).
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 64
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
