package repo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/user"
	"slices"
	"strings"
	"time"

	"strata/repo/backend"
	"strata/repo/crypto"
)

// KeyFile is the JSON stored (not sealed) as keys/<name>: the master key
// sealed under a key derived from a password (docs/design.md, "Keys").
type KeyFile struct {
	Created  time.Time        `json:"created"`
	Username string           `json:"username,omitempty"`
	Hostname string           `json:"hostname,omitempty"`
	KDF      string           `json:"kdf"` // always "argon2id"
	Params   crypto.KDFParams `json:"params"`
	Salt     []byte           `json:"salt"` // 32 bytes, base64 in JSON
	Data     []byte           `json:"data"` // Seal(master key JSON) under the derived key
	// Config is a copy of the bytes of the file "config" (sealed under
	// the master key), so that the key which opens the repository can
	// stand in for a damaged or missing config (docs/design.md, "Keys").
	// Key files written before it existed lack it.
	Config []byte `json:"config,omitempty"`
}

// KeyInfo describes a key file for `key list`.
type KeyInfo struct {
	Name     string    `json:"id"`
	Created  time.Time `json:"created"`
	Username string    `json:"username"`
	Hostname string    `json:"hostname"`
	Current  bool      `json:"current"`
	// Damaged says why the key file is damaged; empty when it is intact.
	Damaged string `json:"damaged,omitempty"`
	// ConfigCopy: the key file holds a copy of the config identical to
	// the one the repository opened with (docs/design.md, "Keys").
	ConfigCopy bool `json:"config_copy"`
}

// KeyFileError is a damaged key file: its bytes do not hash to its name,
// or it is not a key file (docs/design.md, "Keys"). It wraps ErrDamaged.
type KeyFileError struct {
	Name string
	Err  error
}

func (e *KeyFileError) Error() string {
	return fmt.Sprintf("key file keys/%s is damaged: %v", e.Name, e.Err)
}

func (e *KeyFileError) Unwrap() []error { return []error{ErrDamaged, e.Err} }

func newKeyFile(master *crypto.Key, password string, params crypto.KDFParams, sealedConfig []byte) (*KeyFile, error) {
	salt, err := crypto.NewSalt()
	if err != nil {
		return nil, err
	}
	wrap, err := crypto.DeriveKey(password, salt, params)
	if err != nil {
		return nil, err
	}
	plain, err := json.Marshal(master)
	if err != nil {
		return nil, err
	}
	kf := &KeyFile{
		Created: time.Now().UTC().Truncate(time.Second),
		KDF:     "argon2id",
		Params:  params,
		Salt:    salt,
		Data:    wrap.Seal(nil, plain),
		Config:  sealedConfig,
	}
	if u, err := user.Current(); err == nil {
		kf.Username = u.Username
	}
	kf.Hostname, _ = os.Hostname()
	return kf, nil
}

// open unwraps the master key; it fails with ErrWrongPassword when the
// password does not fit.
func (kf *KeyFile) open(password string) (*crypto.Key, error) {
	if kf.KDF != "argon2id" {
		return nil, fmt.Errorf("unknown key derivation %q", kf.KDF)
	}
	if len(kf.Salt) < 16 {
		return nil, fmt.Errorf("salt of %d bytes is too short", len(kf.Salt))
	}
	wrap, err := crypto.DeriveKey(password, kf.Salt, kf.Params)
	if err != nil {
		return nil, err
	}
	plain, err := wrap.Open(nil, kf.Data)
	if err != nil {
		return nil, ErrWrongPassword
	}
	master := &crypto.Key{}
	if err := json.Unmarshal(plain, master); err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	return master, nil
}

// decodeKeyFile decodes the JSON of a key file.
func decodeKeyFile(data []byte) (*KeyFile, error) {
	kf := &KeyFile{}
	if err := json.Unmarshal(data, kf); err != nil {
		return nil, err
	}
	return kf, nil
}

func saveKeyFile(ctx context.Context, be backend.Storage, kf *KeyFile) (string, error) {
	data, err := json.MarshalIndent(kf, "", "  ")
	if err != nil {
		return "", err
	}
	if len(data) > MaxKeyFileSize {
		return "", fmt.Errorf("saving key file: %d bytes, more than the %d bytes a key file may hold", len(data), MaxKeyFileSize)
	}
	name := crypto.FileID(data).String()
	if err := saveBytes(ctx, be, backend.Handle{Type: backend.KeyFile, Name: name}, data); err != nil {
		return "", fmt.Errorf("saving key file: %w", err)
	}
	return name, nil
}

// loadKeyFile reads keys/name and checks it against its name, so that a
// damaged key file is told apart from a password that does not fit it.
// Damage is a *KeyFileError; when the file still decodes, the KeyFile is
// returned beside it, since its sealed master key may still open (the
// seal is authenticated, so a master key that opens is the right one).
func loadKeyFile(ctx context.Context, be backend.Storage, name string) (*KeyFile, error) {
	h := backend.Handle{Type: backend.KeyFile, Name: name}
	data, err := loadWhole(ctx, be, h)
	if errors.Is(err, backend.ErrTooLarge) {
		return nil, &KeyFileError{Name: name, Err: err}
	}
	if err != nil {
		return nil, fmt.Errorf("reading key file %v: %w", h, err)
	}
	kf, err := decodeKeyFile(data)
	if err != nil {
		return nil, &KeyFileError{Name: name, Err: err}
	}
	if crypto.FileID(data).String() != name {
		return kf, &KeyFileError{Name: name, Err: errors.New("its content does not match its name (file changed or truncated)")}
	}
	return kf, nil
}

// openWithPassword tries every key file and returns the master key and the
// name of the key file that opened it. When no key file opens and one is
// damaged, the error is that damage (ErrDamaged), not ErrWrongPassword:
// the password may be the damaged file's. Damaged key files beside the one
// that opened are logged at slog.LevelWarn.
func openWithPassword(ctx context.Context, be backend.Storage, password string, log *slog.Logger) (*crypto.Key, *KeyFile, string, error) {
	var names []string
	err := be.List(ctx, backend.KeyFile, func(fi backend.FileInfo) error {
		names = append(names, fi.Handle.Name)
		return nil
	})
	if err != nil {
		return nil, nil, "", fmt.Errorf("listing key files: %w", err)
	}
	if len(names) == 0 {
		// Not a wrong password: there is nothing a password could open.
		return nil, nil, "", fmt.Errorf("%w: the repository at %s has no key file (keys/ is empty), so no password can open it: "+
			"restore the key files from a copy of the repository", ErrDamaged, be.Location())
	}
	// Every key file is loaded first, so that the intact ones are tried
	// before the damaged ones: a damaged file that still opens (a copy of
	// a key under another name, changed metadata) is the key in use only
	// when no intact file takes the password, so `key remove` can remove
	// it whenever an intact file holds the same key.
	type loaded struct {
		name    string
		kf      *KeyFile
		damaged bool
	}
	var files []loaded
	var damaged []error
	for _, name := range names {
		kf, err := loadKeyFile(ctx, be, name)
		var kerr *KeyFileError
		switch {
		case errors.Is(err, backend.ErrNotExist):
			continue // removed while we listed (key passwd)
		case errors.As(err, &kerr):
			damaged = append(damaged, err)
		case err != nil:
			return nil, nil, "", err
		}
		if kf != nil {
			files = append(files, loaded{name: name, kf: kf, damaged: kerr != nil})
		}
	}
	slices.SortStableFunc(files, func(a, b loaded) int {
		switch {
		case a.damaged == b.damaged:
			return 0
		case b.damaged:
			return -1
		}
		return 1
	})
	for _, f := range files {
		master, err := f.kf.open(password)
		if errors.Is(err, ErrWrongPassword) {
			continue
		}
		if err != nil {
			if !f.damaged {
				damaged = append(damaged, &KeyFileError{Name: f.name, Err: err})
			}
			continue
		}
		// The damaged files are named; the repository opens.
		for _, err := range damaged {
			log.Warn(err.Error() + keyDamageAdvice)
		}
		return master, f.kf, f.name, nil
	}
	if len(damaged) > 0 {
		intact := "no key file is intact"
		if n := len(names) - len(damaged); n > 0 {
			intact = fmt.Sprintf("the password opens none of the %d intact key files", n)
		}
		return nil, nil, "", fmt.Errorf("%w; %s. If the password is the damaged file's, restore that file from a copy of the repository; "+
			"otherwise open the repository with another password and run `strata key remove`", errors.Join(damaged...), intact)
	}
	// Key files are not sealed and the journal that records them is, so
	// nothing readable without a master key can tell that a key file
	// was deleted: the count tells the user which files were tried, and
	// check run with another password names a deleted key file.
	return nil, nil, "", fmt.Errorf("%w: the password opens none of the %s in %s/keys (%s); if it is the password of a key file "+
		"that was deleted, restore that file from a copy of the repository (`strata check` run with another password names it)",
		ErrWrongPassword, countKeyFiles(len(names)), be.Location(), shortNames(names))
}

func countKeyFiles(n int) string {
	if n == 1 {
		return "1 key file"
	}
	return fmt.Sprintf("%d key files", n)
}

func shortNames(names []string) string {
	short := make([]string, len(names))
	for i, n := range names {
		short[i] = shortName(n)
	}
	return strings.Join(short, ", ")
}

const keyDamageAdvice = " (if its password is still needed, restore the file from a copy of the repository; otherwise `strata key remove` removes it)"

// Keys lists the repository's key files, damaged ones with Damaged set.
func (r *Repository) Keys(ctx context.Context) ([]KeyInfo, error) {
	var infos []KeyInfo
	err := r.be.List(ctx, backend.KeyFile, func(fi backend.FileInfo) error {
		kf, err := loadKeyFile(ctx, r.be, fi.Handle.Name)
		var damaged *KeyFileError
		switch {
		case errors.As(err, &damaged):
			infos = append(infos, KeyInfo{Name: fi.Handle.Name, Damaged: damaged.Err.Error(), Current: fi.Handle.Name == r.keyName})
			return nil
		case err != nil:
			return err
		}
		infos = append(infos, KeyInfo{Name: fi.Handle.Name, Created: kf.Created, Username: kf.Username, Hostname: kf.Hostname,
			Current: fi.Handle.Name == r.keyName, ConfigCopy: len(kf.Config) > 0 && bytes.Equal(kf.Config, r.sealedConfig)})
		return nil
	})
	return infos, err
}

// AddKey wraps the master key under another password and returns the new
// key file's name.
func (r *Repository) AddKey(ctx context.Context, password string) (string, error) {
	kf, err := newKeyFile(r.key, password, r.opts.KDF, r.sealedConfig)
	if err != nil {
		return "", err
	}
	return saveKeyFile(ctx, r.be, kf)
}

// RemoveKey deletes a key file. The key that opened this handle cannot be
// removed, so a repository always keeps at least one key.
func (r *Repository) RemoveKey(ctx context.Context, name string) error {
	if name == r.keyName {
		return fmt.Errorf("refusing to remove key %s: it is the key in use (open the repository with another password first)", shortName(name))
	}
	err := r.be.Remove(ctx, backend.Handle{Type: backend.KeyFile, Name: name})
	var le *backend.LockedError
	if errors.As(err, &le) {
		return fmt.Errorf("%w; nothing was removed, and the key's password still opens the repository. %s", err, lockedKeyAdvice(name, le.State))
	}
	return err
}

// lockedKeyAdvice says when a key file under object lock can be removed,
// and what to do meanwhile.
func lockedKeyAdvice(name string, st backend.LockState) string {
	var advice []string
	if st.LegalHold {
		advice = append(advice, "A legal hold keeps it: `strata protect` holds every key file while a snapshot is protected, and `strata unprotect` of the last protected snapshot lifts it.")
	}
	if !st.Until.IsZero() {
		until := st.Until.UTC().Format(time.RFC3339)
		advice = append(advice, fmt.Sprintf("Its retention runs to %s: run `strata key remove %s` again after that, "+
			"before `strata maintenance extend-locks` runs (it renews the retention of every key file, this one too).", until, shortName(name)))
		if st.Mode == backend.Governance {
			advice = append(advice, fmt.Sprintf("If the password must stop working now (it leaked), an administrator of the bucket allowed to bypass governance retention (s3:BypassGovernanceRetention) can delete the object keys/%s.", name))
		} else {
			advice = append(advice, "Under compliance mode nobody can remove it sooner; if the password leaked, copy the repository to a new one with new keys (strata init, then strata copy --from-repo).")
		}
	}
	return strings.Join(advice, " ")
}

// ChangePassword adds a key file for the new password, then removes the
// current one: a crash in between leaves both passwords working.
//
// Under object lock, a current key file whose removal the lock would
// refuse is found first and the change refused before the new key is
// written: otherwise both passwords would go on opening the repository.
func (r *Repository) ChangePassword(ctx context.Context, password string) (string, error) {
	cur := backend.Handle{Type: backend.KeyFile, Name: r.keyName}
	locked, err := r.LockedFiles(ctx, []backend.Handle{cur})
	if err != nil {
		return "", err
	}
	if st, ok := locked[cur]; ok {
		return "", fmt.Errorf("key %s is under object lock (%v): changing the password writes a new key file and removes this one, which the lock refuses, so the old password would still open the repository; nothing was changed. "+
			"Add a key with `strata key add` now if you need one, and change the password after that date: %w", shortName(r.keyName), st, backend.ErrLocked)
	}
	name, err := r.AddKey(ctx, password)
	if err != nil {
		return "", err
	}
	old := r.keyName
	r.keyName = name
	if err := r.be.Remove(ctx, backend.Handle{Type: backend.KeyFile, Name: old}); err != nil {
		return name, fmt.Errorf("new key %s saved, but removing the old key failed: %w", shortName(name), err)
	}
	return name, nil
}

func shortName(name string) string {
	if len(name) > 8 {
		return name[:8]
	}
	return name
}
