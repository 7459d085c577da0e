package state

import (
	"encoding/json"
	"os"
	"path/filepath"
)

func encodeRun(r Run) ([]byte, error) { return json.MarshalIndent(r, "", "  ") }

// writeFile writes b to path crash-safely: to a temporary file in the
// same folder (0600), fsynced, renamed over path, and the folder fsynced
// so that the new name survives a crash.
func writeFile(path string, b []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err = f.Chmod(0o600); err != nil {
		return err
	}
	if _, err = f.Write(b); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
