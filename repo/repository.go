package repo

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/zstd"

	"strata/index"
	"strata/pack"
	"strata/repo/backend"
	"strata/repo/crypto"
)

// Options tune a repository handle. The zero value is usable.
type Options struct {
	// KDF are the Argon2id parameters for new key files (init, key add,
	// key passwd); zero means crypto.DefaultKDFParams. Tests pass
	// crypto.CheapKDFParams.
	KDF crypto.KDFParams
	// TempDir holds packs while they are written; empty means os.TempDir.
	TempDir string
	// Uploads is how many full packs may upload at once while savers go
	// on filling the next ones; zero means DefaultUploads. Each waits in
	// its temporary file, so it costs disk in TempDir, not memory.
	Uploads int
	// Logger receives notices meant for the user (a stale lock removed,
	// say) as records at slog.LevelWarn; nil discards them.
	Logger *slog.Logger
	// BlobCacheSize is how many plaintext blobs loads keep for resolving
	// delta chains; zero means 256.
	BlobCacheSize int
	// LockLease is how long a lock counts without a refresh; zero means
	// 15 minutes. Holders refresh every third of it, and stop writing
	// once it ran out since the last refresh; other processes treat the
	// lock as stale only when it ran out by more than MaxClockSkew.
	// Lock refuses a lease outside MinLockLease to MaxLockLease.
	LockLease time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.KDF == (crypto.KDFParams{}) {
		o.KDF = crypto.DefaultKDFParams()
	}
	if o.TempDir == "" {
		o.TempDir = os.TempDir()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.BlobCacheSize == 0 {
		o.BlobCacheSize = 256
	}
	if o.Uploads <= 0 {
		o.Uploads = DefaultUploads
	}
	if o.LockLease == 0 {
		o.LockLease = 15 * time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Repository is an open repository. Its methods are safe for concurrent
// use: several backups may save blobs and snapshots through one handle (as
// a daemon does), and LoadIndex may run meanwhile; Flush then waits for
// the blobs other savers are storing.
type Repository struct {
	be      backend.Storage
	storage backend.Storage // be past the lock guard and object lock, for its capabilities
	key     *crypto.Key
	keyName string
	cfg     Config
	opts    Options
	// sealedConfig are the bytes of the file "config" as init wrote
	// them, or of the key file's copy that stood in for them; new key
	// files carry them (docs/design.md, "Keys").
	sealedConfig []byte
	configDamage *ConfigDamageError // nil when the file "config" opened

	// idx is replaced whole by LoadIndex; lookups read it through
	// Index() while it may be swapped.
	idx atomic.Pointer[index.Index]
	enc *pack.Encoder
	dec *pack.Decoder

	packers *packers
	cache   *blobCache
	blocks  *packBlocks // a backup's reads of delta bases (packblocks.go)

	// indexMu serializes writing index files and loading the index, so
	// that a load sees every index file this handle wrote before it, and
	// the packs of any later one in unsavedPacks.
	indexMu sync.Mutex

	mu           sync.Mutex
	unsavedPacks []index.PackBlobs // uploaded, not yet in an index file
	indexFiles   []pack.ID         // index files loaded or written
	staleNoticed map[pack.ID]bool  // stale or unreadable locks already reported
	// The index is fresh when it was loaded while this handle held a lock
	// and the handle has held one ever since: no exclusive command can
	// have changed the repository in between. Lock reloads an index that
	// is not (see Lock).
	held        map[*Lock]struct{} // locks this handle holds
	lockEpoch   uint64             // counts the times held fell empty or a lock was lost
	indexLoaded bool
	indexFresh  bool
	// The locks that name snapshots (locksaving.go): keepLocks is set by
	// KeepLocksUntilRecorded, lingering are the lock files released and
	// kept until ReleaseRecordedLocks, staleSaving the snapshots named by
	// the stale locks this handle removed (only when recordsStale).
	keepLocks    bool
	recordsStale bool // see RecordsStaleLocks
	lingering    []pack.ID
	staleSaving  []pack.ID

	skipDamagedSnapshots bool // see SkipDamagedSnapshots

	// indexedSnapshots names the snapshot files listed just before the
	// index files were, and those this handle saved since: the snapshots
	// whose blobs the loaded index is sure to hold (nil before an index
	// load). Snapshots lists only these, so a snapshot another process
	// saves after the index loaded is not read against an index that
	// lacks its blobs (a false "blob not found", or damage reported by
	// check, during a backup).
	indexedSnapshots map[pack.ID]bool

	// The journal (journalwrite.go): the last sequence number this handle
	// wrote, and the removals RecordRemovals recorded ahead.
	journalSeq     uint64
	journalPending map[JournalKey]bool

	// touched are the snapshots this handle saved, removed, protected or
	// unprotected (SnapshotsTouched), under mu.
	touched    []pack.ID
	touchedSet map[pack.ID]bool

	// packBytesRead counts the stored bytes of the blobs this handle
	// loaded from packs (PackBytesRead).
	packBytesRead atomic.Int64
}

// Init creates a repository in be with cfg, protected by password.
func Init(ctx context.Context, be backend.Storage, password string, cfg Config, opts Options) (*Repository, error) {
	opts = opts.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	// Key files without a config are a repository whose config is lost
	// (Open stands a key file's copy in for it), not an empty place.
	if _, err := be.Stat(ctx, backend.Handle{Type: backend.ConfigFile}); err == nil || hasKeyFiles(ctx, be) {
		return nil, fmt.Errorf("%w at %s", ErrRepositoryExists, be.Location())
	}
	write := be // the key file and the config are written with a retention too
	if cfg.ObjectLock != nil {
		// Before anything is written.
		if err := checkObjectLock(ctx, be, *cfg.ObjectLock); err != nil {
			return nil, err
		}
		write = retaining{Storage: be, lock: *cfg.ObjectLock, now: opts.Now}
	}
	master, err := crypto.NewRandomKey()
	if err != nil {
		return nil, err
	}
	plain, err := encodeConfig(cfg)
	if err != nil {
		return nil, err
	}
	sealed := master.Seal(nil, plain)
	// The key file carries a copy of the config's bytes (docs/design.md,
	// "Keys"), so a damaged config does not lock the repository.
	kf, err := newKeyFile(master, password, opts.KDF, sealed)
	if err != nil {
		return nil, err
	}
	keyName, err := saveKeyFile(ctx, write, kf)
	if err != nil {
		return nil, err
	}
	r, err := newRepository(be, master, keyName, cfg, opts)
	if err != nil {
		return nil, err
	}
	r.sealedConfig = sealed
	// The journal starts with a base file recording the key file, so a
	// repository whose config asks for a journal always has one.
	keyID, err := pack.ParseID(keyName)
	if err != nil {
		return nil, err
	}
	journalName, err := r.writeJournal(ctx, true, []JournalRecord{{Op: JournalAdd, Kind: backend.KeyFile, ID: keyID}})
	if err != nil {
		return nil, fmt.Errorf("starting the journal: %w", err)
	}
	// The config is written last: until it exists, there is no repository.
	if err := saveBytes(ctx, write, backend.Handle{Type: backend.ConfigFile}, sealed); err != nil {
		if !errors.Is(err, backend.ErrExists) {
			return nil, fmt.Errorf("saving config: %w", err)
		}
		// Another init won the race: its repository must not keep this
		// key file, whose password would open it with another master key
		// (through the config copy the key file carries), nor this
		// journal file, which its key cannot open.
		for _, h := range []backend.Handle{{Type: backend.KeyFile, Name: keyName}, {Type: backend.JournalFile, Name: journalName}} {
			if rerr := be.Remove(ctx, h); rerr != nil && !errors.Is(rerr, backend.ErrNotExist) {
				return nil, fmt.Errorf("%w at %s (created by another init at the same time); removing this init's %v failed, remove it by hand: %v", ErrRepositoryExists, be.Location(), h, rerr)
			}
		}
		return nil, fmt.Errorf("%w at %s (created by another init at the same time)", ErrRepositoryExists, be.Location())
	}
	// The reserve is no repository file: without it the repository is
	// complete, and the next command that writes tries again.
	if err := r.KeepReserve(ctx); err != nil {
		r.Notify("no space kept in reserve for a full disk: %v", err)
	}
	return r, nil
}

// Open unlocks the repository in be with password. It does not load the
// index: take a lock first, then call LoadIndex (or LoadIndexTolerant), so
// that the index is never older than the lock that protects its use
// (docs/design.md, "Locks"). An index loaded without a lock is reloaded by
// Lock.
func Open(ctx context.Context, be backend.Storage, password string, opts Options) (*Repository, error) {
	opts = opts.withDefaults()
	sealed, err := loadWhole(ctx, be, backend.Handle{Type: backend.ConfigFile})
	missing := errors.Is(err, backend.ErrNotExist)
	if missing && !hasKeyFiles(ctx, be) {
		return nil, fmt.Errorf("%w at %s", ErrNoRepository, be.Location())
	}
	oversized := errors.Is(err, backend.ErrTooLarge)
	// A config the storage refuses to read though it is there (not a
	// regular file, an I/O error) is damage too, for which the key file's
	// copy stands in; a refused permission or a cancelled command is not.
	unreadable := err != nil && !missing && !oversized && !errors.Is(err, fs.ErrPermission) && ctx.Err() == nil
	if err != nil && !missing && !oversized && !unreadable {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	readErr := err
	master, kf, keyName, err := openWithPassword(ctx, be, password, opts.Logger)
	if err != nil {
		return nil, err
	}
	var cfg Config
	var damage error
	switch {
	case missing:
		damage = errors.New("the file is missing")
	case oversized:
		damage = fmt.Errorf("the file is larger than a config (at most %d bytes), so it was not read", MaxConfigFileSize)
	case unreadable:
		damage = fmt.Errorf("the file cannot be read: %w", readErr)
	default:
		cfg, damage = openConfig(master, sealed)
	}
	if damage == nil {
		r, err := newRepository(be, master, keyName, cfg, opts)
		if err != nil {
			return nil, err
		}
		r.sealedConfig = sealed
		return r, nil
	}
	cfg, sealed, from, err := configFromCopies(ctx, be, master, kf, keyName)
	noCopy := errors.Is(err, errNoConfigCopy)
	if err == nil || noCopy {
		if serr := sameRepository(ctx, be, master, keyName); serr != nil {
			err = serr
			noCopy = false
		}
	}
	if err != nil && !noCopy {
		return nil, fmt.Errorf("config at %s: %w: %v; %v", be.Location(), ErrDamaged, damage, err)
	}
	cerr := &ConfigDamageError{Location: be.Location(), Err: damage, CopyFrom: from}
	if noCopy {
		// Readers need none of the config's settings: the master key
		// opens every file. Writers of blobs are refused (SaveBlob),
		// since chunks cut with another polynomial would not deduplicate.
		if cfg, err = DefaultConfig(); err != nil {
			return nil, err
		}
		opts.Logger.Warn(cerr.Error() + "; no key file holds a copy of it: reading with default settings, and backups are refused: " +
			"restore the file config from a copy of the repository, or run `strata repair config --new-polynomial`")
	} else {
		opts.Logger.Warn(cerr.Error() + "; using the copy in key file keys/" + shortName(from) + ": run `strata repair config` to rewrite it")
	}
	r, err := newRepository(be, master, keyName, cfg, opts)
	if err != nil {
		return nil, err
	}
	r.sealedConfig = sealed
	r.configDamage = cerr
	return r, nil
}

func newRepository(be backend.Storage, key *crypto.Key, keyName string, cfg Config, opts Options) (*Repository, error) {
	enc, err := pack.NewEncoder(key, zstd.EncoderLevel(cfg.ZstdLevel))
	if err != nil {
		return nil, err
	}
	dec, err := pack.NewDecoder(key)
	if err != nil {
		return nil, err
	}
	r := &Repository{
		be: be, key: key, keyName: keyName, cfg: cfg, opts: opts,
		enc: enc, dec: dec,
		cache:        newBlobCache(opts.BlobCacheSize),
		blocks:       newPackBlocks(),
		staleNoticed: map[pack.ID]bool{},
		held:         map[*Lock]struct{}{},

		journalPending: map[JournalKey]bool{},
	}
	r.storage = be
	if cfg.ObjectLock != nil {
		be = retaining{Storage: be, lock: *cfg.ObjectLock, now: opts.Now}
	}
	r.be = lockGuard{Storage: be, r: r}
	r.idx.Store(index.New())
	r.packers = newPackers(r)
	return r, nil
}

// Config returns the repository's settings.
func (r *Repository) Config() Config { return r.cfg }

// Backend returns the storage the repository lives in. Its saves and
// removals fail with ErrLockLost once a lock the handle holds is lost.
func (r *Repository) Backend() backend.Storage { return r.be }

// Index returns the in-memory index.
func (r *Repository) Index() *index.Index { return r.idx.Load() }

// Key returns the master key, for components that seal or hash themselves
// (check, for example).
func (r *Repository) Key() *crypto.Key { return r.key }

// KeyName is the name of the key file that opened this handle.
func (r *Repository) KeyName() string { return r.keyName }

// Notify passes a notice to the user: a record at slog.LevelWarn of
// Options.Logger.
func (r *Repository) Notify(format string, args ...any) {
	r.opts.Logger.Warn(fmt.Sprintf(format, args...))
}

// SaveFile seals plain and stores it under its file ID.
func (r *Repository) SaveFile(ctx context.Context, t backend.FileType, plain []byte) (pack.ID, error) {
	sealed := r.key.Seal(nil, plain)
	id := crypto.FileID(sealed)
	h := backend.Handle{Type: t, Name: id.String()}
	if max := MaxFileSize(t); int64(len(sealed)) > max {
		return id, fmt.Errorf("saving %v: %d bytes, more than the %d bytes any file in %s/ may hold (a reader would refuse it as damaged)",
			h, len(sealed), max, t)
	}
	if err := saveBytes(ctx, r.be, h, sealed); err != nil {
		return id, fmt.Errorf("saving %v: %w", h, err)
	}
	return id, nil
}

// LoadFile reads, verifies and opens the file t/id.
func (r *Repository) LoadFile(ctx context.Context, t backend.FileType, id pack.ID) ([]byte, error) {
	h := backend.Handle{Type: t, Name: id.String()}
	sealed, err := loadWhole(ctx, r.be, h)
	if errors.Is(err, ErrDamaged) {
		return nil, err // names h
	}
	if err != nil {
		return nil, fmt.Errorf("reading %v: %w", h, err)
	}
	if crypto.FileID(sealed) != id {
		if err := r.misnamed(t, id, sealed); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("%v: %w: content does not match its name (file changed or truncated)", h, ErrDamaged)
	}
	plain, err := r.key.Open(nil, sealed)
	if err != nil {
		return nil, fmt.Errorf("%v: %w: %v", h, ErrDamaged, err)
	}
	return plain, nil
}

func saveBytes(ctx context.Context, be backend.Storage, h backend.Handle, data []byte) error {
	return be.Save(ctx, h, backend.NewByteReader(data))
}
