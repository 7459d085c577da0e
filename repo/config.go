package repo

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"strata/chunk"
	"strata/repo/backend"
)

// FormatVersion is the highest repository format this code reads; it
// reads every version from 1 on. Version 2 keeps a journal from init on
// (docs/design.md, "The journal"), so a repository of version 2 without
// one has lost it; an older strata, which would write no journal
// records, refuses it. Version 3 is a repository under object lock
// (Config.ObjectLock): an older strata, which would write files without
// a retention, refuses it. init writes version 2 unless it sets object
// lock.
const FormatVersion = ObjectLockVersion

// JournalVersion is the first version whose repositories keep a journal.
const JournalVersion = 2

// ObjectLockVersion is the version of repositories under object lock.
const ObjectLockVersion = 3

// Config is the sealed JSON in the file "config" (docs/design.md, "Config").
// It is written once by init and never changed.
type Config struct {
	Version int       `json:"version"`
	ID      string    `json:"id"` // random, 32 hex characters
	Created time.Time `json:"created"`

	ChunkerPolynomial chunk.Pol `json:"chunker_polynomial"`
	// File and stream data.
	MinSize uint `json:"min_size"`
	AvgBits uint `json:"avg_bits"`
	MaxSize uint `json:"max_size"`
	// Table data (line-aligned cuts).
	TableMinSize uint `json:"table_min_size"`
	TableAvgBits uint `json:"table_avg_bits"`
	TableMaxSize uint `json:"table_max_size"`

	PackSize      uint32 `json:"pack_size"`       // target bytes per pack
	MaxDeltaDepth int    `json:"max_delta_depth"` // longest chain of delta blobs
	ZstdLevel     int    `json:"zstd_level"`      // klauspost zstd.EncoderLevel

	// ObjectLock: every pack, index, snapshot and key file and the config
	// are written with a retention (docs/design.md, "Object lock"); nil
	// for a repository without. Only in version 3.
	ObjectLock *ObjectLock `json:"object_lock,omitempty"`
}

// ObjectLock is the object lock setting of a repository.
type ObjectLock struct {
	Mode string `json:"mode"` // "governance" or "compliance"
	Days int    `json:"days"` // each file is kept this many days from its writing
}

// MaxLockDays bounds ObjectLock.Days: 100 years, as S3 does.
const MaxLockDays = 36500

// Validate rejects a setting S3 would refuse.
func (l ObjectLock) Validate() error {
	if _, err := backend.ParseRetentionMode(l.Mode); err != nil || l.Mode != strings.ToLower(l.Mode) {
		return fmt.Errorf("config: object lock mode %q: want governance or compliance", l.Mode)
	}
	if l.Days < 1 || l.Days > MaxLockDays {
		return fmt.Errorf("config: object lock of %d days: want 1 to %d", l.Days, MaxLockDays)
	}
	return nil
}

// Retention is the retention of a file written at now.
func (l ObjectLock) Retention(now time.Time) backend.Retention {
	mode, _ := backend.ParseRetentionMode(l.Mode)
	return backend.Retention{Mode: mode, Until: now.Add(time.Duration(l.Days) * 24 * time.Hour).UTC()}
}

func (l ObjectLock) String() string { return fmt.Sprintf("%s, %d days", l.Mode, l.Days) }

// ChunkParams returns the chunker parameters for files and streams.
func (c Config) ChunkParams() chunk.Params {
	return chunk.Params{Pol: c.ChunkerPolynomial, MinSize: c.MinSize, AvgBits: c.AvgBits, MaxSize: c.MaxSize}
}

// TableChunkParams returns the line-aligned chunker parameters for tables.
func (c Config) TableChunkParams() chunk.Params {
	return chunk.Params{Pol: c.ChunkerPolynomial, MinSize: c.TableMinSize, AvgBits: c.TableAvgBits, MaxSize: c.TableMaxSize, LineAligned: true}
}

// Validate rejects a config that this code cannot use safely.
func (c Config) Validate() error {
	if c.Version < 1 || c.Version > FormatVersion {
		return fmt.Errorf("config: unsupported repository version %d (this strata reads versions 1 to %d)", c.Version, FormatVersion)
	}
	if err := c.ChunkParams().Validate(); err != nil {
		return fmt.Errorf("config: chunker: %w", err)
	}
	if err := c.TableChunkParams().Validate(); err != nil {
		return fmt.Errorf("config: table chunker: %w", err)
	}
	if c.PackSize < 1<<20 || c.PackSize > 1<<30 {
		return fmt.Errorf("config: pack size %d out of range 1 MiB..1 GiB", c.PackSize)
	}
	if c.MaxDeltaDepth < 0 || c.MaxDeltaDepth > 64 {
		return fmt.Errorf("config: max delta depth %d out of range 0..64", c.MaxDeltaDepth)
	}
	if c.ZstdLevel < 1 || c.ZstdLevel > 4 {
		return fmt.Errorf("config: zstd level %d out of range 1..4", c.ZstdLevel)
	}
	if c.ObjectLock != nil {
		if c.Version < ObjectLockVersion {
			return fmt.Errorf("config: object lock in a repository of version %d (it needs version %d)", c.Version, ObjectLockVersion)
		}
		return c.ObjectLock.Validate()
	}
	return nil
}

// DefaultConfig returns the settings init uses unless told otherwise, with
// a new random ID and chunker polynomial. The sizes were chosen by
// measurement (docs/design.md, "Choosing the defaults").
func DefaultConfig() (Config, error) {
	pol, err := chunk.RandomPolynomial()
	if err != nil {
		return Config{}, err
	}
	var id [16]byte
	if _, err := rand.Read(id[:]); err != nil {
		return Config{}, fmt.Errorf("reading random repository ID: %w", err)
	}
	return Config{
		Version:           JournalVersion, // ObjectLockVersion with object lock
		ID:                hex.EncodeToString(id[:]),
		Created:           time.Now().UTC().Truncate(time.Second),
		ChunkerPolynomial: pol,
		MinSize:           DefaultMinSize,
		AvgBits:           DefaultAvgBits,
		MaxSize:           DefaultMaxSize,
		TableMinSize:      DefaultTableMinSize,
		TableAvgBits:      DefaultTableAvgBits,
		TableMaxSize:      DefaultTableMaxSize,
		PackSize:          16 << 20,
		MaxDeltaDepth:     DefaultMaxDeltaDepth,
		ZstdLevel:         2,
	}, nil
}

func encodeConfig(c Config) ([]byte, error) { return json.Marshal(c) }

func decodeConfig(b []byte) (Config, error) {
	var c Config
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("config: %w", err)
	}
	return c, c.Validate()
}
