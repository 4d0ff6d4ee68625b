package capture

import (
	"os"
	"path/filepath"
)

// WriteFileAtomic replaces path with data: a hidden temporary file beside
// it (which msgmock does not load) renamed over it, so that a msgmock
// serving the directory reads either the old file or the new one, whole.
func WriteFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".msgmock-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
