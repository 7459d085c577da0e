package verify

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"strata/pack"
	"strata/repo"
	"strata/repo/backend"
)

// DamagedKeyFile: a key file does not match its name or is not a key
// file. Its password no longer opens the repository through it, unless
// it is the key in use (InUse): then the password opens no intact key
// file, and this one is its only way in.
type DamagedKeyFile struct {
	Name  string
	InUse bool
	Err   error `json:"-"`
}

// DamagedConfig: the file "config" is missing or does not open; a key
// file's copy of it stood in. `strata repair config` rewrites it.
type DamagedConfig struct {
	CopyFrom string
	Err      error `json:"-"`
}

func (*DamagedConfig) Severity() Severity { return SeverityError }
func (e *DamagedConfig) Unwrap() error    { return e.Err }
func (e *DamagedConfig) Error() string {
	if e.CopyFrom == "" {
		return fmt.Sprintf("%v; no key file holds a copy of it, so backups are refused", e.Err)
	}
	return fmt.Sprintf("%v; the copy in key file keys/%s stands in for it", e.Err, e.CopyFrom)
}

func (e *DamagedConfig) MarshalJSON() ([]byte, error) {
	type fields DamagedConfig
	return withErr((*fields)(e), e.Err)
}

// NoConfigCopy: no intact key file holds a copy of the config (they were
// written before strata kept one), so a damaged config would lock the
// repository. A notice: nothing is damaged.
type NoConfigCopy struct{}

func (*NoConfigCopy) Severity() Severity { return SeverityNotice }
func (*NoConfigCopy) Error() string {
	return "no key file holds a copy of the config (they were written before strata kept one): a damaged config would make the repository unusable"
}

// DamagedPolicyFile: a policy file could not be read, opened or decoded.
// `strata forget` without rules refuses to run until it is replaced.
type DamagedPolicyFile struct {
	File pack.ID
	Err  error `json:"-"`
}

// DamagedProtectFile: a protect file could not be read, opened or
// decoded, so which snapshot it protects is unknown. forget and
// `repair snapshots --forget` refuse to remove snapshots until it is gone.
type DamagedProtectFile struct {
	File pack.ID
	Err  error `json:"-"`
}

func (*DamagedKeyFile) Severity() Severity     { return SeverityError }
func (*DamagedPolicyFile) Severity() Severity  { return SeverityError }
func (*DamagedProtectFile) Severity() Severity { return SeverityError }

func (e *DamagedKeyFile) Unwrap() error     { return e.Err }
func (e *DamagedPolicyFile) Unwrap() error  { return e.Err }
func (e *DamagedProtectFile) Unwrap() error { return e.Err }

func (e *DamagedKeyFile) Error() string {
	if e.InUse {
		return fmt.Sprintf("key file keys/%s is damaged: %v; it is the key this password opened the repository with, "+
			"and no intact key file takes the password", e.Name, e.Err)
	}
	return fmt.Sprintf("key file keys/%s is damaged: %v; its password no longer opens the repository through it", e.Name, e.Err)
}

func (e *DamagedPolicyFile) Error() string {
	return fmt.Sprintf("policy file %s is damaged: %v; forget without rules refuses to run until the policy is set again",
		handle(backend.PolicyFile, e.File), e.Err)
}

func (e *DamagedProtectFile) Error() string {
	return fmt.Sprintf("protect file %s is damaged: %v; which snapshot it protects is unknown, so forget and "+
		"repair snapshots --forget refuse to remove snapshots until it is dealt with", handle(backend.ProtectFile, e.File), e.Err)
}

func (e *DamagedKeyFile) MarshalJSON() ([]byte, error) {
	type fields DamagedKeyFile
	return withErr((*fields)(e), e.Err)
}

func (e *DamagedPolicyFile) MarshalJSON() ([]byte, error) {
	type fields DamagedPolicyFile
	return withErr((*fields)(e), e.Err)
}

func (e *DamagedProtectFile) MarshalJSON() ([]byte, error) {
	type fields DamagedProtectFile
	return withErr((*fields)(e), e.Err)
}

// checkMetaFiles verifies the files beside the data: every key file
// against its name, and every policy and protect file as its reader
// loads it (name, seal, JSON). A file removed while check runs is no
// finding.
func (c *checker) checkMetaFiles(ctx context.Context, j *repo.Journal) error {
	if d := c.r.ConfigDamage(); d != nil {
		c.report.Findings = append(c.report.Findings, &DamagedConfig{CopyFrom: d.CopyFrom, Err: d})
	}
	keys, err := c.r.Keys(ctx)
	if err != nil {
		return fmt.Errorf("reading key files: %w", err)
	}
	slices.SortFunc(keys, func(a, b repo.KeyInfo) int { return strings.Compare(a.Name, b.Name) })
	copies := 0
	for _, k := range keys {
		if k.Damaged != "" {
			if m := c.misnamedKey(ctx, j, k.Name); m != nil {
				c.report.Findings = append(c.report.Findings, m)
				copies++ // judged once it is renamed, when Keys reads it
				continue
			}
			c.report.Findings = append(c.report.Findings, &DamagedKeyFile{Name: k.Name, InUse: k.Current, Err: fmt.Errorf("%s", k.Damaged)})
		} else if k.ConfigCopy {
			copies++
		}
	}
	if copies == 0 && c.r.ConfigDamage() == nil {
		c.report.Findings = append(c.report.Findings, &NoConfigCopy{})
	}
	decoders := []struct {
		t       backend.FileType
		decode  func([]byte) error
		finding func(pack.ID, error) Finding
	}{
		{backend.PolicyFile, func(b []byte) error { _, err := repo.DecodeStoredPolicy(b); return err },
			func(id pack.ID, err error) Finding { return &DamagedPolicyFile{File: id, Err: err} }},
		{backend.ProtectFile, func(b []byte) error { _, err := repo.DecodeProtection(b); return err },
			func(id pack.ID, err error) Finding { return &DamagedProtectFile{File: id, Err: err} }},
	}
	for _, d := range decoders {
		ids, err := c.r.List(ctx, d.t)
		if err != nil {
			return err
		}
		sortIDs(ids)
		for _, id := range ids {
			plain, err := c.r.LoadFile(ctx, d.t, id)
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if errors.Is(err, backend.ErrNotExist) {
				continue
			}
			if err == nil {
				err = d.decode(plain)
			}
			if m := c.misnamedFile(ctx, d.t, err); m != nil {
				c.report.Findings = append(c.report.Findings, m)
				continue
			}
			if err != nil {
				c.report.Findings = append(c.report.Findings, d.finding(id, err))
			}
		}
	}
	return nil
}

// misnamedKey returns a MisnamedFile finding for the key file stored as
// keys/name when its bytes hash to another key file the journal records
// (two key files swapped, one copied over another): key files are not
// sealed, so the journal's record is what tells such a file from a
// damaged one. Else nil.
func (c *checker) misnamedKey(ctx context.Context, j *repo.Journal, name string) *MisnamedFile {
	fileName, err := pack.ParseID(name)
	if err != nil {
		return nil
	}
	id, dup, ok := c.r.MisnamedKeyFile(ctx, j, name)
	if !ok {
		return nil
	}
	return &MisnamedFile{Type: backend.KeyFile, File: fileName, ID: id, Duplicate: dup}
}
