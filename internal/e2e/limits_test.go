package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PostHog/hogland/api"
	"github.com/PostHog/hogland/internal/fsuse"
)

// waitStatus polls a box until it has status, or fails the test.
func (c *client) waitStatus(id, status string, within time.Duration) api.Box {
	c.t.Helper()
	deadline := time.Now().Add(within)
	var b api.Box
	for time.Now().Before(deadline) {
		c.must("GET", "/v1/hogboxes/"+id, nil, &b, 200)
		if b.Status == status {
			return b
		}
		time.Sleep(100 * time.Millisecond)
	}
	c.t.Fatalf("box %s is %s after %s, want %s", id, b.Status, within, status)
	return b
}

func TestMemoryLimitOOM(t *testing.T) {
	p := startPlane(t)
	c := p.client(p.Token)
	b := c.createBox(api.CreateBoxRequest{Image: "busybox", MemoryMiB: 64})
	// dd allocates and fills a 256 MiB buffer: four times the limit.
	res := c.exec(b.ID, api.ExecRequest{Argv: []string{"dd", "if=/dev/zero", "of=/dev/null", "bs=256M", "count=1"}})
	if res.ExitCode == 0 {
		t.Errorf("memory hog exited 0: %+v", res)
	}
	got := c.waitStatus(b.ID, api.StatusFailed, 15*time.Second)
	if got.TerminationReason != api.ReasonOOM {
		t.Errorf("reason %q, want oom", got.TerminationReason)
	}
	assertNothingLeft(t, p, b.ID)
}

func TestForkBombContained(t *testing.T) {
	p := startPlane(t)
	c := p.client(p.Token)
	b := c.createBox(api.CreateBoxRequest{Image: "busybox"})
	res := c.exec(b.ID, api.ExecRequest{Argv: []string{"sh", "-c", "f() { f | f & }; f; sleep 5"}, TimeoutSeconds: 4})
	if !res.TimedOut {
		t.Logf("fork bomb result: %+v", res)
	}
	pids := readCgroupInt(t, "pids", b.ID, "pids.current")
	max := readCgroupInt(t, "pids", b.ID, "pids.max")
	if pids > max {
		t.Errorf("box has %d tasks, over its limit %d", pids, max)
	}
	// The box, and so its agent, still answers once the bomb is gone.
	deadline := time.Now().Add(30 * time.Second)
	for {
		var r api.ExecResult
		status := c.do("POST", "/v1/hogboxes/"+b.ID+"/exec", api.ExecRequest{Argv: []string{"sh", "-c", "pkill -9 sh; echo alive"}, TimeoutSeconds: 5}, &r)
		if status == 200 && strings.Contains(r.Stdout, "alive") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("box stopped answering after a fork bomb: %d %+v", status, r)
		}
		time.Sleep(500 * time.Millisecond)
	}
	c.waitStatus(b.ID, api.StatusRunning, time.Second)
}

// readCgroupInt reads a box's cgroup file on the host, on v1 (per
// controller) or v2 (unified) hosts.
func readCgroupInt(t *testing.T, controller, id, file string) int64 {
	t.Helper()
	s := hostCgroup(t, controller, id, file)
	if s == "max" {
		return 1 << 62
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("cgroup file %s of box %s: %q", file, id, s)
	}
	return n
}

// hostCgroup reads a file of box id's cgroup in a v1 controller's
// hierarchy (or the unified one) from the host.
func hostCgroup(t *testing.T, controller, id, file string) string {
	t.Helper()
	for _, dir := range []string{"/sys/fs/cgroup/" + controller + "/hogland/" + id, "/sys/fs/cgroup/hogland/" + id} {
		if b, err := os.ReadFile(filepath.Join(dir, file)); err == nil {
			return strings.TrimSpace(string(b))
		}
	}
	t.Fatalf("no cgroup file %s for %s (%s)", file, id, controller)
	return ""
}

// cpuUsage is a box's CPU time so far, read on the host.
func cpuUsage(t *testing.T, id string) time.Duration {
	t.Helper()
	if b, err := os.ReadFile(filepath.Join("/sys/fs/cgroup/cpuacct/hogland", id, "cpuacct.usage")); err == nil {
		n, _ := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		return time.Duration(n)
	}
	b, err := os.ReadFile(filepath.Join("/sys/fs/cgroup/hogland", id, "cpu.stat"))
	if err != nil {
		t.Fatalf("no cpu accounting for %s: %v", id, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "usage_usec "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return time.Duration(n) * time.Microsecond
		}
	}
	t.Fatalf("no usage_usec in cpu.stat")
	return 0
}

func TestPauseStopsCPU(t *testing.T) {
	p := startPlane(t)
	c := p.client(p.Token)
	b := c.createBox(api.CreateBoxRequest{Image: "busybox"})
	c.sh(b.ID, "sh -c 'while :; do :; done' >/dev/null 2>&1 &")
	// Running, the loop uses CPU (however loaded the machine is).
	waitCPU(t, b.ID, 50*time.Millisecond, "before pause")
	c.must("POST", "/v1/hogboxes/"+b.ID+"/pause", nil, nil, 200)
	paused := cpuUsage(t, b.ID)
	time.Sleep(time.Second)
	if d := cpuUsage(t, b.ID) - paused; d > 10*time.Millisecond {
		t.Errorf("paused box used %s of CPU in 1 s", d)
	}
	c.must("POST", "/v1/hogboxes/"+b.ID+"/resume", nil, nil, 200)
	waitCPU(t, b.ID, 50*time.Millisecond, "after resume")
}

// waitCPU waits until a box has used at least want more CPU time, which a
// running busy loop does within seconds even on a loaded machine.
func waitCPU(t *testing.T, id string, want time.Duration, when string) {
	t.Helper()
	start := cpuUsage(t, id)
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if cpuUsage(t, id)-start >= want {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s: the busy loop used less than %s of CPU in 15 s", when, want)
}

func TestDiskLimit(t *testing.T) {
	p := startPlane(t)
	c := p.client(p.Token)
	// The plane's data directory holds every box's disk; its own
	// allocation, unlike the host's free space, does not move with what
	// other tests write meanwhile.
	before, err := fsuse.Allocated(p.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	b := c.createBox(api.CreateBoxRequest{Image: "busybox", DiskGiB: 1})
	res := c.exec(b.ID, api.ExecRequest{Argv: []string{"dd", "if=/dev/zero", "of=/fill", "bs=1M", "count=3000"}, TimeoutSeconds: 120})
	if res.ExitCode == 0 || !strings.Contains(res.Stderr, "No space left") {
		t.Errorf("filling a 1 GiB disk with 3000 MiB: %+v", res)
	}
	after, err := fsuse.Allocated(p.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	used := after - before
	t.Logf("the box took %d MiB of the host disk", used>>20)
	if used > 1200<<20 {
		t.Errorf("the host lost %d MiB to a box capped at 1 GiB", used>>20)
	}
	// The box still works: removing the file frees its space.
	c.sh(b.ID, "rm /fill && echo ok > /after")
}

func TestIsolation(t *testing.T) {
	p := startPlane(t)
	c := p.client(p.Token)
	secret := filepath.Join(os.TempDir(), fmt.Sprintf("hogland-host-secret-%d", time.Now().UnixNano()))
	if err := os.WriteFile(secret, []byte("host secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(secret) })
	a := c.createBox(api.CreateBoxRequest{Image: "busybox"})
	b := c.createBox(api.CreateBoxRequest{Image: "busybox"})

	res := c.exec(a.ID, api.ExecRequest{Argv: []string{"cat", secret}})
	if res.ExitCode == 0 || strings.Contains(res.Stdout, "host secret") {
		t.Errorf("box read a host file: %+v", res)
	}
	c.sh(a.ID, "echo a-private > /tmp/a-secret")
	res = c.exec(b.ID, api.ExecRequest{Argv: []string{"cat", "/tmp/a-secret"}})
	if res.ExitCode == 0 {
		t.Errorf("box b read box a's file: %+v", res)
	}
	// Only loopback, and it is up.
	if out := c.sh(a.ID, "ls /sys/class/net"); strings.Fields(out)[0] != "lo" || len(strings.Fields(out)) != 1 {
		t.Errorf("network interfaces: %q", out)
	}
	// Only the box's own processes.
	if out := c.sh(a.ID, "ps -o pid | wc -l"); mustInt(t, out) > 8 {
		t.Errorf("box sees %s processes", strings.TrimSpace(out))
	}
	// Hardening: no raw device access, no mounting.
	if res := c.exec(a.ID, api.ExecRequest{Argv: []string{"mount", "-t", "tmpfs", "x", "/mnt"}}); res.ExitCode == 0 {
		t.Errorf("box could mount: %+v", res)
	}
	if out := c.sh(a.ID, "grep NoNewPrivs /proc/self/status"); !strings.Contains(out, "1") {
		t.Errorf("no_new_privs not set: %q", out)
	}
	if out := c.sh(a.ID, "grep Seccomp: /proc/self/status"); !strings.Contains(out, "2") {
		t.Errorf("seccomp filter not in force: %q", out)
	}
	// The box's own cgroup is what it sees.
	if out := c.sh(a.ID, "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max"); mustInt(t, out) != 1024<<20 {
		t.Errorf("memory limit seen in the box: %q", out)
	}
}

func mustInt(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		t.Fatalf("not a number: %q", s)
	}
	return n
}

// Boxes run native programs only: a system call through the i386 compat
// ABI (int $0x80) is refused by the box's seccomp filter, which lists the
// native architecture alone.
func TestCompatSyscallsRefused(t *testing.T) {
	if goruntime.GOARCH != "amd64" {
		t.Skipf("the compat system call probe is amd64 code; this is %s", goruntime.GOARCH)
	}
	p := startPlane(t)
	c := p.client(p.Token)
	probe := filepath.Join(t.TempDir(), "compat32")
	build := exec.Command("go", "build", "-o", probe, "./testdata/compat32")
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the probe: %v\n%s", err, out)
	}
	// On the host the probe's getpid answers a pid.
	out, err := exec.Command(probe).Output()
	if pid, perr := strconv.Atoi(strings.TrimSpace(string(out))); err != nil || perr != nil || pid <= 0 {
		t.Fatalf("probe on the host: %q %v (want a pid)", out, err)
	}
	bin, err := os.ReadFile(probe)
	if err != nil {
		t.Fatal(err)
	}
	b := c.createBox(api.CreateBoxRequest{Image: "busybox"})
	if status, body := c.writeFile(b.ID, "/probe", bytes.NewReader(bin), "&mode=0755"); status != 200 {
		t.Fatalf("write probe: %d %s", status, body)
	}
	res := c.exec(b.ID, api.ExecRequest{Argv: []string{"/probe"}, TimeoutSeconds: 30})
	got := strings.TrimSpace(res.Stdout)
	if n, err := strconv.Atoi(got); err == nil && n > 0 {
		t.Fatalf("a compat system call ran in the box (getpid answered %d)", n)
	}
	// Refused: the calling thread (or the process) killed, or an error.
	killed := res.ExitCode == 3 && got == "no answer" || res.ExitCode == -1 && got == "" && !res.TimedOut
	if !killed && !strings.HasPrefix(got, "-") {
		t.Fatalf("probe: %+v, want it killed or answered an error", res)
	}
	t.Logf("compat system call in a box: exit %d, stdout %q", res.ExitCode, res.Stdout)
	// Native programs still run, and the box is still up.
	if got := c.sh(b.ID, "echo native"); got != "native\n" {
		t.Errorf("after the probe: %q", got)
	}
}
