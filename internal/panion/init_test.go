package panion_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/PostHog/hogland/internal/panion/client"
)

// initProc is a running `hogpanion init`.
type initProc struct {
	cmd    *exec.Cmd
	exited chan struct{} // closed once cmd.Wait returned
}

// initBox runs the test binary as `hogpanion init` (not as PID 1: init
// makes itself a child subreaper) and answers it and a client.
func initBox(t *testing.T) (*initProc, *client.Client) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := shortTempDir(t)
	sock := filepath.Join(dir, "a.sock")
	logf, err := os.Create(filepath.Join(dir, "init.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command(exe, "init", "--listen", "unix:"+sock, "--grace", "1s")
	cmd.Stdout, cmd.Stderr = logf, logf
	if os.Getenv("GORACE") == "" { // a race-enabled binary sleeps 1s at exit
		cmd.Env = append(os.Environ(), "GORACE=atexit_sleep_ms=0")
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("init log:\n%s", b)
		}
	})
	c := client.New(unixDialer(sock))
	t.Cleanup(c.Close)
	waitFor(t, 10*time.Second, "the agent to answer", func() bool {
		_, err := c.Health(ctxT(t))
		return err == nil
	})
	return &initProc{cmd: cmd, exited: exited}, c
}

func parentOf(pid int) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	ppid, _ := strconv.Atoi(f[1])
	return ppid
}

func TestInit(t *testing.T) {
	t.Parallel()
	ip, c := initBox(t)
	initPID := ip.cmd.Process.Pid

	t.Run("serve runs as a child", func(t *testing.T) {
		h, err := c.Health(ctxT(t))
		if err != nil {
			t.Fatal(err)
		}
		if h.PID == initPID || parentOf(h.PID) != initPID {
			t.Fatalf("server pid %d (parent %d), init pid %d", h.PID, parentOf(h.PID), initPID)
		}
	})

	t.Run("orphans are adopted and reaped", func(t *testing.T) {
		res, err := c.Exec(ctxT(t), sh("sleep 0.5 >/dev/null 2>&1 & echo $!"), 0)
		if err != nil {
			t.Fatal(err)
		}
		orphan := pidFrom(t, res.Stdout)
		waitFor(t, 5*time.Second, "the orphan to be adopted by init", func() bool {
			return parentOf(orphan) == initPID
		})
		waitFor(t, 5*time.Second, "the orphan to be reaped", func() bool {
			return processState(orphan) == ""
		})
	})

	t.Run("a dead server is restarted", func(t *testing.T) {
		h, err := c.Health(ctxT(t))
		if err != nil {
			t.Fatal(err)
		}
		if err := syscall.Kill(h.PID, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 10*time.Second, "a new server", func() bool {
			h2, err := c.Health(ctxT(t))
			return err == nil && h2.PID != h.PID
		})
		waitFor(t, 5*time.Second, "the old server to be reaped", func() bool {
			return processState(h.PID) == ""
		})
	})

	t.Run("SIGTERM stops every process", func(t *testing.T) {
		var bg []int
		for _, script := range []string{
			"sleep 100 >/dev/null 2>&1 & echo $!",
			"(trap '' TERM; exec sleep 100) >/dev/null 2>&1 & echo $!", // outlives the grace period
		} {
			res, err := c.Exec(ctxT(t), sh(script), 0)
			if err != nil {
				t.Fatal(err)
			}
			bg = append(bg, pidFrom(t, res.Stdout))
		}
		h, err := c.Health(ctxT(t))
		if err != nil {
			t.Fatal(err)
		}
		if err := ip.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		select {
		case <-ip.exited:
		case <-time.After(10 * time.Second):
			t.Fatal("init did not exit")
		}
		if code := ip.cmd.ProcessState.ExitCode(); code != 0 {
			t.Fatalf("init exit code %d", code)
		}
		for _, pid := range append(bg, h.PID) {
			if st := processState(pid); st != "" {
				t.Fatalf("pid %d still there (state %s) after init stopped", pid, st)
			}
		}
	})
}
