package audit_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"strata/pack"
	"strata/repo/audit"
	"strata/repo/backend"
	"strata/repo/backend/mem"
	"strata/repo/crypto"
)

type trail struct {
	t   *testing.T
	be  *mem.Backend
	key *crypto.Key
	log *audit.Log
	now time.Time
}

func newTrail(t *testing.T) *trail {
	key, err := crypto.NewRandomKey()
	if err != nil {
		t.Fatal(err)
	}
	be := mem.New()
	return &trail{t: t, be: be, key: key, log: audit.New(be, key), now: time.Date(2026, 12, 7, 4, 0, 0, 0, time.UTC)}
}

// add appends a record of command through l (the trail's own log unless
// given) and returns its name.
func (tr *trail) add(l *audit.Log, command string, res audit.Result) string {
	tr.t.Helper()
	if l == nil {
		l = tr.log
	}
	tr.now = tr.now.Add(time.Minute)
	rec := &audit.Record{Time: tr.now, Seconds: 1.5, Host: "db1", User: "backup", Command: command,
		Args: []string{command, "--password-file", "***"}, Result: res, Program: "strata test"}
	name, err := l.Append(context.Background(), rec)
	if err != nil {
		tr.t.Fatal(err)
	}
	return name
}

func (tr *trail) remove(name string) {
	tr.t.Helper()
	if err := tr.be.Remove(context.Background(), backend.Handle{Type: backend.AuditFile, Name: name}); err != nil {
		tr.t.Fatal(err)
	}
}

func (tr *trail) verify() *audit.Verification {
	tr.t.Helper()
	v, err := tr.log.Verify(context.Background(), 0)
	if err != nil {
		tr.t.Fatal(err)
	}
	return v
}

var ok = audit.Result{OK: true}

func TestChainAndList(t *testing.T) {
	tr := newTrail(t)
	a := tr.add(nil, "init", ok)
	b := tr.add(nil, "backup", ok)
	c := tr.add(nil, "check", audit.Result{OK: false, Error: "1 error found", ExitCode: 1, Check: &audit.CheckResult{Errors: 1, Notices: 2}})
	d := tr.add(nil, "backup", ok)
	recs, damaged, err := tr.log.List(context.Background(), audit.Filter{})
	if err != nil || len(damaged) > 0 {
		t.Fatal(err, damaged)
	}
	var names []string
	for i, r := range recs {
		names = append(names, r.Name)
		if r.Seq != uint64(i+1) {
			t.Errorf("record %d has seq %d", i, r.Seq)
		}
	}
	if !slices.Equal(names, []string{a, b, c, d}) {
		t.Fatalf("listed %v, want %v", names, []string{a, b, c, d})
	}
	if len(recs[0].Prev) != 0 || !slices.Equal(recs[1].Prev, []string{a}) || !slices.Equal(recs[3].Prev, []string{c}) {
		t.Fatalf("predecessors: %v %v %v", recs[0].Prev, recs[1].Prev, recs[3].Prev)
	}
	last, err := tr.log.Latest(context.Background(), "check")
	if err != nil || last == nil || last.Name != c || last.Result.Check.Notices != 2 {
		t.Fatalf("latest check: %+v, %v", last, err)
	}
	if none, err := tr.log.Latest(context.Background(), "verify drill"); none != nil || err != nil {
		t.Fatalf("latest drill of none: %+v, %v", none, err)
	}
	since, _, err := tr.log.List(context.Background(), audit.Filter{Since: recs[2].Time, Commands: []string{"backup"}})
	if err != nil || len(since) != 1 || since[0].Name != d {
		t.Fatalf("backups since the check: %v, %v", since, err)
	}
	if v := tr.verify(); v.Records != 4 || len(v.Damaged)+len(v.Missing)+len(v.Gaps) > 0 {
		t.Fatalf("intact trail: %+v", v)
	}
}

// hiding lists the audit folder without one file: a writer that listed
// before another's record was stored.
type hiding struct {
	*mem.Backend
	name string
}

func (h hiding) List(ctx context.Context, t backend.FileType, fn func(backend.FileInfo) error) error {
	return h.Backend.List(ctx, t, func(fi backend.FileInfo) error {
		if fi.Handle.Name == h.name {
			return nil
		}
		return fn(fi)
	})
}

func TestConcurrentWritersFormAGraph(t *testing.T) {
	tr := newTrail(t)
	a := tr.add(nil, "init", ok)
	b := tr.add(nil, "backup", ok)
	c := tr.add(audit.New(hiding{tr.be, b}, tr.key), "backup", ok) // did not see b
	if !strings.HasPrefix(b, "0000000000000002-") || !strings.HasPrefix(c, "0000000000000002-") {
		t.Fatalf("two writers at once take one number: %s %s", b, c)
	}
	d := tr.add(nil, "prune", ok)
	rec, err := tr.log.Load(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{b, c}
	slices.Sort(want)
	if !slices.Equal(rec.Prev, want) {
		t.Fatalf("the record after two at once names %v, want both %v", rec.Prev, want)
	}
	tr.remove(c)
	v := tr.verify()
	if len(v.Missing) != 1 || v.Missing[0].Name != c || !slices.Equal(v.Missing[0].NamedBy, []string{d}) || len(v.Gaps) > 0 {
		t.Fatalf("a removed branch: %+v", v)
	}
	_ = a
}

func TestVerifyFindsRemovedAndDamagedRecords(t *testing.T) {
	ctx := context.Background()
	tr := newTrail(t)
	var names []string
	for _, cmd := range []string{"init", "backup", "forget", "prune", "check", "backup", "restore"} {
		names = append(names, tr.add(nil, cmd, ok))
	}
	// The newest record named by none: its removal cannot be told
	// (docs/design.md, "What check proves").
	tr.remove(names[6])
	if v := tr.verify(); len(v.Missing)+len(v.Gaps)+len(v.Damaged) > 0 {
		t.Fatalf("removal of the head is not detectable, yet: %+v", v)
	}
	// forget's record (seq 3): named by prune's.
	tr.remove(names[2])
	// init's and backup's (seq 1 and 2): backup's is named by forget's,
	// which is gone, so seq 1 and 2 are a gap.
	tr.remove(names[0])
	tr.remove(names[1])
	// check's bytes changed.
	h := backend.Handle{Type: backend.AuditFile, Name: names[4]}
	sealed, err := tr.be.Load(ctx, h, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	sealed[len(sealed)/2] ^= 1
	tr.remove(names[4])
	if err := tr.be.Save(ctx, h, backend.NewByteReader(sealed)); err != nil {
		t.Fatal(err)
	}
	v := tr.verify()
	if len(v.Missing) != 1 || v.Missing[0].Name != names[2] || v.Missing[0].NamedBy[0] != names[3] {
		t.Errorf("missing: %+v", v.Missing)
	}
	if len(v.Gaps) != 1 || v.Gaps[0] != (audit.SeqRange{From: 1, To: 2}) {
		t.Errorf("gaps: %+v", v.Gaps)
	}
	if len(v.Damaged) != 1 || v.Damaged[0].Name != names[4] || !errors.Is(v.Damaged[0], audit.ErrDamaged) {
		t.Errorf("damaged: %+v", v.Damaged)
	}
	if v.Records != 2 {
		t.Errorf("%d records read, want 2", v.Records)
	}
}

func TestVerifyRefusesMovedAndPlantedFiles(t *testing.T) {
	ctx := context.Background()
	tr := newTrail(t)
	tr.add(nil, "init", ok)
	b := tr.add(nil, "backup", ok)
	sealed, err := tr.be.Load(ctx, backend.Handle{Type: backend.AuditFile, Name: b}, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	// The same bytes under another sequence number, and under the
	// highest number there is.
	_, id, _ := audit.ParseName(b)
	moved := audit.FileName(7, id)
	planted := audit.FileName(1<<64-1, id)
	for _, name := range []string{moved, planted, "not-a-record"} {
		if err := tr.be.Save(ctx, backend.Handle{Type: backend.AuditFile, Name: name}, backend.NewByteReader(sealed)); err != nil {
			t.Fatal(err)
		}
	}
	v := tr.verify()
	var damaged []string
	for _, d := range v.Damaged {
		damaged = append(damaged, d.Name)
	}
	want := []string{moved, planted, "not-a-record"}
	slices.Sort(want)
	if !slices.Equal(damaged, want) {
		t.Fatalf("damaged %v, want %v", damaged, want)
	}
	if len(v.Gaps) > 0 || len(v.Missing) > 0 {
		t.Fatalf("a planted name is no evidence of removals: %+v", v)
	}
}

func TestDecodeRefuses(t *testing.T) {
	id := pack.ID{1}
	good := `{"version":1,"seq":2,"prev":["` + audit.FileName(1, id) + `"],"time":"2026-12-07T04:00:00Z","seconds":1,"host":"h","command":"backup","args":[],"result":{"ok":true,"exit_code":0},"program":"strata"}`
	for _, ok := range []string{good,
		// Version 2 adds source; version 1 records with one were written
		// before it and are read too.
		strings.Replace(good, `"version":1`, `"version":2,"source":"postgres://app@db/shop"`, 1),
		strings.Replace(good, `"version":1`, `"version":1,"source":"postgres://app@db/shop"`, 1),
		// Version 3 adds a check's read_data_subset; checks' records of
		// versions 1 and 2 have none and are read as before.
		strings.Replace(good, `"version":1`, `"version":3`, 1),
		strings.Replace(strings.Replace(good, `"version":1`, `"version":3`, 1), `"exit_code":0`, `"exit_code":0,"check":{"errors":0,"notices":0,"read_data":false,"read_data_subset":"10%"}`, 1),
		strings.Replace(good, `"exit_code":0`, `"exit_code":0,"check":{"errors":0,"notices":1,"read_data":true}`, 1),
		// Version 4 adds stale_lock_snapshots.
		strings.Replace(good, `"version":1`, `"version":4,"stale_lock_snapshots":["`+id.String()+`"]`, 1),
	} {
		if _, err := audit.Decode([]byte(ok)); err != nil {
			t.Fatalf("a valid record: %v: %s", err, ok)
		}
	}
	for name, bad := range map[string]string{
		"unknown field":                     strings.Replace(good, `"host"`, `"hostname":"x","host"`, 1),
		"newer version":                     strings.Replace(good, `"version":1`, `"version":5`, 1),
		"stale lock snapshots in version 3": strings.Replace(good, `"version":1`, `"version":3,"stale_lock_snapshots":["`+id.String()+`"]`, 1),
		"subset in version 2": strings.Replace(strings.Replace(good, `"version":1`, `"version":2`, 1), `"exit_code":0`,
			`"exit_code":0,"check":{"errors":0,"notices":0,"read_data":false,"read_data_subset":"1/10"}`, 1),
		"version 0":         strings.Replace(good, `"version":1`, `"version":0`, 1),
		"seq 0":             strings.Replace(good, `"seq":2`, `"seq":0`, 1),
		"wrong prev seq":    strings.Replace(good, `"seq":2`, `"seq":3`, 1),
		"first with prev":   strings.Replace(good, `"seq":2`, `"seq":1`, 1),
		"no time":           strings.Replace(good, `"time":"2026-12-07T04:00:00Z",`, "", 1),
		"no command":        strings.Replace(good, `"command":"backup"`, `"command":""`, 1),
		"ok with error":     strings.Replace(good, `"ok":true`, `"ok":true,"error":"x"`, 1),
		"failed, exit 0":    strings.Replace(good, `"ok":true`, `"ok":false,"error":"x"`, 1),
		"trailing data":     good + "{}",
		"negative duration": strings.Replace(good, `"seconds":1`, `"seconds":-1`, 1),
	} {
		if _, err := audit.Decode([]byte(bad)); err == nil {
			t.Errorf("%s: accepted %s", name, bad)
		}
	}
}

func TestNewRecordMasksSecrets(t *testing.T) {
	start := time.Now().Add(-2 * time.Second)
	rec := audit.NewRecord("backup", []string{"backup", "--db", "postgres://app:hunter2@db1/shop"}, start, "strata test")
	rec.SetResult(errors.New("connecting to postgres://app:hunter2@db1/shop: refused"), 0)
	for _, s := range append(rec.Args, rec.Result.Error) {
		if strings.Contains(s, "hunter2") {
			t.Errorf("a password survives in %q", s)
		}
	}
	if rec.Result.OK || rec.Result.ExitCode != 1 || rec.Seconds < 2 || rec.Host == "" {
		t.Errorf("record of a failure: %+v", rec)
	}
	rec.SetResult(nil, 0)
	if !rec.Result.OK || rec.Result.Error != "" {
		t.Errorf("record of a success: %+v", rec.Result)
	}
	if _, err := newTrail(t).log.Append(context.Background(), rec); err != nil {
		t.Errorf("a new record is not appended: %v", err)
	}
}

// TestAppendWritesTheLowestVersion: a record is written at the lowest
// format version that holds its fields, so a strata that reads only
// version 1 reads every record but a drill's with its source and a
// check's of a subset of the data; the newest version reads them all.
func TestAppendWritesTheLowestVersion(t *testing.T) {
	tr := newTrail(t)
	plain := tr.add(nil, "backup", ok)
	rec := &audit.Record{Time: tr.now, Host: "db1", Command: "verify drill", Args: []string{}, Result: ok,
		Source: "postgres://app@db/shop", Program: "strata test"}
	drill, err := tr.log.Append(context.Background(), rec)
	if err != nil {
		t.Fatal(err)
	}
	checkRec := func(c audit.CheckResult) string {
		name, err := tr.log.Append(context.Background(), &audit.Record{Time: tr.now, Host: "db1", Command: "check", Args: []string{},
			Result: audit.Result{OK: true, Check: &c}, Program: "strata test"})
		if err != nil {
			t.Fatal(err)
		}
		return name
	}
	full := checkRec(audit.CheckResult{ReadData: true})
	subset := checkRec(audit.CheckResult{ReadDataSubset: "10%"})
	stale, err := tr.log.Append(context.Background(), &audit.Record{Time: tr.now, Host: "db1", Command: "snapshots", Args: []string{},
		Result: ok, StaleLockSnapshots: []pack.ID{{7}}, Program: "strata test"})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]int{plain: audit.Version1, drill: audit.Version2, full: audit.Version1, subset: audit.Version3, stale: audit.Version4} {
		got, err := tr.log.Load(context.Background(), name)
		if err != nil {
			t.Fatal(err)
		}
		if got.Version != want {
			t.Errorf("record %s (source %q) has version %d, want %d", name, got.Source, got.Version, want)
		}
	}
	if got, err := tr.log.Load(context.Background(), subset); err != nil || got.Result.Check.ReadDataSubset != "10%" {
		t.Fatalf("the subset check's record: %v %+v", err, got)
	}
}
