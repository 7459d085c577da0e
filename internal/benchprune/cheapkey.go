package main

import (
	"context"
	"fmt"
	"os"

	"strata/repo"
	"strata/repo/backend/local"
	"strata/repo/crypto"
)

// benchPassword is the password of the built repository's key.
const benchPassword = "bench"

// swapToCheapKey replaces the key of the repository copy in dir by one
// with a cheap key derivation and writes its password to pwFile.
// With the default key, Argon2id's block sets the peak RSS of
// every command that opens the repository, which would hide what forget
// and prune need themselves; the default key's cost is measured apart.
func swapToCheapKey(ctx context.Context, dir, pwFile string) error {
	be, err := local.Open(dir)
	if err != nil {
		return err
	}
	const cheapPassword = "bench-cheap-kdf"
	r, err := repo.Open(ctx, be, benchPassword, repo.Options{KDF: crypto.CheapKDFParams()})
	if err != nil {
		return err
	}
	if _, err := r.AddKey(ctx, cheapPassword); err != nil {
		return err
	}
	// Removed, so that opening with the cheap password does not first try
	// the default key's derivation.
	cheap, err := repo.Open(ctx, be, cheapPassword, repo.Options{})
	if err != nil {
		return err
	}
	if err := cheap.RemoveKey(ctx, r.KeyName()); err != nil {
		return fmt.Errorf("removing the default key from the copy: %w", err)
	}
	return os.WriteFile(pwFile, []byte(cheapPassword+"\n"), 0o600)
}
