package scenarios

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// WatchOptions tune Watch.
type WatchOptions struct {
	// Debounce is the quiet time after the last change before reloading, so
	// that an editor's burst of writes (truncate, write, chmod, rename)
	// makes one reload. Default 20ms.
	Debounce time.Duration
	// MaxDelay bounds how long a steady stream of changes can put a reload
	// off. Default 250ms.
	MaxDelay time.Duration
	// Settle is the quiet interval between the two reads of the files
	// that must agree before a reload is applied (Store.ReloadSettled).
	// Default DefaultSettle.
	Settle time.Duration
	Logger *slog.Logger
	// Reloaded, when set, is called after every reload attempt (tests and
	// benchmarks use it to know when a change has been taken in).
	Reloaded func(changed bool, err error)
	// Ready, when set, is called once the tree is watched: a change made
	// after it returns is seen.
	Ready func()
}

// Watch reloads st whenever a fixtures file below dir is created, written,
// removed or renamed, until ctx ends. Folders that appear later are watched
// as they appear. A reload reads the files until two reads agree
// (Store.ReloadSettled), so that a file is not applied half-written; a
// reload that fails keeps the last good Set serving and logs every problem.
func Watch(ctx context.Context, st *Store, dir string, opts WatchOptions) error {
	if opts.Debounce <= 0 {
		opts.Debounce = 20 * time.Millisecond
	}
	if opts.MaxDelay <= 0 {
		opts.MaxDelay = 250 * time.Millisecond
	}
	if opts.Settle <= 0 {
		opts.Settle = DefaultSettle
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(discard{}, nil))
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	defer w.Close()
	wt := &watcher{w: w, st: st, opts: opts, root: dir}
	if err := wt.addTree(dir); err != nil {
		return err
	}
	// A change made between the first load and the watches taking hold
	// would otherwise go unseen until the next one: look once more (an
	// unchanged tree publishes nothing). Without waiting for the files to
	// settle, which would hold msgmock's start: a write still under way
	// sends events, and the settled reload they cause follows.
	wt.report(wt.st.Reload())
	if opts.Ready != nil {
		opts.Ready()
	}
	return wt.loop(ctx)
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

type watcher struct {
	w    *fsnotify.Watcher
	st   *Store
	opts WatchOptions
	root string
}

// addTree watches dir and every folder below it that the loader would read.
func (wt *watcher) addTree(dir string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == dir {
				return err
			}
			return nil // unreadable folders are the loader's to report
		}
		if !d.IsDir() {
			return nil
		}
		if p != dir && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		if err := wt.w.Add(p); err != nil && p == dir {
			return err
		}
		return nil
	})
}

// relevant reports whether an event can change what the loader reads.
func (wt *watcher) relevant(ev fsnotify.Event) bool {
	rel, err := filepath.Rel(wt.root, ev.Name)
	if err != nil {
		return true
	}
	for _, part := range strings.Split(filepath.ToSlash(rel), "/") {
		if strings.HasPrefix(part, ".") && part != "." && part != ".." {
			return false // inside a hidden folder, or a hidden file
		}
	}
	if ev.Has(fsnotify.Create) {
		if info, err := os.Stat(ev.Name); err == nil && info.IsDir() {
			return true
		}
	}
	if !Skipped(ev.Name) {
		return !(ev.Op == fsnotify.Chmod) // a chmod alone changes no content
	}
	// A folder removed or renamed away takes its files with it.
	return ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename)
}

func (wt *watcher) loop(ctx context.Context) error {
	var (
		timer    = time.NewTimer(time.Hour)
		pending  bool
		deadline time.Time
	)
	timer.Stop()
	defer timer.Stop()
	arm := func() {
		now := time.Now()
		if !pending {
			pending, deadline = true, now.Add(wt.opts.MaxDelay)
		}
		wait := wt.opts.Debounce
		if left := deadline.Sub(now); left < wait {
			wait = left
		}
		timer.Reset(wait)
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-wt.w.Events:
			if !ok {
				return nil
			}
			if ev.Has(fsnotify.Create) {
				if info, err := os.Stat(ev.Name); err == nil && info.IsDir() && !strings.HasPrefix(info.Name(), ".") {
					// Files may have landed in it before the watch did;
					// the reload below reads them anyway.
					_ = wt.addTree(ev.Name)
				}
			}
			if wt.relevant(ev) {
				arm()
			}
		case err, ok := <-wt.w.Errors:
			if !ok {
				return nil
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				wt.opts.Logger.Warn("fixtures watcher overflowed; reloading everything")
				_ = wt.addTree(wt.root)
				arm()
				continue
			}
			wt.opts.Logger.Warn("fixtures watcher", "error", err.Error())
		case <-timer.C:
			pending = false
			wt.reload(ctx)
		}
	}
}

func (wt *watcher) reload(ctx context.Context) {
	changed, err := wt.st.ReloadSettled(ctx, wt.opts.Settle)
	if ctx.Err() != nil {
		return // shutting down: what was caught is not reported
	}
	wt.report(changed, err)
}

// report logs a reload's outcome and tells opts.Reloaded.
func (wt *watcher) report(changed bool, err error) {
	log := wt.opts.Logger
	switch {
	case err != nil:
		var probs Problems
		if errors.As(err, &probs) {
			for _, line := range probs.Strings() {
				log.Error("fixtures reload failed; the previous configuration keeps serving", "problem", line)
			}
		} else {
			log.Error("fixtures reload failed; the previous configuration keeps serving", "error", err.Error())
		}
	case changed:
		st := wt.st.Status()
		log.Info("fixtures reloaded", "generation", st.Generation, "files", len(wt.st.Current().Files), "scenarios", len(wt.st.Current().Names))
	}
	if wt.opts.Reloaded != nil {
		wt.opts.Reloaded(changed, err)
	}
}
