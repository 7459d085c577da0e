package pack

// Sealer encrypts and authenticates one blob or one header. The repository's
// key implements it (package repo/crypto); pack knows only this interface.
type Sealer interface {
	// Seal appends the ciphertext of plain to dst and returns the result.
	Seal(dst, plain []byte) []byte
	// Open appends the plaintext of sealed to dst, or fails if any byte of
	// sealed was changed.
	Open(dst, sealed []byte) ([]byte, error)
	// Overhead is the number of bytes Seal adds.
	Overhead() int
}
