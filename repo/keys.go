package repo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/user"
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
}

// KeyInfo describes a key file for `key list`.
type KeyInfo struct {
	Name     string    `json:"id"`
	Created  time.Time `json:"created"`
	Username string    `json:"username"`
	Hostname string    `json:"hostname"`
	Current  bool      `json:"current"`
}

func newKeyFile(master *crypto.Key, password string, params crypto.KDFParams) (*KeyFile, error) {
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

func saveKeyFile(ctx context.Context, be backend.Storage, kf *KeyFile) (string, error) {
	data, err := json.MarshalIndent(kf, "", "  ")
	if err != nil {
		return "", err
	}
	name := crypto.FileID(data).String()
	if err := saveBytes(ctx, be, backend.Handle{Type: backend.KeyFile, Name: name}, data); err != nil {
		return "", fmt.Errorf("saving key file: %w", err)
	}
	return name, nil
}

func loadKeyFile(ctx context.Context, be backend.Storage, name string) (*KeyFile, error) {
	h := backend.Handle{Type: backend.KeyFile, Name: name}
	data, err := be.Load(ctx, h, 0, 0)
	if err != nil {
		return nil, err
	}
	kf := &KeyFile{}
	if err := json.Unmarshal(data, kf); err != nil {
		return nil, fmt.Errorf("key file %v: %w: %v", h, ErrDamaged, err)
	}
	return kf, nil
}

// openWithPassword tries every key file and returns the master key and the
// name of the key file that opened it.
func openWithPassword(ctx context.Context, be backend.Storage, password string) (*crypto.Key, string, error) {
	var names []string
	err := be.List(ctx, backend.KeyFile, func(fi backend.FileInfo) error {
		names = append(names, fi.Handle.Name)
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("listing key files: %w", err)
	}
	var damaged []error
	for _, name := range names {
		kf, err := loadKeyFile(ctx, be, name)
		if err != nil {
			damaged = append(damaged, err)
			continue
		}
		master, err := kf.open(password)
		if errors.Is(err, ErrWrongPassword) {
			continue
		}
		if err != nil {
			damaged = append(damaged, fmt.Errorf("key file keys/%s: %w", name, err))
			continue
		}
		return master, name, nil
	}
	if len(damaged) > 0 {
		return nil, "", fmt.Errorf("%w (also: %w)", ErrWrongPassword, errors.Join(damaged...))
	}
	return nil, "", ErrWrongPassword
}

// Keys lists the repository's key files.
func (r *Repository) Keys(ctx context.Context) ([]KeyInfo, error) {
	var infos []KeyInfo
	err := r.be.List(ctx, backend.KeyFile, func(fi backend.FileInfo) error {
		kf, err := loadKeyFile(ctx, r.be, fi.Handle.Name)
		if err != nil {
			return err
		}
		infos = append(infos, KeyInfo{Name: fi.Handle.Name, Created: kf.Created, Username: kf.Username, Hostname: kf.Hostname, Current: fi.Handle.Name == r.keyName})
		return nil
	})
	return infos, err
}

// AddKey wraps the master key under another password and returns the new
// key file's name.
func (r *Repository) AddKey(ctx context.Context, password string) (string, error) {
	kf, err := newKeyFile(r.key, password, r.opts.KDF)
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
	return r.be.Remove(ctx, backend.Handle{Type: backend.KeyFile, Name: name})
}

// ChangePassword adds a key file for the new password, then removes the
// current one: a crash in between leaves both passwords working.
func (r *Repository) ChangePassword(ctx context.Context, password string) (string, error) {
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
