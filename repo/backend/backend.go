package backend

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// FileType is the kind of a repository file; it decides the folder.
type FileType string

// The file types of docs/design.md, "Layout on disk".
const (
	ConfigFile   FileType = "config"    // the single file "config"
	KeyFile      FileType = "keys"      // keys/<name>
	PackFile     FileType = "data"      // data/<first 2 hex of name>/<name>
	IndexFile    FileType = "index"     // index/<name>
	SnapshotFile FileType = "snapshots" // snapshots/<name>
	LockFile     FileType = "locks"     // locks/<name>
	PolicyFile   FileType = "policy"    // policy/<name>
	ProtectFile  FileType = "protect"   // protect/<name>
	JournalFile  FileType = "journal"   // journal/<seq>-<name>
	AuditFile    FileType = "audit"     // audit/<seq>-<name>
)

// FileTypes lists every type, in the order a repository is laid out.
var FileTypes = []FileType{ConfigFile, KeyFile, PackFile, IndexFile, SnapshotFile, LockFile, PolicyFile, ProtectFile, JournalFile, AuditFile}

// Handle names one file. The config file has an empty Name.
type Handle struct {
	Type FileType
	Name string
}

func (h Handle) String() string {
	if h.Type == ConfigFile {
		return "config"
	}
	if h.Type == PackFile && len(h.Name) > 2 {
		return fmt.Sprintf("data/%s/%s", h.Name[:2], h.Name)
	}
	return string(h.Type) + "/" + h.Name
}

// Valid reports whether a handle may be used: a known type, and a name that
// is a plain file name (the config has none). A name may not start with a
// dot: backends keep their temporary files under ".tmp-*" names in the same
// folders, and a listing must never confuse the two.
func (h Handle) Valid() error {
	switch h.Type {
	case ConfigFile:
		if h.Name != "" {
			return fmt.Errorf("%w %v: config has no name", ErrInvalid, h)
		}
		return nil
	case KeyFile, PackFile, IndexFile, SnapshotFile, LockFile, PolicyFile, ProtectFile, JournalFile, AuditFile:
	default:
		return fmt.Errorf("%w: file type %q", ErrInvalid, h.Type)
	}
	if h.Name == "" || len(h.Name) > 255 {
		return fmt.Errorf("%w: file name %q", ErrInvalid, h.Name)
	}
	if h.Name[0] == '.' {
		return fmt.Errorf("%w: file name %q starts with a dot", ErrInvalid, h.Name)
	}
	for _, r := range h.Name {
		ok := r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-' || r == '_' || r == '.'
		if !ok {
			return fmt.Errorf("%w: file name %q", ErrInvalid, h.Name)
		}
	}
	if h.Type == PackFile && len(h.Name) < 3 {
		return fmt.Errorf("%w: pack name %q", ErrInvalid, h.Name)
	}
	return nil
}

// NamedByContent reports whether files of type t are named by the hash of
// their bytes (docs/design.md, "IDs"): every type but the config. Two
// Saves of one such name carry the same bytes, so a second one may
// rewrite the file (see Storage.Save).
func (t FileType) NamedByContent() bool { return t != ConfigFile }

// FileInfo describes a stored file.
type FileInfo struct {
	Handle Handle
	Size   int64
}

// Errors returned by every backend; compare with errors.Is.
var (
	// ErrNotExist: the file (or the repository itself) does not exist.
	ErrNotExist = errors.New("file does not exist")
	// ErrExists: Save was asked to overwrite a file; files are write-once
	// (see Storage.Save for files named by their content).
	ErrExists = errors.New("file already exists")
	// ErrRange: a ranged Load asked for bytes past the end of the file.
	ErrRange = errors.New("read past end of file")
	// ErrFull: Save failed because the storage has no room left (a full
	// disk or quota); the error wraps the system's own too.
	ErrFull = errors.New("the repository's storage is full")
	// ErrReadOnly: Save or Remove failed because the storage refuses
	// writes (a read-only mount, or no permission to write); the error
	// wraps the system's own too. Commands that only read go on without
	// a lock when the lock file is refused this way.
	ErrReadOnly = errors.New("the repository's storage is read-only")
	// ErrInvalid: the handle or file type is not valid (Handle.Valid).
	ErrInvalid = errors.New("invalid handle")
	// ErrTooLarge: LoadAll found a file larger than the bound its caller
	// set for files of its type (damage, or a file planted to exhaust
	// memory); nothing of it was read.
	ErrTooLarge = errors.New("file is larger than its type allows")
)

// Reserver is a Storage that can fill up (a local disk) and keeps space
// in reserve for that day (docs/design.md, "A full disk"): forget and
// prune release the reserve when the storage is full, so they can write
// their lock and index and then free space, and it is written again
// afterwards. The local backend implements it; storage that does not fill
// up (object stores) need not.
type Reserver interface {
	// Reserve makes sure at least size bytes are held in reserve. It fails
	// with an error wrapping ErrFull when there is no room for them.
	Reserve(ctx context.Context, size int64) error
	// ReleaseReserve gives the reserve back to the storage and returns
	// how many bytes it held (0 when none was held). It must work on a
	// full disk, and leaves a mark that Reserved reports until Reserve
	// writes the reserve again.
	ReleaseReserve(ctx context.Context) (int64, error)
	// Reserved returns the bytes held in reserve, and whether the reserve
	// was released (and not written again since).
	Reserved(ctx context.Context) (size int64, released bool, err error)
}

// The contract below holds for every backend; backendtest.Run checks it.
// Every method fails for a handle that is not Valid, and returns the
// context's error once ctx is done. Errors name the file. A Storage is safe
// for concurrent use by many goroutines.

// Lister lists the files of one type.
type Lister interface {
	// List calls fn once for each complete file of type t, with its exact
	// size, in no particular order; temporary files are never reported.
	// The config file is listed under ConfigFile when it exists. An error
	// from fn stops the listing and is returned unchanged. fn may call
	// other methods of the storage (Remove during a listing is fine); a
	// file saved or removed while the listing runs may or may not be
	// reported.
	List(ctx context.Context, t FileType, fn func(FileInfo) error) error
}

// Reader reads stored files.
type Reader interface {
	// Load returns length bytes of h from offset; length 0 reads to the
	// end. Offset and length must not be negative. A range that ends past
	// the end of the file fails with ErrRange (offset equal to the size
	// with length 0 returns no bytes); a missing file fails with
	// ErrNotExist. The returned slice belongs to the caller. A Load that
	// fails after reading part of the range (a connection cut in the
	// middle) may return the bytes it read with the error, always a
	// prefix of the range, so that a retry can go on from there; callers
	// that do not retry ignore them.
	Load(ctx context.Context, h Handle, offset, length int64) ([]byte, error)
	// Stat returns the size of h, or fails with ErrNotExist.
	Stat(ctx context.Context, h Handle) (FileInfo, error)
}

// Storage is a complete backend.
type Storage interface {
	Lister
	Reader
	// Save stores the content of rd, exactly rd.Length() bytes from its
	// first, as h, atomically: after a crash, a cancelled context or an
	// error from rd the file is either absent or complete, never partial.
	// A reader that ends before Length bytes fails the Save (with
	// ErrShortContent), as does its own error, which is returned wrapped.
	// The caller passes rd at its start; the backend may rewind it and
	// read it again.
	//
	// Files are write-once. Save of the config (a name that is not the
	// hash of its bytes) fails with ErrExists if it is already stored and
	// leaves it unchanged, and of several concurrent Saves of it at most
	// one succeeds. A file named by its content (FileType.NamedByContent)
	// can only ever be saved with the same bytes, so a Save of one that is
	// stored either fails with ErrExists or succeeds, having rewritten the
	// same bytes: backends that can refuse an existing name (local, mem,
	// object stores with conditional puts) do, and others need not.
	Save(ctx context.Context, h Handle, rd RewindReader) error
	// Remove deletes h; it fails with ErrNotExist if h is not stored.
	// After a Remove, h may be saved again.
	Remove(ctx context.Context, h Handle) error
	// Location describes where the repository lives, for messages: a
	// folder, or a URL without credentials.
	Location() string
}

// RangeLength checks a Load range against a file of size bytes and returns
// the number of bytes to read (length 0 means to the end). Backends share
// it so every one answers a bad range the same way.
func RangeLength(size, offset, length int64) (int64, error) {
	if offset < 0 || length < 0 {
		return 0, fmt.Errorf("%w: negative offset %d or length %d", ErrInvalid, offset, length)
	}
	if length == 0 {
		length = size - offset
	}
	if offset > size || length > size-offset {
		return 0, fmt.Errorf("bytes %d to %d of a %d-byte file: %w", offset, offset+length, size, ErrRange)
	}
	return length, nil
}

// TempRemover is implemented by backends that keep temporary files beside
// the stored ones (package local's ".tmp-*" files, which a killed write
// leaves behind). Prune calls it while it holds the exclusive lock.
type TempRemover interface {
	// RemoveTemp deletes temporary files last modified before cutoff and
	// returns how many it deleted and their bytes.
	RemoveTemp(ctx context.Context, cutoff time.Time) (files int, bytes int64, err error)
}

// Remote is a Storage where each request is a round trip over a network,
// billed by the request (object stores): readers that would make many
// small reads of one file make fewer, larger ones there (docs/design.md,
// "Reading delta bases").
type Remote interface {
	Remote() bool
}

// IsRemote reports whether s says it is Remote.
func IsRemote(s Storage) bool {
	r, ok := s.(Remote)
	return ok && r.Remote()
}
