package panion_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/PostHog/hogland/api"
	"github.com/PostHog/hogland/internal/errs"
	"github.com/PostHog/hogland/internal/panion"
	"github.com/PostHog/hogland/internal/panion/client"
)

func TestExecBatch(t *testing.T) {
	t.Parallel()
	a := startAgent(t, func(c *panion.Config) { c.Env = append(os.Environ(), "HOG_AGENT=base") })
	wd := t.TempDir()
	bin := t.TempDir()
	writeScript(t, filepath.Join(bin, "hogtool"), "#!/bin/sh\necho tool \"$@\"\n")
	writeScript(t, filepath.Join(wd, "local.sh"), "#!/bin/sh\necho local\n")
	tests := []struct {
		name     string
		req      api.ExecRequest
		wantCode int
		wantOut  string
		wantErr  string
	}{
		{name: "exit zero", req: api.ExecRequest{Argv: []string{"true"}}},
		{name: "exit status", req: sh("exit 3"), wantCode: 3},
		{name: "stdout and stderr apart", req: sh("echo out; echo err >&2"), wantOut: "out\n", wantErr: "err\n"},
		{name: "agent env", req: sh("echo $HOG_AGENT"), wantOut: "base\n"},
		{name: "env merged over agent env",
			req:     api.ExecRequest{Argv: []string{"sh", "-c", "echo $HOG_AGENT $HOG_X"}, Env: map[string]string{"HOG_AGENT": "over", "HOG_X": "x"}},
			wantOut: "over x\n"},
		{name: "argv0 looked up in the request PATH",
			req:     api.ExecRequest{Argv: []string{"hogtool", "a b"}, Env: map[string]string{"PATH": bin + ":/usr/bin:/bin"}},
			wantOut: "tool a b\n"},
		{name: "relative argv0 resolved in workdir",
			req: api.ExecRequest{Argv: []string{"./local.sh"}, Workdir: wd}, wantOut: "local\n"},
		{name: "workdir", req: api.ExecRequest{Argv: []string{"pwd"}, Workdir: wd}, wantOut: wd + "\n"},
		{name: "default workdir is /root", req: api.ExecRequest{Argv: []string{"pwd"}}, wantOut: "/root\n"},
		{name: "stdin", req: api.ExecRequest{Argv: []string{"cat"}, Stdin: "hello\x00world\n"}, wantOut: "hello\x00world\n"},
		{name: "no stdin reads EOF", req: api.ExecRequest{Argv: []string{"cat"}}},
		{name: "killed by a signal", req: sh("echo before; kill -9 $$"), wantCode: -1, wantOut: "before\n"},
		{name: "utf-8 output", req: sh("printf 'h\\303\\251 \\342\\234\\223'"), wantOut: "hé ✓"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res, err := a.c.Exec(ctxT(t), tc.req, 0)
			if err != nil {
				t.Fatal(err)
			}
			if res.ExitCode != tc.wantCode || res.Stdout != tc.wantOut || res.Stderr != tc.wantErr {
				t.Fatalf("got exit %d stdout %q stderr %q, want exit %d stdout %q stderr %q",
					res.ExitCode, res.Stdout, res.Stderr, tc.wantCode, tc.wantOut, tc.wantErr)
			}
			if res.TimedOut || res.StdoutTruncated || res.StderrTruncated {
				t.Fatalf("flags set: %+v", res)
			}
		})
	}
}

func TestExecInvalidRequests(t *testing.T) {
	t.Parallel()
	a := startAgent(t, nil)
	dir := t.TempDir()
	noExec := filepath.Join(dir, "noexec")
	if err := os.WriteFile(noExec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(dir, "garbage")
	writeScript(t, garbage, "\x7fELF not really an executable")
	tests := []struct {
		name   string
		req    api.ExecRequest
		max    int64
		detail string
	}{
		{"empty argv", api.ExecRequest{}, 0, "argv is required"},
		{"empty argv0", api.ExecRequest{Argv: []string{""}}, 0, "argv is required"},
		{"missing workdir", api.ExecRequest{Argv: []string{"true"}, Workdir: "/no/such/dir"}, 0, "workdir /no/such/dir does not exist"},
		{"relative workdir", api.ExecRequest{Argv: []string{"true"}, Workdir: "tmp"}, 0, "must be an absolute path"},
		{"workdir is a file", api.ExecRequest{Argv: []string{"true"}, Workdir: noExec}, 0, "is not a directory"},
		{"executable not found", api.ExecRequest{Argv: []string{"no-such-command-hog"}}, 0, "executable not found: no-such-command-hog"},
		{"path not found", api.ExecRequest{Argv: []string{"/no/such/bin"}}, 0, "executable not found: /no/such/bin"},
		{"not executable", api.ExecRequest{Argv: []string{noExec}}, 0, "is not executable"},
		{"exec format error", api.ExecRequest{Argv: []string{garbage}}, 0, "exec format error"},
		{"negative timeout", api.ExecRequest{Argv: []string{"true"}, TimeoutSeconds: -1}, 0, "timeout_seconds"},
		{"bad env name", api.ExecRequest{Argv: []string{"true"}, Env: map[string]string{"A=B": "c"}}, 0, "env name"},
		{"negative output cap", api.ExecRequest{Argv: []string{"true"}}, -1, "max_output_bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := a.c.Exec(ctxT(t), tc.req, tc.max)
			wantKind(t, err, errs.Invalid, tc.detail)
		})
	}
}

func TestExecTimeoutKillsProcessGroup(t *testing.T) {
	t.Parallel()
	a := startAgent(t, nil)
	start := time.Now()
	res, err := a.c.Exec(ctxT(t), api.ExecRequest{
		Argv: []string{"sh", "-c", "sleep 100 & echo $!; sleep 100"}, TimeoutSeconds: 0.5}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("exec took %s with a 0.5s timeout", took)
	}
	if !res.TimedOut || res.ExitCode != -1 {
		t.Fatalf("timed_out %v exit %d, want true -1", res.TimedOut, res.ExitCode)
	}
	if res.DurationMS < 500 {
		t.Fatalf("duration %dms is shorter than the timeout", res.DurationMS)
	}
	waitDead(t, pidFrom(t, res.Stdout), 5*time.Second)
}

// A grandchild in another session keeps stdout open; the exec must still
// end promptly once its own process is gone.
func TestExecDoesNotWaitForEscapedPipeHolders(t *testing.T) {
	t.Parallel()
	a := startAgent(t, nil)
	tests := []struct {
		name    string
		script  string
		timeout float64
		timed   bool
		code    int
	}{
		{"after timeout", "setsid sleep 100 & echo $!; sleep 100", 0.5, true, -1},
		{"after normal exit", "setsid sleep 100 & echo $!", 0, false, 0},
		{"background job of the same group", "sleep 100 & echo $!", 0, false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			res, err := a.c.Exec(ctxT(t), api.ExecRequest{Argv: []string{"sh", "-c", tc.script}, TimeoutSeconds: tc.timeout}, 0)
			if err != nil {
				t.Fatal(err)
			}
			pid := pidFrom(t, res.Stdout)
			t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })
			if took := time.Since(start); took > 5*time.Second {
				t.Fatalf("exec took %s", took)
			}
			if res.TimedOut != tc.timed || res.ExitCode != tc.code {
				t.Fatalf("timed_out %v exit %d, want %v %d", res.TimedOut, res.ExitCode, tc.timed, tc.code)
			}
			if st := processState(pid); st == "" || st == "Z" {
				t.Fatalf("pipe holder %d should still run (state %q): output is drained, not cut", pid, st)
			}
		})
	}
}

func TestExecOutputCap(t *testing.T) {
	t.Parallel()
	a := startAgent(t, nil)
	const mib = 1 << 20
	tests := []struct {
		name               string
		script             string
		max                int64
		outLen, errLen     int
		outTrunc, errTrunc bool
	}{
		{"default cap of 1 MiB, rest drained", "yes | head -c 3000000; echo done >&2", 0, mib, 5, true, false},
		{"stderr capped too", "yes | head -c 3000000 >&2", 0, 0, mib, false, true},
		{"exactly at the cap is not truncated", "head -c 10 /dev/zero", 10, 10, 0, false, false},
		{"custom cap", "head -c 11 /dev/zero", 10, 10, 0, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res, err := a.c.Exec(ctxT(t), sh(tc.script), tc.max)
			if err != nil {
				t.Fatal(err)
			}
			if res.ExitCode != 0 {
				t.Fatalf("exit %d: the writer was not drained to the end", res.ExitCode)
			}
			if len(res.Stdout) != tc.outLen || len(res.Stderr) != tc.errLen ||
				res.StdoutTruncated != tc.outTrunc || res.StderrTruncated != tc.errTrunc {
				t.Fatalf("stdout %d bytes truncated %v, stderr %d bytes truncated %v; want %d %v, %d %v",
					len(res.Stdout), res.StdoutTruncated, len(res.Stderr), res.StderrTruncated,
					tc.outLen, tc.outTrunc, tc.errLen, tc.errTrunc)
			}
		})
	}
	t.Run("a character cut by the cap is dropped", func(t *testing.T) {
		res, err := a.c.Exec(ctxT(t), sh("printf '\\303\\251\\303\\251'"), 3)
		if err != nil {
			t.Fatal(err)
		}
		if res.Stdout != "é" || !res.StdoutTruncated {
			t.Fatalf("stdout %q truncated %v, want \"é\" true", res.Stdout, res.StdoutTruncated)
		}
	})
}

func TestExecCancelKillsProcess(t *testing.T) {
	t.Parallel()
	a := startAgent(t, nil)
	pidFile := filepath.Join(t.TempDir(), "pid")
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := a.c.Exec(ctx, sh("echo $$ > "+pidFile+"; exec sleep 100"), 0)
	if err == nil {
		t.Fatal("exec outlived its context")
	}
	b, rerr := os.ReadFile(pidFile)
	if rerr != nil {
		t.Fatal(rerr)
	}
	waitDead(t, pidFrom(t, string(b)), 5*time.Second)
}

// Children must not inherit the agent's oom_score_adj. Lowering it needs
// CAP_SYS_RESOURCE, so without it the test raises it instead: the reset to
// 0 in the child is the same either way, and so is the agent lowering its
// own value back after a fork (it never goes below what it was).
func TestExecResetsOOMScoreAdj(t *testing.T) {
	const path = "/proc/self/oom_score_adj"
	old, err := os.ReadFile(path)
	if err != nil {
		t.Skip("no " + path)
	}
	adj := "-1000"
	if os.WriteFile(path, []byte(adj), 0) != nil {
		adj = "500"
		if err := os.WriteFile(path, []byte(adj), 0); err != nil {
			t.Skipf("cannot change oom_score_adj: %v", err)
		}
	}
	t.Cleanup(func() { _ = os.WriteFile(path, old, 0) })
	script := sh("cat /proc/self/oom_score_adj; grep SigBlk /proc/self/status")
	for _, tc := range []struct {
		name, mode, want string
		mod              func(*panion.Config)
	}{
		{"through the child mode", "trampoline", "0", nil},
		{"by raising the agent's own around the fork", "fork", "0", func(c *panion.Config) { c.NoForkReset = false }},
		{"started directly (control)", "direct", adj, func(c *panion.Config) { c.ChildExe = "" }},
		{"through the child mode when the probe fails", "trampoline", "0", func(c *panion.Config) {
			c.ChildExe, c.NoForkReset = failingProbe(t, c.ChildExe), false
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := startAgent(t, tc.mod)
			deadline := time.Now().Add(10 * time.Second)
			for a.srv.OOMReset() != tc.mode { // the probe runs in the background
				if time.Now().After(deadline) {
					t.Fatalf("processes start %q, want %q", a.srv.OOMReset(), tc.mode)
				}
				time.Sleep(5 * time.Millisecond)
			}
			for range 3 {
				res, err := a.c.Exec(ctxT(t), script, 0)
				if err != nil {
					t.Fatal(err)
				}
				lines := strings.Split(strings.TrimSpace(res.Stdout), "\n")
				if len(lines) != 2 || lines[0] != tc.want {
					t.Fatalf("child oom_score_adj: %q, want %s", res.Stdout, tc.want)
				}
				if strings.Trim(strings.TrimPrefix(lines[1], "SigBlk:"), "\t 0") != "" {
					t.Fatalf("child starts with blocked signals: %q", lines[1])
				}
				if b, _ := os.ReadFile(path); strings.TrimSpace(string(b)) != adj {
					t.Fatalf("the agent's own oom_score_adj is %s after the exec, want %s", b, adj)
				}
			}
			// Streaming execs and terminals start the same way.
			id, err := a.c.StartExec(ctxT(t), sh("cat /proc/self/oom_score_adj"))
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.TrimSpace(summarize(t, events(t, a.c, id, 0), 1).stdout); got != tc.want {
				t.Fatalf("streaming exec's oom_score_adj: %q, want %s", got, tc.want)
			}
			tm := openTerm(t, a, client.PTYRequest{Argv: []string{"cat", "/proc/self/oom_score_adj"}})
			select {
			case <-tm.done:
			case <-time.After(10 * time.Second):
				t.Fatal("the terminal did not end")
			}
			if got := strings.TrimSpace(tm.output()); got != tc.want {
				t.Fatalf("terminal's oom_score_adj: %q, want %s", got, tc.want)
			}
			if b, _ := os.ReadFile(path); strings.TrimSpace(string(b)) != adj {
				t.Fatalf("the agent's own oom_score_adj is %s after a terminal, want %s", b, adj)
			}
		})
	}
}

// failingProbe is a stand-in for the agent binary exe whose probe fails,
// as on a kernel or runtime that does not let a process lower its
// oom_score_adj back: its child mode works as exe's.
func failingProbe(t *testing.T, exe string) string {
	p := filepath.Join(t.TempDir(), "agent")
	writeScript(t, p, "#!/bin/sh\n[ \"$1\" = __oomprobe ] && { echo refused >&2; exit 1; }\nexec "+exe+" \"$@\"\n")
	return p
}

func writeScript(t testing.TB, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
}
