package chunk

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/restic/chunker"
)

// Size limits that every Params must respect (docs/design.md, "Chunking").
const (
	// MinSizeLimit is the smallest allowed minimum size. Below it the 64-byte
	// fingerprint window and the per-blob overhead (seal, index entry)
	// dominate.
	MinSizeLimit = 512

	// MaxSizeLimit is the largest allowed maximum size. It equals
	// pack.MaxBlobSize: a chunk always fits in one blob. (chunk does not
	// import pack; the two constants must be changed together.)
	MaxSizeLimit = 64 << 20

	// PolDegree is the degree of every chunking polynomial: the largest prime
	// below 64-8, so that the fingerprint's top byte can index a table.
	PolDegree = 53
)

// Pol is a chunking polynomial: an irreducible polynomial of degree 53 over
// GF(2), bit i holding the coefficient of x^i. It is chosen at random when a
// repository is created and never changes. Its text form, used in the
// config, is lowercase hexadecimal without a prefix ("3da3358b4dc173"),
// the same text restic writes.
type Pol uint64

// RandomPolynomial returns a new random irreducible polynomial of degree 53,
// drawn from crypto/rand.
func RandomPolynomial() (Pol, error) {
	p, err := chunker.RandomPolynomial()
	if err != nil {
		return 0, fmt.Errorf("choose chunking polynomial: %w", err)
	}
	return Pol(p), nil
}

// Deg returns the degree of p, or -1 for the zero polynomial.
func (p Pol) Deg() int { return chunker.Pol(p).Deg() }

// Irreducible reports whether p is irreducible over GF(2). It takes about a
// millisecond; Params.Validate calls it, New does not.
func (p Pol) Irreducible() bool { return chunker.Pol(p).Irreducible() }

// String returns p in hexadecimal.
func (p Pol) String() string { return strconv.FormatUint(uint64(p), 16) }

// MarshalText encodes p in hexadecimal, so a config stores it as a string.
func (p Pol) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText decodes a hexadecimal polynomial.
func (p *Pol) UnmarshalText(b []byte) error {
	v, err := strconv.ParseUint(string(b), 16, 64)
	if err != nil {
		return fmt.Errorf("invalid chunking polynomial %q: %w", b, err)
	}
	*p = Pol(v)
	return nil
}

// Params are the chunking parameters. A repository stores them in its
// config (Pol as text, see Pol); changing any of them changes every cut,
// so new backups would no longer share chunks with old ones.
type Params struct {
	// Pol is the repository's polynomial.
	Pol Pol
	// MinSize is the smallest chunk in bytes; only the last chunk of a
	// stream may be shorter.
	MinSize uint
	// AvgBits sets the fingerprint mask: a cut is made where the low AvgBits
	// bits of the fingerprint are zero, so the expected size past MinSize
	// is 1<<AvgBits bytes.
	AvgBits uint
	// MaxSize is the hard limit: no chunk is longer.
	MaxSize uint
	// LineAligned moves each cut to just after a newline; see Chunker for
	// the exact rule.
	LineAligned bool
}

// Defaults for the two kinds of data strata backs up. The figures behind
// them are in docs/design.md, "Choosing the defaults".
const (
	// File and stream data: 1 MiB average, as restic; few index entries per
	// terabyte.
	FileAvgBits = 20
	FileMinSize = 256 << 10
	FileMaxSize = 8 << 20

	// Table exports: 64 KiB average, line-aligned, so that a changed row
	// rewrites about 64 KiB before compression and a delta blob against the
	// previous backup's chunk costs little more than the changed rows.
	TableAvgBits = 16
	TableMinSize = 16 << 10
	TableMaxSize = 512 << 10
)

// FileParams returns the default parameters for file and stream data.
func FileParams(pol Pol) Params {
	return Params{Pol: pol, MinSize: FileMinSize, AvgBits: FileAvgBits, MaxSize: FileMaxSize}
}

// TableParams returns the default parameters for table exports.
func TableParams(pol Pol) Params {
	return Params{Pol: pol, MinSize: TableMinSize, AvgBits: TableAvgBits, MaxSize: TableMaxSize, LineAligned: true}
}

// ErrInvalidParams is wrapped by every error Validate returns.
var ErrInvalidParams = errors.New("invalid chunking parameters")

// Validate checks that p can be used: the polynomial is irreducible of
// degree 53, and MinSizeLimit <= MinSize < 1<<AvgBits < MaxSize <=
// MaxSizeLimit. A repository validates its params once when it opens its
// config.
func (p Params) Validate() error {
	if err := p.validateCheap(); err != nil {
		return err
	}
	if !p.Pol.Irreducible() {
		return fmt.Errorf("%w: polynomial %v is reducible; the repository config is damaged", ErrInvalidParams, p.Pol)
	}
	return nil
}

// validateCheap is Validate without the irreducibility test: the checks
// without which the chunker would misbehave (a reducible polynomial only
// gives worse cuts). New runs it for every stream.
func (p Params) validateCheap() error {
	if d := p.Pol.Deg(); d != PolDegree {
		return fmt.Errorf("%w: polynomial %v has degree %d, want %d", ErrInvalidParams, p.Pol, d, PolDegree)
	}
	if p.MinSize < MinSizeLimit {
		return fmt.Errorf("%w: minimum size %d is below %d bytes", ErrInvalidParams, p.MinSize, MinSizeLimit)
	}
	if p.MaxSize > MaxSizeLimit {
		return fmt.Errorf("%w: maximum size %d is above %d bytes (the largest blob)", ErrInvalidParams, p.MaxSize, MaxSizeLimit)
	}
	if p.AvgBits >= 32 {
		return fmt.Errorf("%w: average size 2^%d is too large", ErrInvalidParams, p.AvgBits)
	}
	if avg := uint(1) << p.AvgBits; !(p.MinSize < avg && avg < p.MaxSize) {
		return fmt.Errorf("%w: want minimum size %d < average size %d < maximum size %d", ErrInvalidParams, p.MinSize, avg, p.MaxSize)
	}
	return nil
}
