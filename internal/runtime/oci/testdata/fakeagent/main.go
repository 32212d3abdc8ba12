// Command fakeagent is a stand-in for hogpanion in the OCI driver's tests:
// `fakeagent init --listen unix:PATH` runs as a box's init, reaps orphans
// and keeps a `fakeagent serve` child answering a small subset of the
// agent protocol over HTTP on PATH: GET /v1/health and POST /v1/exec.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 4 || os.Args[2] != "--listen" || !strings.HasPrefix(os.Args[3], "unix:") {
		fmt.Fprintln(os.Stderr, "usage: fakeagent init|serve --listen unix:PATH")
		os.Exit(2)
	}
	path := strings.TrimPrefix(os.Args[3], "unix:")
	switch os.Args[1] {
	case "init":
		initMain()
	case "serve":
		serveMain(path)
	default:
		os.Exit(2)
	}
}

// initMain keeps a serve child alive and reaps every process that ends up
// as its child.
func initMain() {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM)
	go func() {
		<-sigs
		_ = syscall.Kill(-1, syscall.SIGTERM)
		os.Exit(0)
	}()
	for {
		child, err := startServe()
		if err != nil {
			fmt.Fprintln(os.Stderr, "fakeagent: start serve:", err)
			time.Sleep(100 * time.Millisecond)
			continue
		}
		for {
			var ws syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &ws, 0, nil)
			if err != nil && !errors.Is(err, syscall.EINTR) {
				time.Sleep(10 * time.Millisecond)
			}
			if pid == child {
				break
			}
		}
	}
}

func startServe() (int, error) {
	args := append([]string{os.Args[0], "serve"}, os.Args[2:]...)
	return syscall.ForkExec(os.Args[0], args, &syscall.ProcAttr{
		Env:   os.Environ(),
		Files: []uintptr{0, 1, 2},
	})
}

var started = time.Now()

func serveMain(path string) {
	_ = os.Remove(path)
	ln, err := net.Listen("unix", path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fakeagent: listen:", err)
		os.Exit(1)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/health", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{"version": "fake", "pid": os.Getpid(), "uptime_ms": time.Since(started).Milliseconds()})
	})
	mux.HandleFunc("POST /v1/exec", handleExec)
	fmt.Fprintln(os.Stderr, "fakeagent: serving on", path)
	_ = http.Serve(ln, mux)
}

type execRequest struct {
	Argv           []string          `json:"argv"`
	Env            map[string]string `json:"env,omitempty"`
	Workdir        string            `json:"workdir,omitempty"`
	Stdin          string            `json:"stdin,omitempty"`
	TimeoutSeconds float64           `json:"timeout_seconds,omitempty"`
}

type execResult struct {
	ExitCode   int    `json:"exit_code"`
	Stdout     string `json:"stdout"`
	Stderr     string `json:"stderr"`
	TimedOut   bool   `json:"timed_out"`
	DurationMS int64  `json:"duration_ms"`
}

func handleExec(w http.ResponseWriter, r *http.Request) {
	var req execRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || len(req.Argv) == 0 {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	timeout := 60 * time.Second
	if req.TimeoutSeconds > 0 {
		timeout = time.Duration(req.TimeoutSeconds * float64(time.Second))
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	cmd := exec.Command(req.Argv[0], req.Argv[1:]...)
	cmd.Env = os.Environ()
	for k, v := range req.Env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Dir = req.Workdir
	cmd.Stdin = strings.NewReader(req.Stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	start := time.Now()
	res := execResult{}
	if err := cmd.Start(); err != nil {
		res.ExitCode, res.Stderr = 127, err.Error()
		writeJSON(w, res)
		return
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		res.TimedOut = true
		killGroup(cmd.Process.Pid)
		err = <-done
	}
	res.DurationMS = time.Since(start).Milliseconds()
	res.Stdout, res.Stderr = stdout.String(), stderr.String()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		res.ExitCode = ee.ExitCode()
	default:
		res.ExitCode, res.Stderr = -1, res.Stderr+err.Error()
	}
	writeJSON(w, res)
}

// killGroup SIGKILLs process group pgid until it is empty: forking
// members may add to it while it is being killed.
func killGroup(pgid int) {
	for range 1000 {
		if err := syscall.Kill(-pgid, syscall.SIGKILL); errors.Is(err, syscall.ESRCH) {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
