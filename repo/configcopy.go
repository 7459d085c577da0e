package repo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"

	"strata/repo/backend"
	"strata/repo/crypto"
)

// ConfigDamageError is a file "config" that is missing or does not open
// and decode under the master key, while a key file's copy of it did
// (docs/design.md, "Keys"). It wraps ErrDamaged.
type ConfigDamageError struct {
	Location string
	Err      error // what is wrong with the file "config"
	// CopyFrom is the key file whose copy stood in for it; empty when no
	// key file holds one and the repository was opened with default
	// settings, for reading only.
	CopyFrom string
}

func (e *ConfigDamageError) Error() string {
	return fmt.Sprintf("config at %s is damaged: %v", e.Location, e.Err)
}

func (e *ConfigDamageError) Unwrap() []error { return []error{ErrDamaged, e.Err} }

// ConfigDamage says why the file "config" did not open when a key
// file's copy stood in for it; nil when the file opened.
func (r *Repository) ConfigDamage() *ConfigDamageError { return r.configDamage }

// openConfig opens and decodes the sealed bytes of a config.
func openConfig(master *crypto.Key, sealed []byte) (Config, error) {
	plain, err := master.Open(nil, sealed)
	if err != nil {
		return Config{}, fmt.Errorf("it does not open under the master key: %v", err)
	}
	return decodeConfig(plain)
}

func hasKeyFiles(ctx context.Context, be backend.Storage) bool {
	found := errors.New("found")
	err := be.List(ctx, backend.KeyFile, func(backend.FileInfo) error { return found })
	return errors.Is(err, found)
}

// configFromCopies finds a copy of the config that opens under the
// master key: the one in the key file that opened the repository, then
// those of the other key files (sealed under the same master key, so a
// copy that opens is authentic). It returns the config, its sealed
// bytes and the key file it came from.
func configFromCopies(ctx context.Context, be backend.Storage, master *crypto.Key, kf *KeyFile, keyName string) (Config, []byte, string, error) {
	if len(kf.Config) > 0 {
		if cfg, err := openConfig(master, kf.Config); err == nil {
			return cfg, kf.Config, keyName, nil
		}
	}
	var names []string
	err := be.List(ctx, backend.KeyFile, func(fi backend.FileInfo) error {
		if fi.Handle.Name != keyName {
			names = append(names, fi.Handle.Name)
		}
		return nil
	})
	if err != nil {
		return Config{}, nil, "", fmt.Errorf("listing key files: %w", err)
	}
	slices.Sort(names)
	for _, name := range names {
		other, err := loadKeyFile(ctx, be, name)
		if other == nil || len(other.Config) == 0 || err != nil && !errors.As(err, new(*KeyFileError)) {
			continue
		}
		if cfg, err := openConfig(master, other.Config); err == nil {
			return cfg, other.Config, name, nil
		}
	}
	return Config{}, nil, "", errNoConfigCopy
}

var errNoConfigCopy = errors.New("no key file holds an intact copy of it (key files written before strata kept one lack it): " +
	"restore the file config from a copy of the repository")

// ErrConfigUnknown: the config is damaged and no key file holds a copy,
// so blobs cannot be cut and stored as the repository's own.
var ErrConfigUnknown = errors.New("the repository's config is damaged and no key file holds a copy of it, so backups are refused: " +
	"restore the file config from a copy of the repository, or run `strata repair config --new-polynomial`")

// RepairConfig rewrites the file "config" from the key file's copy that
// stood in for it when the repository was opened, and returns the name
// of that key file; it returns "" when the config was intact. When no
// copy stood in, it refuses unless newPolynomial: then it writes a new
// config with default settings, a new ID and a new chunker polynomial
// (returning "(new)"), with which backups work again but share no chunks
// with earlier ones. The caller holds the exclusive lock. The damaged
// file is removed first, since a repository file is never replaced; a
// crash in between leaves no config, which the copy stands in for again.
func (r *Repository) RepairConfig(ctx context.Context, newPolynomial bool) (string, error) {
	if r.configDamage == nil {
		return "", nil
	}
	switch {
	case r.configDamage.CopyFrom == "" && !newPolynomial:
		return "", fmt.Errorf("config at %s: %w", r.be.Location(), ErrConfigUnknown)
	case r.configDamage.CopyFrom != "" && newPolynomial:
		return "", fmt.Errorf("refusing --new-polynomial: key file keys/%s holds a copy of the config; run `strata repair config` without it",
			shortName(r.configDamage.CopyFrom))
	case newPolynomial:
		cfg, err := DefaultConfig()
		if err != nil {
			return "", err
		}
		plain, err := encodeConfig(cfg)
		if err != nil {
			return "", err
		}
		r.cfg, r.sealedConfig = cfg, r.key.Seal(nil, plain)
	}
	h := backend.Handle{Type: backend.ConfigFile}
	if err := r.be.Remove(ctx, h); err != nil && !errors.Is(err, backend.ErrNotExist) {
		return "", fmt.Errorf("removing the damaged config: %w", err)
	}
	if err := saveBytes(ctx, r.be, h, r.sealedConfig); err != nil {
		return "", fmt.Errorf("saving config: %w", err)
	}
	got, err := loadWhole(ctx, r.be, h)
	if err != nil {
		return "", fmt.Errorf("reading the new config back: %w", err)
	}
	if !bytes.Equal(got, r.sealedConfig) {
		return "", fmt.Errorf("the new config at %s reads back different from what was written: check the storage", r.be.Location())
	}
	from := r.configDamage.CopyFrom
	if from == "" {
		from = "(new)"
	}
	r.configDamage = nil
	return from, nil
}

// sameRepository checks that master is this repository's master key, which
// a config that does not open cannot tell: a key file copied in from
// another repository opens that repository's master key and config copy,
// and repair config would then overwrite this repository's config with
// it. Some snapshot or index file (up to 8 of each are tried) must open
// under master, unless the repository has none.
func sameRepository(ctx context.Context, be backend.Storage, master *crypto.Key, keyName string) error {
	const tries = 8
	enough := errors.New("enough")
	tried := 0
	for _, t := range []backend.FileType{backend.SnapshotFile, backend.IndexFile} {
		var handles []backend.Handle
		err := be.List(ctx, t, func(fi backend.FileInfo) error {
			handles = append(handles, fi.Handle)
			if len(handles) == tries {
				return enough
			}
			return nil
		})
		if err != nil && !errors.Is(err, enough) {
			return fmt.Errorf("listing %s files: %w", t, err)
		}
		for _, h := range handles {
			sealed, err := loadWhole(ctx, be, h)
			if err != nil {
				continue
			}
			tried++
			if _, err := master.Open(nil, sealed); err == nil {
				return nil
			}
		}
	}
	if tried == 0 {
		return nil
	}
	return fmt.Errorf("the master key of key file keys/%s opens none of the %d snapshot and index files tried, so that key file "+
		"belongs to another repository: open this one with another password, or restore the file config from a copy of the repository",
		shortName(keyName), tried)
}
