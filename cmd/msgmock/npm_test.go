//go:build linux

package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"debug/elf"
	"debug/macho"
	"debug/pe"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The npm packages, tested as a user gets them: built by the script in the
// repository, packed with npm pack, installed from the tarballs into an
// empty project with no network, then run through npx, the TypeScript
// client under Vitest, and Playwright driving Debian's Chromium. Without
// Node, npm and the test runners (npm ci --prefix cmd/msgmock/npm and
// --prefix cmd/msgmock/testdata/npm) these tests skip, unless
// MSGMOCK_NPM_TESTS=require (as .ci/run sets it), when they fail.

const npmTestVersion = "0.0.0-test"

// npmToolchain is what the npm tests run with.
type npmToolchain struct {
	npmDir     string // cmd/msgmock/npm: the package sources and build.mjs
	runnersDir string // cmd/msgmock/testdata/npm: vitest, @playwright/test
}

func needNpmToolchain(t *testing.T) npmToolchain {
	t.Helper()
	if testing.Short() {
		t.Skip("builds six binaries and runs Node")
	}
	here := filepath.Dir(testdataDir(t))
	tc := npmToolchain{npmDir: filepath.Join(here, "npm"), runnersDir: filepath.Join(testdataDir(t), "npm")}
	missing := func(what string) {
		if os.Getenv("MSGMOCK_NPM_TESTS") == "require" {
			t.Fatalf("%s (MSGMOCK_NPM_TESTS=require)", what)
		}
		t.Skipf("%s (set MSGMOCK_NPM_TESTS=require to fail instead)", what)
	}
	for _, tool := range []string{"node", "npm", "npx"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing(tool + " is not installed")
		}
	}
	for _, dep := range []struct{ project, pkg string }{
		{tc.npmDir, "typescript"}, {tc.runnersDir, "vitest"}, {tc.runnersDir, "@playwright/test"},
	} {
		if _, err := os.Stat(filepath.Join(dep.project, "node_modules", filepath.FromSlash(dep.pkg))); err != nil {
			missing(fmt.Sprintf("%s is not installed: npm ci --prefix %s", dep.pkg, dep.project))
		}
	}
	return tc
}

// runNode runs a command in dir to its end (3 minutes at most) and returns
// its stdout; it fails t when the command fails.
func runNode(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	out, errOut, err := runNodeStatus(dir, env, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", name, strings.Join(args, " "), err, out, errOut)
	}
	return out
}

func runNodeStatus(dir string, env []string, name string, args ...string) (stdout, stderr string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir, cmd.Env = dir, env
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

var (
	packagesOnce sync.Once
	packagesDir  string // the tarballs
	packagesErr  error
	otherPacked  chan error // the five platform packages not run here, packed in the background
)

// npmTarballs builds every package with build.mjs, once per test run, and
// packs msgmock and @msgmock/linux-x64 into the directory it returns. The
// other five are packed there in the background (npm pack gzips 12 MB a
// binary, one after the other): otherTarballs waits for them.
func npmTarballs(t *testing.T, tc npmToolchain) string {
	t.Helper()
	packagesOnce.Do(func() {
		var out string
		out, packagesErr = os.MkdirTemp("", "msgmock-npm-")
		if packagesErr != nil {
			return
		}
		afterAllTests = append(afterAllTests, out)
		started := time.Now()
		build := exec.Command("node", filepath.Join(tc.npmDir, "build.mjs"), "--version", npmTestVersion, filepath.Join(out, "build"))
		build.Env = nodeEnv()
		if b, err := build.CombinedOutput(); err != nil {
			packagesErr = fmt.Errorf("build.mjs: %v\n%s", err, b)
			return
		}
		built := time.Since(started)
		packagesDir = filepath.Join(out, "tarballs")
		if packagesErr = os.Mkdir(packagesDir, 0o755); packagesErr != nil {
			return
		}
		pack := func(dirs ...string) error {
			args := []string{"pack", "--pack-destination", packagesDir}
			for _, d := range dirs {
				args = append(args, filepath.Join(out, "build", d))
			}
			cmd := exec.Command("npm", args...)
			cmd.Env = nodeEnv()
			if b, err := cmd.CombinedOutput(); err != nil {
				return fmt.Errorf("npm pack: %v\n%s", err, b)
			}
			return nil
		}
		packagesErr = pack("msgmock", "linux-x64")
		fmt.Fprintf(os.Stderr, "npm packages: built in %v, msgmock and linux-x64 packed in %v\n",
			built.Round(100*time.Millisecond), (time.Since(started) - built).Round(100*time.Millisecond))
		otherPacked = make(chan error, 1)
		go func() {
			t0 := time.Now()
			err := pack(npmPlatformDirs()[1:]...)
			fmt.Fprintf(os.Stderr, "npm packages: the other five packed in %v\n", time.Since(t0).Round(100*time.Millisecond))
			otherPacked <- err
			close(otherPacked)
		}()
	})
	if packagesErr != nil {
		t.Fatal(packagesErr)
	}
	return packagesDir
}

var otherPackedErr error

// otherTarballs waits until the five other platform packages are packed.
func otherTarballs(t *testing.T) {
	t.Helper()
	if err, ok := <-otherPacked; ok {
		otherPackedErr = err
	}
	if otherPackedErr != nil {
		t.Fatal(otherPackedErr)
	}
}

// npmPlatforms are the six platform packages and what their binary is.
var npmPlatforms = []struct {
	dir, os, cpu, binary string
	check                func(b []byte) error
}{
	{"linux-x64", "linux", "x64", "bin/msgmock", elfFor(elf.EM_X86_64)},
	{"linux-arm64", "linux", "arm64", "bin/msgmock", elfFor(elf.EM_AARCH64)},
	{"darwin-x64", "darwin", "x64", "bin/msgmock", machoFor(macho.CpuAmd64)},
	{"darwin-arm64", "darwin", "arm64", "bin/msgmock", machoFor(macho.CpuArm64)},
	{"win32-x64", "win32", "x64", "msgmock.exe", peFor(pe.IMAGE_FILE_MACHINE_AMD64)},
	{"win32-arm64", "win32", "arm64", "msgmock.exe", peFor(pe.IMAGE_FILE_MACHINE_ARM64)},
}

func npmPlatformDirs() []string {
	var dirs []string
	for _, p := range npmPlatforms {
		dirs = append(dirs, p.dir)
	}
	return dirs
}

func elfFor(machine elf.Machine) func([]byte) error {
	return func(b []byte) error {
		f, err := elf.NewFile(bytes.NewReader(b))
		if err != nil {
			return err
		}
		if f.Machine != machine {
			return fmt.Errorf("ELF for %v, want %v", f.Machine, machine)
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				return errors.New("dynamically linked, want static (CGO_ENABLED=0)")
			}
		}
		return nil
	}
}

func machoFor(cpu macho.Cpu) func([]byte) error {
	return func(b []byte) error {
		f, err := macho.NewFile(bytes.NewReader(b))
		if err != nil {
			return err
		}
		if f.Cpu != cpu {
			return fmt.Errorf("Mach-O for %v, want %v", f.Cpu, cpu)
		}
		return nil
	}
}

func peFor(machine uint16) func([]byte) error {
	return func(b []byte) error {
		f, err := pe.NewFile(bytes.NewReader(b))
		if err != nil {
			return err
		}
		if f.Machine != machine {
			return fmt.Errorf("PE for machine %#x, want %#x", f.Machine, machine)
		}
		return nil
	}
}

// tarball reads a packed package: its files' contents and modes.
func tarball(t *testing.T, path string) (files map[string][]byte, modes map[string]int64) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	files, modes = map[string][]byte{}, map[string]int64{}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files, modes
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimPrefix(h.Name, "package/")
		files[name], modes[name] = b, h.Mode
	}
}

type packageJSON struct {
	Name                 string
	Version              string
	OS                   []string
	CPU                  []string
	Bin                  map[string]string
	Types                string
	Files                []string
	OptionalDependencies map[string]string
	Dependencies         map[string]string
	Scripts              map[string]string
}

func TestNpmPackages(t *testing.T) {
	tc := needNpmToolchain(t)
	tarballs := npmTarballs(t, tc)
	tgz := func(dir string) string {
		name := "msgmock-" + npmTestVersion + ".tgz"
		if dir != "msgmock" {
			name = "msgmock-" + dir + "-" + npmTestVersion + ".tgz"
		}
		return filepath.Join(tarballs, name)
	}

	// An empty project, and the two tarballs a linux-x64 machine needs.
	project := t.TempDir()
	copyTree(t, filepath.Join(tc.runnersDir, "project"), project)
	env := nodeEnv()
	runNode(t, project, env, "npm", "install", "--offline", tgz("msgmock"), tgz("linux-x64"))
	installed, _ := filepath.Glob(filepath.Join(project, "node_modules", "@msgmock", "*"))
	if len(installed) != 1 || filepath.Base(installed[0]) != "linux-x64" {
		t.Fatalf("installed platform packages %v, want linux-x64 alone", installed)
	}

	t.Run("npx", func(t *testing.T) {
		if got := runNode(t, project, env, "npx", "msgmock", "--version"); got != "msgmock "+npmTestVersion+"\n" {
			t.Errorf("npx msgmock --version printed %q", got)
		}
		// A send against npx msgmock; then Ctrl-C, as at a terminal: the
		// whole process group gets SIGINT.
		cmd := exec.Command("npx", "msgmock", "--addr", "127.0.0.1:0", "--now", "2026-03-15T14:22:11Z")
		cmd.Dir, cmd.Env = project, env
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		url, wait := startReadingURL(t, cmd)
		status, body := post(t, url+"/v1/messages", seedExampleBody(t), "Authorization: Bearer sk_test_51_fakeapikey123456", "Content-Type: application/json")
		if status != 200 || !strings.Contains(string(body), `"text":"Can you summarize my last 5 calls?","metadata":{"channel":"web","locale":"en-US"},"created_at":"2026-03-15T14:22:11Z"`) {
			t.Errorf("the seed's example through npx msgmock: %d %s", status, body)
		}
		http.DefaultClient.CloseIdleConnections()
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
		wait()
		requireClosed(t, url)

		// The launcher itself: a signal sent to it alone reaches msgmock,
		// and msgmock's exit status is the launcher's.
		launcher := filepath.Join(project, "node_modules", ".bin", "msgmock")
		cmd = exec.Command(launcher, "--addr", "127.0.0.1:0")
		cmd.Dir, cmd.Env = project, env
		url, wait = startReadingURL(t, cmd)
		_ = cmd.Process.Signal(syscall.SIGTERM)
		if code := wait(); code != 0 {
			t.Errorf("launcher after SIGTERM: exit %d, want 0 (msgmock's graceful exit)", code)
		}
		requireClosed(t, url)
		if _, errOut, err := runNodeStatus(project, env, launcher, "validate", "no-such-dir"); exitStatusOf(err) != 1 || !strings.Contains(errOut, "no-such-dir is not a readable directory") {
			t.Errorf("msgmock validate through the launcher: %v %q, want exit 1", err, errOut)
		}
	})

	t.Run("no platform package", func(t *testing.T) {
		bare := t.TempDir()
		if err := os.WriteFile(filepath.Join(bare, "package.json"), []byte(`{"name":"bare","private":true}`), 0o644); err != nil {
			t.Fatal(err)
		}
		runNode(t, bare, env, "npm", "install", "--offline", tgz("msgmock"))
		want := `the package "@msgmock/linux-x64" is not installed, and msgmock needs it on linux-x64`
		_, errOut, err := runNodeStatus(bare, env, "npx", "msgmock", "--version")
		if exitStatusOf(err) != 1 || !strings.Contains(errOut, "msgmock: "+want) {
			t.Errorf("npx msgmock without its platform package: %v\n%s\nwant exit 1 and %q", err, errOut, want)
		}
		_, errOut, err = runNodeStatus(bare, env, "node", "-e", `require('msgmock').startMsgmock().catch((e) => { console.error(e.message); process.exit(3) })`)
		if exitStatusOf(err) != 3 || !strings.Contains(errOut, want) {
			t.Errorf("startMsgmock without the platform package: %v\n%s", err, errOut)
		}
	})

	t.Run("exit hooks", func(t *testing.T) {
		for _, mode := range []string{"forget", "wait"} {
			cmd := exec.Command("node", "exit-hooks.mjs", mode)
			cmd.Dir, cmd.Env = project, env
			stdout, _ := cmd.StdoutPipe()
			var stderr syncBuffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			var started struct {
				PID int
				URL string
			}
			line, _ := bufio.NewReader(stdout).ReadString('\n')
			if err := json.Unmarshal([]byte(line), &started); err != nil {
				cmd.Process.Kill()
				t.Fatalf("%s: %q: %v\n%s", mode, line, err, stderr.String())
			}
			if mode == "wait" {
				_ = cmd.Process.Signal(syscall.SIGTERM)
			}
			err := cmd.Wait()
			switch ws := cmd.ProcessState.Sys().(syscall.WaitStatus); {
			case mode == "forget" && err != nil:
				t.Errorf("forget: node ended with %v, want exit 0 without stop()\n%s", err, stderr.String())
			case mode == "wait" && !(ws.Signaled() && ws.Signal() == syscall.SIGTERM):
				t.Errorf("wait: node ended with %v, want death by SIGTERM as without the hook", err)
			}
			waitFor(t, mode+": msgmock ends with the test process", func() bool { return processGone(started.PID) })
			requireClosed(t, started.URL)
		}
	})

	// The README's recipes, written where they say, beside the tests of
	// this directory.
	recipes := npmReadmeFiles(t, filepath.Join(tc.npmDir, "README.md"))
	for path, body := range recipes {
		target := filepath.Join(project, filepath.FromSlash(path))
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(target, []byte(body+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("the quickstart sends the seed's example", func(t *testing.T) {
		var example map[string]any
		if err := json.Unmarshal([]byte(seedExampleBody(t)), &example); err != nil {
			t.Fatal(err)
		}
		for k, v := range example {
			if lit := k + ": " + jsLiteral(v); !strings.Contains(recipes["test/quickstart.test.ts"], lit) {
				t.Errorf("the quickstart's body lacks %s, as the seed's example has it", lit)
			}
		}
	})
	// The runners, from the project npm ci installed them into; the types
	// the package ships, checked by the compiler over every recipe.
	linkModules(t, project, tc.runnersDir, "vitest", "@playwright/test")
	linkModules(t, project, tc.npmDir, "typescript", "@types/node")

	// The types, Vitest and Playwright side by side: each waits on
	// processes of its own much of the time.
	t.Run("runners", func(t *testing.T) {
		t.Run("types", func(t *testing.T) {
			t.Parallel()
			runNode(t, project, env, "node", filepath.Join("node_modules", "typescript", "bin", "tsc"), "-p", ".")
		})

		t.Run("vitest", func(t *testing.T) {
			t.Parallel()
			runNode(t, project, env, "node", filepath.Join("node_modules", "vitest", "vitest.mjs"), "run",
				"--reporter=default", "--reporter=json", "--outputFile=vitest-report.json")
			var report struct {
				TestResults []struct {
					Name             string
					AssertionResults []struct {
						FullName, Status string
					}
				}
			}
			readJSON(t, filepath.Join(project, "vitest-report.json"), &report)
			passed := map[string]bool{}
			for _, file := range report.TestResults {
				for _, a := range file.AssertionResults {
					if a.Status != "passed" {
						t.Errorf("%s: %s: %s", filepath.Base(file.Name), a.FullName, a.Status)
					}
					passed[a.FullName] = a.Status == "passed"
				}
			}
			for _, name := range []string{
				"the assistant answers",
				"a stub for this test only",
				"sessions do not see each other",
				"a refused call says which, and msgmock's reason an unknown scenario",
				"a msgmock that cannot start: the error quotes it",
				"MSGMOCK_* variables of the test process do not reach the binary",
				"a session's calls act on that session alone",
				"advance takes milliseconds or a duration",
				"verify: what holds answers the matches; what does not throws with msgmock's report",
			} {
				if !passed[name] {
					t.Errorf("Vitest did not pass %q (passed: %v)", name, sortedKeys(passed))
				}
			}
		})

		t.Run("playwright", func(t *testing.T) {
			t.Parallel()
			browser := chromiumPath(t)
			pwEnv := nodeEnv("MSGMOCK_CHROMIUM="+browser,
				"MSGMOCK_URL=http://"+freeAddr(t), "APP_URL=http://"+freeAddr(t))
			runNode(t, project, pwEnv, "node", filepath.Join("node_modules", "@playwright", "test", "cli.js"), "test", "--config", "playwright.ci.config.ts")
			var report struct {
				Stats struct{ Expected, Unexpected, Skipped, Flaky int }
			}
			readJSON(t, filepath.Join(project, "playwright-report.json"), &report)
			if report.Stats.Expected != 1 || report.Stats.Unexpected+report.Stats.Skipped+report.Stats.Flaky != 0 {
				t.Errorf("Playwright: %+v, want the one test passed", report.Stats)
			}
		})
	})

	t.Run("tarballs", func(t *testing.T) {
		otherTarballs(t)
		for _, p := range npmPlatforms {
			files, modes := tarball(t, tgz(p.dir))
			var pkg packageJSON
			if err := json.Unmarshal(files["package.json"], &pkg); err != nil {
				t.Fatalf("%s: package.json: %v", p.dir, err)
			}
			if pkg.Name != "@msgmock/"+p.dir || pkg.Version != npmTestVersion || fmt.Sprint(pkg.OS) != "["+p.os+"]" || fmt.Sprint(pkg.CPU) != "["+p.cpu+"]" {
				t.Errorf("%s: package.json %+v, want @msgmock/%s %s os [%s] cpu [%s]", p.dir, pkg, p.dir, npmTestVersion, p.os, p.cpu)
			}
			bin, ok := files[p.binary]
			if !ok {
				t.Errorf("%s: no %s in the tarball", p.dir, p.binary)
				continue
			}
			if modes[p.binary]&0o111 != 0o111 {
				t.Errorf("%s: %s has mode %o, want it executable", p.dir, p.binary, modes[p.binary])
			}
			if err := p.check(bin); err != nil {
				t.Errorf("%s: %s: %v", p.dir, p.binary, err)
			}
			if !bytes.Contains(bin, []byte(npmTestVersion)) {
				t.Errorf("%s: the binary does not carry the version %s (-X main.version)", p.dir, npmTestVersion)
			}
		}
		files, modes := tarball(t, tgz("msgmock"))
		var pkg packageJSON
		if err := json.Unmarshal(files["package.json"], &pkg); err != nil {
			t.Fatal(err)
		}
		wantOptional := map[string]string{}
		for _, p := range npmPlatforms {
			wantOptional["@msgmock/"+p.dir] = npmTestVersion
		}
		if pkg.Name != "msgmock" || pkg.Version != npmTestVersion || fmt.Sprint(pkg.OptionalDependencies) != fmt.Sprint(wantOptional) ||
			len(pkg.Dependencies) != 0 || len(pkg.Scripts) != 0 || pkg.Bin["msgmock"] != "bin/msgmock.js" {
			t.Errorf("msgmock's package.json %+v: want version %s, every platform package optional at that version, no dependencies, no install script", pkg, npmTestVersion)
		}
		for _, f := range []string{"bin/msgmock.js", "lib/index.js", "lib/index.d.ts", "lib/binary.js", "README.md", pkg.Types} {
			if _, ok := files[f]; !ok {
				t.Errorf("msgmock's tarball lacks %s", f)
			}
		}
		if modes["bin/msgmock.js"]&0o111 == 0 {
			t.Errorf("bin/msgmock.js has mode %o, want it executable", modes["bin/msgmock.js"])
		}
	})
}

// startReadingURL starts cmd, reads msgmock's start line from its stdout,
// and returns the URL and a function that waits for the end (15 s at
// most) and returns the exit status.
func startReadingURL(t *testing.T, cmd *exec.Cmd) (string, func() int) {
	t.Helper()
	stdout, _ := cmd.StdoutPipe()
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		select {
		case <-exited:
		default:
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			cmd.Process.Kill()
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	m := listenLine.FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("%s: no start line (%q, %v)\nstderr: %s", cmd, line, err, stderr.String())
	}
	go io.Copy(io.Discard, stdout)
	return m[1], func() int {
		select {
		case <-exited:
			return cmd.ProcessState.ExitCode()
		case <-time.After(15 * time.Second):
			t.Fatalf("%s did not exit\nstderr: %s", cmd, stderr.String())
			return -1
		}
	}
}

func requireClosed(t *testing.T, url string) {
	t.Helper()
	if conn, err := net.DialTimeout("tcp", strings.TrimPrefix(url, "http://"), time.Second); err == nil {
		conn.Close()
		t.Errorf("%s still accepts connections", url)
	}
}

// processGone reports whether pid has ended: no such process, or a zombie
// left to a parent that is gone.
func processGone(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return true
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	_, after, _ := strings.Cut(string(stat), ") ")
	return strings.HasPrefix(after, "Z")
}

func exitStatusOf(err error) int {
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		return exitErr.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// seedExampleBody is the JSON body of the seed document's first curl
// example (testdata/seed000/curl_1.sh, kept verbatim by
// TestSeedExamplesAreVerbatim).
func seedExampleBody(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testdataDir(t), "seed000", "curl_1.sh"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?s)-d '(\{.*\})'`).FindSubmatch(b)
	if m == nil {
		t.Fatal("curl_1.sh has no -d '{…}'")
	}
	return string(m[1])
}

// jsLiteral writes a JSON value as the README's TypeScript does: single
// quotes, unquoted keys, spaces inside braces.
func jsLiteral(v any) string {
	switch v := v.(type) {
	case string:
		return "'" + v + "'"
	case map[string]any:
		keys := sortedKeys(v)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + ": " + jsLiteral(v[k])
		}
		return "{ " + strings.Join(parts, ", ") + " }"
	default:
		b, _ := json.Marshal(v)
		return string(b)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// linkModules links packages installed in from/node_modules into
// project/node_modules: the test runners, which npm installed (with npm ci)
// elsewhere, resolve their own dependencies from there.
func linkModules(t *testing.T, project, from string, names ...string) {
	t.Helper()
	for _, name := range names {
		link := filepath.Join(project, "node_modules", filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(filepath.Join(from, "node_modules", filepath.FromSlash(name)), link); err != nil {
			t.Fatal(err)
		}
	}
}

func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func readJSON(t *testing.T, path string, into any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, into); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
