package oci

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/PostHog/hogland/internal/errs"
	"github.com/PostHog/hogland/internal/image"
	"github.com/PostHog/hogland/internal/mountinfo"
	"github.com/PostHog/hogland/internal/runtime"
)

// Shared by every test: built once in TestMain.
var (
	skipReason   string // why driver tests cannot run here, or ""
	testAgent    string // the agent binary boxes run as init
	busyboxRoot  string // the busybox image
	imageStore   *image.Store
	cgroupParent = fmt.Sprintf("hogland-test-%d", os.Getpid())
)

func TestMain(m *testing.M) {
	tmp, err := os.MkdirTemp("", "oci-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	skipReason = setup(tmp)
	code := m.Run()
	removeCgroupParent()
	os.RemoveAll(tmp)
	os.Exit(code)
}

// setup builds the test agent and the busybox image, and says why the
// driver tests must be skipped, if they must.
func setup(tmp string) string {
	if os.Geteuid() != 0 {
		return "the OCI driver needs root"
	}
	if _, err := findProgram("runc"); err != nil {
		return "runc is not installed"
	}
	if _, err := os.Stat("/dev/loop-control"); err != nil {
		return "no loop device support (/dev/loop-control)"
	}
	testAgent = os.Getenv("HOGLAND_TEST_AGENT")
	if testAgent == "" {
		testAgent = filepath.Join(tmp, "fakeagent")
		cmd := exec.Command("go", "build", "-o", testAgent, "./testdata/fakeagent")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Sprintf("build fake agent: %v: %s", err, out)
		}
	}
	dir := os.Getenv("HOGLAND_IMAGE_CACHE")
	if dir == "" {
		dir = filepath.Join(tmp, "images")
	}
	store, err := image.NewStore(image.Config{Dir: dir})
	if err != nil {
		return err.Error()
	}
	if busyboxRoot, err = store.Ensure(context.Background(), image.Busybox); err != nil {
		return fmt.Sprintf("busybox image: %v", err)
	}
	imageStore = store
	return ""
}

// removeCgroupParent removes the tests' cgroup parent from every
// hierarchy.
func removeCgroupParent() {
	cg, err := detectCgroups()
	if err != nil {
		return
	}
	for _, d := range cg.box("/" + cgroupParent).dirs() {
		_ = os.Remove(d)
	}
}

// newDriver makes a driver over a fresh state dir whose boxes are all
// destroyed when the test ends.
func newDriver(t testing.TB) *Driver {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
	d, err := New(Config{StateDir: t.TempDir(), CgroupParent: cgroupParent})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.Cleanup(context.Background(), nil); err != nil {
			t.Errorf("cleanup: %v", err)
		}
		os.RemoveAll(d.cfg.RunDir)
	})
	return d
}

func newID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "box-" + hex.EncodeToString(b)
}

func testSpec(id string) runtime.Spec {
	return runtime.Spec{
		ID:        id,
		Layers:    []string{busyboxRoot},
		CPUs:      1,
		MemoryMiB: 256,
		DiskGiB:   1,
		Pids:      256,
		AgentPath: testAgent,
		Env:       []string{"HOGLAND_TEST=1"},
	}
}

// createBox creates a box and waits until its agent answers.
func createBox(t testing.TB, d *Driver, spec runtime.Spec) {
	t.Helper()
	if err := d.Create(context.Background(), spec); err != nil {
		t.Fatal(err)
	}
	waitAgent(t, d, spec.ID)
}

// waitAgent waits until box id's agent accepts a connection.
func waitAgent(t testing.TB, d *Driver, id string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		conn, err := d.Dial(context.Background(), id)
		if err == nil {
			conn.Close()
			return
		}
		if !errs.Is(err, errs.Unavailable) || time.Now().After(deadline) {
			t.Fatalf("dial %s: %v", id, err)
		}
		time.Sleep(time.Millisecond)
	}
}

// execResult mirrors api.ExecResult.
type execResult struct {
	ExitCode int    `json:"exit_code"`
	Stdout   string `json:"stdout"`
	Stderr   string `json:"stderr"`
	TimedOut bool   `json:"timed_out"`
}

func client(d *Driver, id string) *http.Client {
	return &http.Client{
		Timeout: 2 * time.Minute,
		Transport: &http.Transport{
			DialContext:       func(ctx context.Context, _, _ string) (net.Conn, error) { return d.Dial(ctx, id) },
			DisableKeepAlives: true,
		},
	}
}

// run runs argv in box id through its agent, with a timeout in seconds
// (0: none).
func run(t testing.TB, d *Driver, id string, timeout float64, argv ...string) execResult {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"argv": argv, "timeout_seconds": timeout})
	resp, err := client(d, id).Post("http://agent/v1/exec", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("exec %q: %v", argv, err)
	}
	defer resp.Body.Close()
	var res execResult
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("exec %q: status %d: %v", argv, resp.StatusCode, err)
	}
	return res
}

// sh runs a shell command in the box and returns its trimmed stdout,
// failing the test if it exits non-zero.
func sh(t testing.TB, d *Driver, id, script string) string {
	t.Helper()
	res := run(t, d, id, 30, "/bin/sh", "-c", script)
	if res.ExitCode != 0 {
		t.Fatalf("sh %q: exit %d: %s%s", script, res.ExitCode, res.Stdout, res.Stderr)
	}
	return strings.TrimSpace(res.Stdout)
}

// health asks the box's agent for /v1/health.
func health(d *Driver, id string) error {
	c := client(d, id)
	c.Timeout = 5 * time.Second
	resp, err := c.Get("http://agent/v1/health")
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("health: status %d", resp.StatusCode)
	}
	return nil
}

// assertGone checks that nothing of box id is left on the host.
func assertGone(t testing.TB, d *Driver, id string) {
	t.Helper()
	p := d.paths(id)
	if m, _ := mountinfo.Under(p.dir); len(m) > 0 {
		t.Errorf("mounts left: %v", m)
	}
	if data, _ := os.ReadFile("/proc/self/mountinfo"); bytes.Contains(data, []byte(id)) {
		t.Errorf("mountinfo still mentions %s", id)
	}
	deadline := time.Now().Add(2 * time.Second)
	for len(loopsOf(p.disk)) > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond) // autoclear may lag the unmount
	}
	if l := loopsOf(p.disk); len(l) > 0 {
		t.Errorf("loop devices left: %v", l)
	}
	for _, dir := range d.cg.box(d.cgroupPath(id)).dirs() {
		if exists(dir) {
			t.Errorf("cgroup left: %s", dir)
		}
	}
	for _, path := range []string{p.dir, d.containerDir(id), d.runLink(id)} {
		if exists(path) {
			t.Errorf("left behind: %s", path)
		}
	}
}
