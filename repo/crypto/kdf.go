package crypto

import (
	"crypto/rand"
	"fmt"
	"runtime"

	"golang.org/x/crypto/argon2"
)

// KDFParams are the Argon2id parameters stored in each key file.
type KDFParams struct {
	Time    uint32 `json:"time"`
	Memory  uint32 `json:"memory"` // KiB
	Threads uint8  `json:"threads"`
}

// DefaultKDFParams cost 32 MiB and about half a second on a small virtual
// machine (most of it spent touching the fresh memory), which makes
// password guessing expensive while unlocking stays quick: the memory
// restic's calibrated scrypt uses (N=2^15, r=8), and above OWASP's minimum
// for Argon2id (19 MiB, time 2). Unlocking is part of every hourly backup,
// so its cost is weighed against the backup's (docs/benchmarks.md).
func DefaultKDFParams() KDFParams {
	return KDFParams{Time: 3, Memory: 32 * 1024, Threads: 2}
}

// CheapKDFParams are for tests only: they make unlocking instant.
func CheapKDFParams() KDFParams {
	return KDFParams{Time: 1, Memory: 64, Threads: 1}
}

// Validate rejects parameters that argon2 cannot use or that a damaged key
// file could use to make opening a repository take forever.
func (p KDFParams) Validate() error {
	switch {
	case p.Time == 0 || p.Time > 100:
		return fmt.Errorf("argon2id time %d out of range 1..100", p.Time)
	case p.Memory < 8 || p.Memory > 4*1024*1024:
		return fmt.Errorf("argon2id memory %d KiB out of range 8..4194304", p.Memory)
	case p.Threads == 0:
		return fmt.Errorf("argon2id threads must be at least 1")
	}
	return nil
}

// DeriveKey turns a password and salt into a wrapping key.
func DeriveKey(password string, salt []byte, p KDFParams) (*Key, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	raw := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, KeySize)
	k := &Key{}
	copy(k.Enc[:], raw)
	if p.Memory >= collectAboveKiB {
		// Argon2id's block is garbage now. Collected, it does not set the
		// collector's goal, which would let the command's own heap grow to
		// twice it before the first collection. Its pages stay mapped for
		// the command's next allocations (the background scavenger returns
		// what the heap does not reuse): handing them back at once
		// (debug.FreeOSMemory) cost every command a forced scavenge on
		// the way to its work, and page faults when it then allocated
		// (docs/benchmarks.md, "Diff"). The peak of memory is the same
		// either way: the block's own.
		runtime.GC()
	}
	return k, nil
}

// collectAboveKiB: DeriveKey collects the garbage of derivations that
// used this much memory or more.
const collectAboveKiB = 16 * 1024

// NewSalt returns a random 32-byte salt.
func NewSalt() ([]byte, error) {
	salt := make([]byte, 32)
	if _, err := rand.Read(salt); err != nil {
		return nil, fmt.Errorf("reading random salt: %w", err)
	}
	return salt, nil
}
