package bench

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
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
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/PostHog/hogland/api"
	agentclient "github.com/PostHog/hogland/internal/panion/client"
)

// PlaneConfig says how to start hogplane.
type PlaneConfig struct {
	Hogplane string // the hogplane binary; hogpanion is next to it
	Agent    string // the hogpanion binary
	DataDir  string
	ImageDir string
	// WarmPool is hogplane's --warm-pool (IMAGE=N), "" for its default.
	WarmPool string
}

// Plane is a running hogplane process on a loopback port, and an HTTP
// client of its API with the admin token.
type Plane struct {
	URL     string
	Token   string
	DataDir string
	RunDir  string
	// Lifted are the serve flags given to lift rate limits and quotas.
	Lifted []string
	// WarmPool is the --warm-pool it was started with ("" if none given).
	WarmPool string

	cmd    *exec.Cmd
	exited chan struct{}
	http   *http.Client
	log    *planeLog
}

// serveFlags are the flags `hogplane serve` knows, from its -h output.
func serveFlags(ctx context.Context, hogplane string) map[string]bool {
	out, _ := exec.CommandContext(ctx, hogplane, "serve", "-h").CombinedOutput()
	flags := map[string]bool{}
	for line := range strings.SplitSeq(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 0 && strings.HasPrefix(line, "  -") {
			flags[strings.TrimLeft(f[0], "-")] = true
		}
	}
	return flags
}

// unlimited are serve flags, where hogplane has them, that lift the
// per-principal policy limits (rate limits, quotas): the bench measures
// the machine, not the policy, and holds many boxes at once.
var unlimited = [][2]string{
	{"rate-limit", "0"}, {"create-rate-limit", "0"},
	{"quota-max-boxes", "100000"}, {"quota-max-cpus", "100000"}, {"quota-max-memory-mib", "1073741824"},
}

// StartPlane starts hogplane serve on 127.0.0.1:0 with a fresh run dir
// and waits until it serves.
func StartPlane(ctx context.Context, cfg PlaneConfig) (*Plane, error) {
	runDir := "/run/hogbench/" + randHex(4)
	p := &Plane{DataDir: cfg.DataDir, RunDir: runDir, exited: make(chan struct{}), log: newPlaneLog()}
	args := []string{"serve", "--data-dir", cfg.DataDir, "--listen", "127.0.0.1:0",
		"--image-dir", cfg.ImageDir, "--agent", cfg.Agent, "--run-dir", runDir, "--log-json=false"}
	known := serveFlags(ctx, cfg.Hogplane)
	if cfg.WarmPool != "" && known["warm-pool"] {
		args = append(args, "--warm-pool", cfg.WarmPool)
		p.WarmPool = cfg.WarmPool
	}
	for _, kv := range unlimited {
		if known[kv[0]] {
			args = append(args, "--"+kv[0], kv[1])
			p.Lifted = append(p.Lifted, "--"+kv[0]+" "+kv[1])
		}
	}
	p.cmd = exec.Command(cfg.Hogplane, args...)
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	p.cmd.Stderr = p.log
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start hogplane: %w", err)
	}
	go func() {
		_ = p.cmd.Wait()
		close(p.exited)
	}()
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if _, after, ok := strings.Cut(sc.Text(), " serving on "); ok {
				urlc <- strings.TrimSpace(after)
			}
		}
	}()
	select {
	case p.URL = <-urlc:
	case <-p.exited:
		return nil, fmt.Errorf("hogplane exited at start:\n%s", p.log.tail())
	case <-time.After(60 * time.Second):
		p.kill()
		return nil, fmt.Errorf("hogplane did not start within 60 s:\n%s", p.log.tail())
	case <-ctx.Done():
		p.kill()
		return nil, ctx.Err()
	}
	tok, err := os.ReadFile(filepath.Join(cfg.DataDir, "admin.token"))
	if err != nil {
		p.kill()
		return nil, err
	}
	p.Token = strings.TrimSpace(string(tok))
	p.http = newHTTPClient(64)
	return p, nil
}

// newHTTPClient is a keep-alive client for up to conns connections per
// host.
func newHTTPClient(conns int) *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        conns * 2,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}}
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Pid is hogplane's process id.
func (p *Plane) Pid() int { return p.cmd.Process.Pid }

// Logs is the tail of hogplane's log.
func (p *Plane) Logs() string { return p.log.tail() }

// CreateTook is the driver's own create time of box id ("box created
// ... took=" in hogplane's log), if it was logged.
func (p *Plane) CreateTook(id string) (time.Duration, bool) { return p.log.took(id) }

// Stop destroys every live box, then stops hogplane with SIGTERM and
// removes its run dir.
func (p *Plane) Stop(ctx context.Context) error {
	err := p.DestroyAll(ctx)
	select {
	case <-p.exited:
	default:
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(30 * time.Second):
			p.kill()
		}
	}
	if err == nil {
		_ = os.RemoveAll(p.RunDir)
		_ = os.Remove(filepath.Dir(p.RunDir)) // only if empty
	}
	return err
}

func (p *Plane) kill() {
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// DestroyAll deletes every box that is not stopped or failed.
func (p *Plane) DestroyAll(ctx context.Context) error {
	select {
	case <-p.exited:
		return errors.New("hogplane exited; its boxes were left running")
	default:
	}
	var list api.BoxList
	if err := p.call(ctx, "GET", "/v1/hogboxes?status=creating,running,paused&limit=500", nil, &list); err != nil {
		return err
	}
	var errs []error
	for _, b := range list.Items {
		errs = append(errs, p.DeleteBox(ctx, b.ID))
	}
	return errors.Join(errs...)
}

// call sends a JSON request to the API and decodes a 2xx JSON answer into
// out (if not nil). Any other status is an error carrying the body.
func (p *Plane) call(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := p.newRequest(ctx, method, path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := p.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s %s: read: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(b))
	}
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s %s: decode: %w", method, path, err)
		}
	}
	return nil
}

func (p *Plane) newRequest(ctx context.Context, method, path string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, p.URL+path, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+p.Token)
	return req, nil
}

// get GETs path and returns the response of a 200 answer, whose body the
// caller reads and closes; any other status is an error carrying the body.
func (p *Plane) get(ctx context.Context, path string) (*http.Response, error) {
	req, err := p.newRequest(ctx, "GET", path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := p.http.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != 200 {
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return nil, fmt.Errorf("GET %s: %s: %s", path, resp.Status, bytes.TrimSpace(b))
	}
	return resp, nil
}

// CreateBox creates a box of image and returns it once it runs.
func (p *Plane) CreateBox(ctx context.Context, image string) (api.Box, error) {
	return p.CreateBoxReq(ctx, api.CreateBoxRequest{Image: image})
}

// CreateBoxReq creates a box from a full request and returns it once it
// runs.
func (p *Plane) CreateBoxReq(ctx context.Context, req api.CreateBoxRequest) (api.Box, error) {
	var b api.Box
	if err := p.call(ctx, "POST", "/v1/hogboxes", req, &b); err != nil {
		return b, err
	}
	if b.Status != api.StatusRunning {
		return b, fmt.Errorf("created box %s is %s, want running", b.ID, b.Status)
	}
	return b, nil
}

// WarmBoxes reads hogplane's count of warm boxes ready for image (of any
// disk size) from /metrics (-1 when it reports none).
func (p *Plane) WarmBoxes(ctx context.Context, image string) (int, error) {
	resp, err := p.get(ctx, "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	n, found := 0, false
	for line := range strings.SplitSeq(string(raw), "\n") {
		labels, v, ok := strings.Cut(line, "} ")
		if !ok || !strings.HasPrefix(labels, "hogland_warm_boxes{") || !strings.Contains(labels, `image="`+image+`"`) {
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return 0, err
		}
		n, found = n+int(f), true
	}
	if !found {
		return -1, nil
	}
	return n, nil
}

// WaitWarm waits until want warm boxes of image are ready (at most a
// minute): figures that should not share the CPU with the pool's refill
// start after it.
func (p *Plane) WaitWarm(ctx context.Context, image string, want int) error {
	deadline := time.Now().Add(time.Minute)
	for {
		n, err := p.WarmBoxes(ctx, image)
		if err != nil {
			return err
		}
		if n >= want {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d warm %s boxes ready after a minute, want %d", n, image, want)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// DeleteBox destroys a box.
func (p *Plane) DeleteBox(ctx context.Context, id string) error {
	return p.call(ctx, "DELETE", "/v1/hogboxes/"+id, nil, nil)
}

// Exec runs argv in a box and fails unless it exits 0.
func (p *Plane) Exec(ctx context.Context, id string, argv ...string) (api.ExecResult, error) {
	var res api.ExecResult
	if err := p.call(ctx, "POST", "/v1/hogboxes/"+id+"/exec", api.ExecRequest{Argv: argv}, &res); err != nil {
		return res, err
	}
	if res.ExitCode != 0 {
		return res, fmt.Errorf("exec %q in %s: exit %d: %s", argv, id, res.ExitCode, res.Stderr)
	}
	return res, nil
}

// StreamFirstStdout starts argv as a streaming exec and returns the time
// from sending the request to the arrival of the first "event: stdout"
// line; it then reads the stream to its end.
func (p *Plane) StreamFirstStdout(ctx context.Context, id string, argv ...string) (time.Duration, error) {
	b, _ := json.Marshal(api.ExecRequest{Argv: argv})
	req, err := p.newRequest(ctx, "POST", "/v1/hogboxes/"+id+"/exec/stream", bytes.NewReader(b))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	start := time.Now()
	resp, err := p.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		msg, _ := io.ReadAll(resp.Body)
		return 0, fmt.Errorf("exec stream: %s: %s", resp.Status, msg)
	}
	br := bufio.NewReader(resp.Body)
	var ttfb time.Duration
	for {
		line, err := br.ReadString('\n')
		if ttfb == 0 && strings.TrimSpace(line) == "event: stdout" {
			ttfb = time.Since(start)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, err
		}
	}
	if ttfb == 0 {
		return 0, errors.New("exec stream ended without a stdout event")
	}
	return ttfb, nil
}

// WriteFile PUTs data to path in a box.
func (p *Plane) WriteFile(ctx context.Context, id, path string, data []byte, query string) error {
	req, err := p.newRequest(ctx, "PUT", "/v1/hogboxes/"+id+"/files?path="+path+query, bytes.NewReader(data))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := p.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return fmt.Errorf("write %s: %s: %s", path, resp.Status, b)
	}
	var fi api.FileInfo
	if err := json.Unmarshal(b, &fi); err != nil {
		return err
	}
	if fi.Size != int64(len(data)) {
		return fmt.Errorf("write %s: stored %d bytes of %d", path, fi.Size, len(data))
	}
	return nil
}

// ReadFile GETs path from a box and returns how many bytes came.
func (p *Plane) ReadFile(ctx context.Context, id, path string) (int64, error) {
	resp, err := p.get(ctx, "/v1/hogboxes/"+id+"/files?path="+path)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	return discard(resp.Body)
}

// Agent is a client that talks to box id's agent directly over its Unix
// socket, bypassing hogplane (as hogplane itself does).
func (p *Plane) Agent(id string) *agentclient.Client {
	sock := p.AgentSocket(id)
	return agentclient.New(func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", sock)
	})
}

// AgentSocket is the Unix socket of box id's agent.
func (p *Plane) AgentSocket(id string) string {
	return filepath.Join(p.RunDir, "boxes", id, "agent.sock")
}

// CgroupPath is box id's cgroup, as hogplane's OCI driver names it.
func CgroupPath(id string) string { return CgroupParent + "/" + id }

// CgroupParent is the cgroup (cgroupsPath) every box's is made under.
const CgroupParent = "/hogland"

// planeLog keeps the tail of hogplane's log and the driver's create time
// of every box.
type planeLog struct {
	mu      sync.Mutex
	partial []byte
	lines   []string
	tooks   map[string]time.Duration
}

const logTail = 200

var createdRE = regexp.MustCompile(`msg="box created".* box=(\S+) took=(\S+)`)

func newPlaneLog() *planeLog { return &planeLog{tooks: map[string]time.Duration{}} }

func (l *planeLog) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.partial = append(l.partial, b...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		line := string(l.partial[:i])
		l.partial = l.partial[i+1:]
		if strings.Contains(line, `msg=request `) && strings.Contains(line, "level=INFO") {
			continue // one per request: not worth keeping
		}
		if m := createdRE.FindStringSubmatch(line); m != nil {
			if d, err := time.ParseDuration(m[2]); err == nil {
				l.tooks[m[1]] = d
			}
		}
		l.lines = append(l.lines, line)
		if len(l.lines) > logTail {
			l.lines = l.lines[len(l.lines)-logTail:]
		}
	}
	return len(b), nil
}

func (l *planeLog) tail() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

func (l *planeLog) took(id string) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	d, ok := l.tooks[id]
	return d, ok
}
