package importer

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/msgmock/msgmock/mock/record/capture"
	"github.com/msgmock/msgmock/scenarios"
)

var (
	readRulesOnce sync.Once
	readRules     bool
)

// ReadRulesSupported reports whether this msgmock's rules can match reads
// (when.method and when.path). It asks the scenarios package itself, so
// the import starts writing read rules the day they load.
func ReadRulesSupported() bool {
	readRulesOnce.Do(func() {
		_, err := scenarios.ParseScenario("probe", []byte("rules: [{when: {method: GET, path: {prefix: /v1/}}, respond: {status: 500}}]"))
		readRules = err == nil
	})
	return readRules
}

// checkLoads loads files as msgmock loads a fixtures directory.
func checkLoads(files []File) error {
	m := capture.MemFS{}
	for _, f := range files {
		m[f.Name] = f.Data
	}
	_, err := scenarios.Load(m, "")
	return err
}

// Write puts files into dir, all or nothing. A dir that does not exist
// (or is empty) is made whole in a hidden temporary directory beside it,
// then renamed into place. Into a dir that holds files already, each file
// is written whole (a temporary file renamed), after checking that none
// exists unless force, and that the directory's fixtures still load with
// them. It returns the paths written.
func Write(dir string, files []File, force bool) ([]string, error) {
	info, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return writeNewDir(dir, files)
	case err != nil:
		return nil, err
	case !info.IsDir():
		return nil, fmt.Errorf("%s exists and is not a directory", dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	if len(entries) == 0 {
		return writeNewDir(dir, files)
	}
	var targets []string
	for _, f := range files {
		target := filepath.Join(dir, f.Name)
		if _, err := os.Lstat(target); err == nil && !force {
			return nil, fmt.Errorf("%s exists (--force replaces it)", target)
		}
		targets = append(targets, target)
	}
	if err := checkWith(dir, files); err != nil {
		return nil, fmt.Errorf("with the files %s holds already, the fixtures would not load: %w", dir, err)
	}
	for i, f := range files {
		if err := capture.WriteFileAtomic(targets[i], f.Data); err != nil {
			return targets[:i], err
		}
	}
	return targets, nil
}

// writeNewDir writes files into a hidden directory beside dir, then
// renames it to dir.
func writeNewDir(dir string, files []File) ([]string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	parent := filepath.Dir(abs)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(abs)+".import-*")
	if err != nil {
		return nil, err
	}
	done := false
	defer func() {
		if !done {
			os.RemoveAll(tmp)
		}
	}()
	var written []string
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(tmp, f.Name), f.Data, 0o644); err != nil {
			return nil, err
		}
		written = append(written, filepath.Join(dir, f.Name))
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return nil, err
	}
	// rename(2) replaces an empty directory; elsewhere, remove it first.
	if err := os.Rename(tmp, abs); err != nil {
		if rmErr := os.Remove(abs); rmErr != nil {
			return nil, err
		}
		if err := os.Rename(tmp, abs); err != nil {
			return nil, err
		}
	}
	done = true
	return written, nil
}

// checkWith loads dir's fixtures with files added (or put in place of
// the files of the same name).
func checkWith(dir string, files []File) error {
	m := capture.MemFS{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel != "." && strings.HasPrefix(d.Name(), ".") {
				return fs.SkipDir
			}
			return nil
		}
		if scenarios.Skipped(rel) || !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		m[rel] = data
		return nil
	})
	if err != nil {
		return err
	}
	for _, f := range files {
		m[f.Name] = f.Data
	}
	_, err = scenarios.Load(m, dir)
	return err
}
