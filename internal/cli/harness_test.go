package cli

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/PostHog/hogland/client"
	"github.com/PostHog/hogland/internal/syncbuf"
)

// testVersion is stamped into the hog binary the end-to-end tests run.
const testVersion = "v0.0.0-e2e"

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

// binaries builds hogplane, hogpanion and hog once per test binary, the
// way a release does (static, hog's version stamped), and returns their
// directory.
func binaries(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "hog-cli-e2e-")
		if buildErr != nil {
			return
		}
		builds := [][]string{
			{"-o", filepath.Join(buildDir, "hogplane"), "github.com/PostHog/hogland/cmd/hogplane"},
			{"-o", filepath.Join(buildDir, "hogpanion"), "github.com/PostHog/hogland/cmd/hogpanion"},
			{"-ldflags", "-X github.com/PostHog/hogland/internal/cli.Version=" + testVersion,
				"-o", filepath.Join(buildDir, "hog"), "github.com/PostHog/hogland/cmd/hog"},
		}
		for _, b := range builds {
			cmd := exec.Command("go", append([]string{"build"}, b...)...)
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
			if out, err := cmd.CombinedOutput(); err != nil {
				buildErr = fmt.Errorf("go build %s: %v\n%s", b[len(b)-1], err, out)
				return
			}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildDir
}

// plane is a hogplane process serving on loopback.
type plane struct {
	URL   string
	Token string // the admin token
	logs  *syncbuf.Buffer
}

func imageDir() string {
	if d := os.Getenv("HOGLAND_IMAGE_CACHE"); d != "" {
		return d
	}
	return "/var/cache/hogland/images"
}

// startPlane runs hogplane on a fresh data directory until the test ends,
// when it destroys the boxes left and stops hogplane with SIGTERM.
func startPlane(t testing.TB) *plane {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("end-to-end tests run hogplane, which needs root for boxes (runc, mounts, cgroups)")
	}
	dir := binaries(t)
	data := t.TempDir()
	p := &plane{logs: &syncbuf.Buffer{}}
	cmd := exec.Command(filepath.Join(dir, "hogplane"), "serve", "--data-dir", data,
		"--listen", "127.0.0.1:0", "--image-dir", imageDir(), "--log-json=false")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = p.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	url := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if _, after, ok := strings.Cut(sc.Text(), " serving on "); ok {
				url <- strings.TrimSpace(after)
			}
		}
	}()
	select {
	case p.URL = <-url:
	case <-exited:
		t.Fatalf("hogplane exited as it started:\n%s", p.logs)
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("hogplane did not start in 60s:\n%s", p.logs)
	}
	tok, err := os.ReadFile(filepath.Join(data, "admin.token"))
	if err != nil {
		t.Fatal(err)
	}
	p.Token = strings.TrimSpace(string(tok))
	t.Cleanup(func() {
		p.destroyBoxes(t)
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("hogplane log:\n%s", p.logs)
		}
	})
	return p
}

// destroyBoxes deletes the admin's live boxes, through the client.
func (p *plane) destroyBoxes(t testing.TB) {
	c, err := client.New(client.Options{Host: p.URL, Token: p.Token})
	if err != nil {
		t.Error(err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var ids []string
	for b, err := range c.AllBoxes(ctx, client.ListBoxesOptions{Status: liveStatuses}) {
		if err != nil {
			t.Logf("list boxes at cleanup: %v", err)
			return
		}
		ids = append(ids, b.ID)
	}
	for _, id := range ids {
		if err := c.DeleteBox(ctx, id); err != nil {
			t.Logf("destroy %s at cleanup: %v", id, err)
		}
	}
}

// user is someone running hog with a home and config directory of their
// own, and no HOG_* variables unless set.
type user struct {
	t    testing.TB
	bin  string
	home string
	env  []string
}

func newUser(t testing.TB) *user {
	t.Helper()
	home := t.TempDir()
	return &user{t: t, bin: filepath.Join(binaries(t), "hog"), home: home, env: []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"XDG_CONFIG_HOME=" + filepath.Join(home, "xdg"),
	}}
}

// configFile is where this user's hog keeps its config.
func (u *user) configFile() string {
	return filepath.Join(u.home, "xdg", "hogland", "config.json")
}

// result is what one run of hog did.
type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// run runs hog with stdin (none when empty) and returns what it did.
func (u *user) run(stdin string, args ...string) result {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, u.bin, args...)
	cmd.Env = u.env
	cmd.Dir = u.home
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errOut.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ctx.Err() == nil:
		r.code = ee.ExitCode()
	default:
		u.t.Fatalf("hog %s: %v\n%s", strings.Join(args, " "), err, r)
	}
	return r
}

// ok runs hog and fails the test unless it exits 0; it returns stdout.
func (u *user) ok(args ...string) string {
	u.t.Helper()
	r := u.run("", args...)
	if r.code != 0 {
		u.t.Fatalf("hog %s: %s", strings.Join(args, " "), r)
	}
	return r.stdout
}

// login logs the user in to p with token.
func (u *user) login(p *plane, token string) {
	u.t.Helper()
	u.ok("login", "--host", p.URL, "--token", token)
}

// createBox makes a busybox box and returns its id.
func (u *user) createBox(args ...string) string {
	u.t.Helper()
	id := strings.TrimSpace(u.ok(append([]string{"box", "create", "--image", "busybox"}, args...)...))
	if !strings.HasPrefix(id, "box-") {
		u.t.Fatalf("box create printed %q, want a box id", id)
	}
	return id
}

// background is hog running in the background.
type background struct {
	t      testing.TB
	cmd    *exec.Cmd
	lines  *bufio.Scanner
	errOut *syncbuf.Buffer
}

// start runs hog in the background; stop ends it.
func (u *user) start(args ...string) *background {
	u.t.Helper()
	cmd := exec.Command(u.bin, args...)
	cmd.Env, cmd.Dir = u.env, u.home
	out, err := cmd.StdoutPipe()
	if err != nil {
		u.t.Fatal(err)
	}
	b := &background{t: u.t, cmd: cmd, lines: bufio.NewScanner(out), errOut: &syncbuf.Buffer{}}
	cmd.Stderr = b.errOut
	if err := cmd.Start(); err != nil {
		u.t.Fatal(err)
	}
	u.t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	return b
}

// line reads the next line of its stdout.
func (b *background) line() string {
	b.t.Helper()
	if !b.lines.Scan() {
		b.t.Fatalf("hog ended its output: %v\nstderr:\n%s", b.lines.Err(), b.errOut)
	}
	return b.lines.Text()
}

// stop interrupts it (as Ctrl-C does) and returns its exit code.
func (b *background) stop() int {
	b.t.Helper()
	if err := b.cmd.Process.Signal(os.Interrupt); err != nil {
		b.t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- b.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = b.cmd.Process.Kill()
		<-done
		b.t.Errorf("hog did not stop on an interrupt:\n%s", b.errOut)
	}
	return b.cmd.ProcessState.ExitCode()
}
