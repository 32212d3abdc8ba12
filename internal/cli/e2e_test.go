package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/PostHog/hogland/api"
)

// These tests run the real hog binary against a real hogplane on
// loopback, with busybox boxes.

var (
	boxIDRE     = regexp.MustCompile(`box-[0-9a-f]{12}`)
	requestIDRE = regexp.MustCompile(`(?m)^Request ID: req_[0-9a-f]+$`)
	ageRE       = regexp.MustCompile(`(?m)  \d+[smhd]$`)
)

func TestLogin(t *testing.T) {
	p := startPlane(t)
	u := newUser(t)

	// A bad token is refused and nothing is saved.
	r := u.run("", "login", "--host", p.URL, "--token", "tok_nope")
	if r.code != 1 || !strings.HasPrefix(r.stderr, "Error: Authentication required: ") || !requestIDRE.MatchString(r.stderr) {
		t.Errorf("login with a bad token: %s", r)
	}
	if _, err := os.Stat(u.configFile()); !os.IsNotExist(err) {
		t.Errorf("config written after a failed login: %v", err)
	}

	// The token from stdin.
	r = u.run(p.Token+"\n", "login", "--host", p.URL, "--token", "-")
	want := "Logged in to " + p.URL + " as admin (PRN, user, admin).\n" +
		`Saved profile "default" in ` + u.configFile() + "; it is the current profile.\n"
	if got := regexp.MustCompile(`prn-[0-9a-f]+`).ReplaceAllString(r.stdout, "PRN"); r.code != 0 || got != want {
		t.Fatalf("login: %s\nwant stdout:\n%s", r, want)
	}
	st, err := os.Stat(u.configFile())
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("config mode %v, want 0600", st.Mode().Perm())
	}
	var cfg struct {
		CurrentProfile string `json:"current_profile"`
		Profiles       map[string]struct {
			Host  string `json:"host"`
			Token string `json:"token"`
		} `json:"profiles"`
	}
	b, err := os.ReadFile(u.configFile())
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatalf("config %s: %v", b, err)
	}
	if d := cfg.Profiles["default"]; cfg.CurrentProfile != "default" || d.Host != p.URL || d.Token != p.Token {
		t.Errorf("config %s", b)
	}
	if matches, _ := filepath.Glob(filepath.Join(filepath.Dir(u.configFile()), ".config-*")); len(matches) > 0 {
		t.Errorf("temporary files left: %v", matches)
	}

	// The saved profile is used; a second one becomes current.
	if out := u.ok("me"); !strings.Contains(out, "Admin:      yes\n") {
		t.Errorf("me:\n%s", out)
	}
	u.ok("login", "--host", p.URL, "--token", p.Token, "--profile", "other")
	out := u.ok("profile", "ls")
	wantLs := "CURRENT  NAME     HOST" + strings.Repeat(" ", len(p.URL)-4) + "  TOKEN\n" +
		"         default  " + p.URL + "  saved\n" +
		"*        other    " + p.URL + "  saved\n"
	if out != wantLs {
		t.Errorf("profile ls:\n%s\nwant:\n%s", out, wantLs)
	}
	var views []profileView
	if err := json.Unmarshal([]byte(u.ok("profile", "ls", "--json")), &views); err != nil || len(views) != 2 || !views[1].Current {
		t.Errorf("profile ls --json: %+v %v", views, err)
	}
	u.ok("profile", "use", "default")
	u.ok("profile", "rm", "other")
	r = u.run("", "profile", "use", "other")
	if r.code != 1 || r.stderr != `Error: no profile "other" in `+u.configFile()+"; profiles: default\n" {
		t.Errorf("use of a removed profile: %s", r)
	}

	// Flags and the environment win over the file.
	r = u.run("", "--token", "tok_bad", "me")
	if r.code != 1 || !strings.Contains(r.stderr, "Authentication required") {
		t.Errorf("--token over the file: %s", r)
	}
	u.env = append(u.env, "HOG_TOKEN=tok_bad")
	if r := u.run("", "me"); r.code != 1 {
		t.Errorf("HOG_TOKEN over the file: %s", r)
	}
	// An explicit --profile wins over the environment.
	if r := u.run("", "--profile", "default", "me"); r.code != 0 {
		t.Errorf("--profile over HOG_TOKEN: %s", r)
	}
}

func TestBoxes(t *testing.T) {
	p := startPlane(t)
	u := newUser(t)
	u.login(p, p.Token)

	alpha := u.createBox("--name", "alpha", "--cpus", "2", "--memory", "1Gi", "--tag", "env=dev", "--tag", "team=x", "--env", "A=1", "--ttl", "1h")
	beta := u.createBox("--name", "beta", "--memory", "256")
	if out := u.ok("box", "pause", beta); out != beta+" paused\n" {
		t.Errorf("pause printed %q", out)
	}

	// The table, newest first, with the ids and ages made stable.
	out := u.ok("box", "ls")
	got := ageRE.ReplaceAllString(boxIDRE.ReplaceAllString(out, "box-XXXXXXXXXXXX"), "  AGE")
	want := "" +
		"ID                NAME   STATUS   IMAGE    CPUS  MEMORY   TAGS            AGE\n" +
		"box-XXXXXXXXXXXX  beta   paused   busybox  1     256 MiB  -               AGE\n" +
		"box-XXXXXXXXXXXX  alpha  running  busybox  2     1 GiB    env=dev,team=x  AGE\n"
	if got != want {
		t.Errorf("box ls:\n%s\nwant:\n%s", got, want)
	}
	if ids := boxIDRE.FindAllString(out, -1); len(ids) != 2 || ids[0] != beta || ids[1] != alpha {
		t.Errorf("box ls ids %v, want %s %s", ids, beta, alpha)
	}
	if out := u.ok("box", "ls", "-q"); out != beta+"\n"+alpha+"\n" {
		t.Errorf("box ls -q: %q", out)
	}

	// --json and -o yaml parse back into the API's types.
	var b api.Box
	if err := json.Unmarshal([]byte(u.ok("box", "get", alpha, "--json")), &b); err != nil {
		t.Fatal(err)
	}
	if b.ID != alpha || b.Spec.Name != "alpha" || b.Spec.CPUs != 2 || b.Spec.MemoryMiB != 1024 || b.TTLSeconds != 3600 || b.Status != api.StatusRunning {
		t.Errorf("box get --json: %+v", b)
	}
	var list []api.Box
	if err := json.Unmarshal([]byte(u.ok("box", "ls", "-o", "json")), &list); err != nil || len(list) != 2 {
		t.Errorf("box ls -o json: %v %v", list, err)
	}
	var y map[string]any
	if err := yaml.Unmarshal([]byte(u.ok("box", "get", beta, "-o", "yaml")), &y); err != nil || y["id"] != beta || y["status"] != "paused" {
		t.Errorf("box get -o yaml: %v %v", y, err)
	}
	var me api.Me
	if err := json.Unmarshal([]byte(u.ok("me", "--json")), &me); err != nil || !me.Principal.Admin {
		t.Errorf("me --json: %+v %v", me, err)
	}
	var lim api.Limits
	if err := json.Unmarshal([]byte(u.ok("limits", "--json")), &lim); err != nil || lim.Usage.Boxes != 2 {
		t.Errorf("limits --json: %+v %v", lim, err)
	}

	// The text view of one box.
	out = u.ok("box", "get", alpha)
	for _, line := range []string{"ID:        " + alpha + "\n", "Name:      alpha\n", "Status:    running\n", "Memory:    1 GiB\n", "Tags:      env=dev, team=x\n", "Idle TTL:  1h0m0s\n"} {
		if !strings.Contains(out, line) {
			t.Errorf("box get lacks %q:\n%s", line, out)
		}
	}

	// Box ids complete from the live boxes.
	out = u.ok("__complete", "box", "get", "")
	if !strings.Contains(out, alpha+"\talpha, running\n") || !strings.Contains(out, beta+"\tbeta, paused\n") {
		t.Errorf("completion:\n%s", out)
	}

	u.ok("box", "resume", beta)
	if out := u.ok("box", "rm", alpha, beta); out != alpha+"\n"+beta+"\n" {
		t.Errorf("box rm printed %q", out)
	}
	if out := u.ok("box", "ls"); out != "" {
		t.Errorf("box ls after rm: %q", out)
	}
	if out := u.ok("box", "ls", "--all", "-q"); out != beta+"\n"+alpha+"\n" {
		t.Errorf("box ls --all: %q", out)
	}
}

func TestExec(t *testing.T) {
	p := startPlane(t)
	u := newUser(t)
	u.login(p, p.Token)
	box := u.createBox("--env", "BOXVAR=box")

	cases := []struct {
		name   string
		stdin  string
		args   []string
		stdout string
		stderr string
		code   int
	}{
		{"exit code", "", []string{"--", "sh", "-c", "echo out; echo err >&2; exit 3"}, "out\n", "err\n", 3},
		{"no --", "", []string{"echo", "-n", "hi"}, "hi", "", 0},
		{"stdin", "hello\nworld\n", []string{"--", "tr", "a-z", "A-Z"}, "HELLO\nWORLD\n", "", 0},
		{"env and workdir", "", []string{"--", "sh", "-c", "echo $BOXVAR $X; pwd"}, "box y\n/tmp\n", "", 0},
		{"timeout", "", []string{"--", "sleep", "30"}, "", "hog: the command timed out after 1s and was killed\n", 137},
		{"killed", "", []string{"--", "sh", "-c", "kill -9 $$"}, "", "hog: the command was killed by a signal\n", 255},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var flags []string
			switch tc.name {
			case "env and workdir":
				flags = []string{"-e", "X=y", "-w", "/tmp"}
			case "timeout":
				flags = []string{"--timeout", "1s"}
			}
			args := append(append(append([]string{"exec"}, flags...), box), tc.args...)
			r := u.run(tc.stdin, args...)
			if r.code != tc.code || r.stdout != tc.stdout || r.stderr != tc.stderr {
				t.Errorf("hog %s: %s", strings.Join(args, " "), r)
			}
		})
	}
	// Output that outgrows the batch cap streams whole.
	r := u.run("", "exec", box, "--", "sh", "-c", "head -c 3000000 /dev/zero | tr '\\0' a")
	if r.code != 0 || len(r.stdout) != 3000000 || strings.Trim(r.stdout, "a") != "" {
		t.Errorf("big output: exit %d, %d bytes", r.code, len(r.stdout))
	}
	// Stdin streams as bytes, of any size: every byte value, 3 MiB of it.
	var in strings.Builder
	for in.Len() < 3<<20 {
		for b := 0; b < 256; b++ {
			in.WriteByte(byte(b))
		}
	}
	sum := sha256.Sum256([]byte(in.String()))
	r = u.run(in.String(), "exec", box, "--", "sh", "-c", "sha256sum | cut -d' ' -f1")
	if r.code != 0 || strings.TrimSpace(r.stdout) != hex.EncodeToString(sum[:]) {
		t.Errorf("binary stdin: %s", r)
	}
	// A command that stops reading early is no error for hog.
	r = u.run(in.String(), "exec", box, "--", "head", "-c", "3")
	if r.code != 0 || r.stdout != "\x00\x01\x02" || r.stderr != "" {
		t.Errorf("early-exiting reader: %s", r)
	}
	// A command that is not there is hogplane's error, so hog's exit 1.
	r = u.run("", "exec", box, "--", "no-such-command")
	if r.code != 1 || !strings.HasPrefix(r.stderr, "Error: Invalid request: executable not found: no-such-command") {
		t.Errorf("missing command: %s", r)
	}
	// A usage mistake exits 2.
	if r := u.run("", "exec", box); r.code != 2 || !strings.Contains(r.stderr, "hog exec takes a BOX and a COMMAND") {
		t.Errorf("exec without a command: %s", r)
	}
}

func TestCp(t *testing.T) {
	p := startPlane(t)
	u := newUser(t)
	u.login(p, p.Token)
	box := u.createBox()
	dir := t.TempDir()
	local := filepath.Join(dir, "run.sh")
	content := "#!/bin/sh\necho ran\n"
	if err := os.WriteFile(local, []byte(content), 0o750); err != nil {
		t.Fatal(err)
	}

	// In: the mode comes along, and a directory destination gets the name.
	u.ok("cp", local, box+":/tmp/")
	if out := u.ok("exec", box, "--", "sh", "-c", "stat -c %a /tmp/run.sh && /tmp/run.sh"); out != "750\nran\n" {
		t.Errorf("in the box: %q", out)
	}
	u.ok("cp", local, box+":/tmp/renamed.sh")
	if out := u.ok("exec", box, "cat", "/tmp/renamed.sh"); out != content {
		t.Errorf("renamed: %q", out)
	}

	// Out: to a file, and into a directory.
	u.ok("exec", box, "--", "sh", "-c", "printf 'a\\0b' > /tmp/bin && chmod 4711 /tmp/bin")
	u.ok("cp", box+":/tmp/bin", filepath.Join(dir, "bin"))
	b, err := os.ReadFile(filepath.Join(dir, "bin"))
	st, serr := os.Stat(filepath.Join(dir, "bin"))
	if err != nil || serr != nil || string(b) != "a\x00b" || st.Mode() != 0o711|os.ModeSetuid {
		t.Errorf("copied out: %q %v (%v %v)", b, st.Mode(), err, serr)
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	u.ok("cp", box+":/tmp/run.sh", dir+"/sub/")
	if st, err := os.Stat(filepath.Join(dir, "sub", "run.sh")); err != nil || st.Mode() != 0o750 {
		t.Errorf("into a directory: %v %v", st, err)
	}

	// stdin and stdout.
	if r := u.run("piped\n", "cp", "-", box+":/tmp/piped"); r.code != 0 {
		t.Fatalf("cp from stdin: %s", r)
	}
	if out := u.ok("cp", box+":/tmp/piped", "-"); out != "piped\n" {
		t.Errorf("cp to stdout: %q", out)
	}

	// Directories, both ways, with modes, symlinks and nesting.
	tree := filepath.Join(dir, "tree")
	if err := os.MkdirAll(filepath.Join(tree, "a", "b"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tree, "a", "b", "f.txt"), []byte("deep\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("a/b/f.txt", filepath.Join(tree, "link")); err != nil {
		t.Fatal(err)
	}
	u.ok("cp", tree, box+":/root/")
	u.ok("cp", tree, box+":/root/copy")
	out := u.ok("exec", box, "--", "sh", "-c", "cd /root && stat -c '%n %a' tree/a/b/f.txt copy/a/b/f.txt && readlink tree/link && cat copy/link")
	if out != "tree/a/b/f.txt 640\ncopy/a/b/f.txt 640\na/b/f.txt\ndeep\n" {
		t.Errorf("tree in the box: %q", out)
	}
	back := filepath.Join(dir, "back")
	u.ok("cp", box+":/root/tree", back)
	if b, err := os.ReadFile(filepath.Join(back, "link")); err != nil || string(b) != "deep\n" {
		t.Errorf("tree back: %q %v", b, err)
	}
	if st, err := os.Stat(filepath.Join(back, "a", "b", "f.txt")); err != nil || st.Mode() != 0o640 {
		t.Errorf("tree back: %v %v", st, err)
	}
	u.ok("cp", box+":/root/tree", dir) // into an existing directory: dir/tree
	if _, err := os.Stat(filepath.Join(dir, "tree", "a", "b", "f.txt")); err != nil {
		t.Error(err)
	}

	// Mistakes are explained.
	r := u.run("", "cp", local, box+":tmp/x")
	if r.code != 2 || !strings.Contains(r.stderr, "the path in the box must be absolute, such as "+box+":/root/tmp/x") {
		t.Errorf("relative box path: %s", r)
	}
	r = u.run("", "cp", box+":/no/such", filepath.Join(dir, "x"))
	if r.code != 1 || !strings.HasPrefix(r.stderr, "Error: Not found: /no/such does not exist\n") {
		t.Errorf("missing file: %s", r)
	}
}

func TestErrors(t *testing.T) {
	p := startPlane(t)
	u := newUser(t)
	u.login(p, p.Token)

	for _, args := range [][]string{
		{"box", "get", "box-000000000000"},
		{"exec", "box-000000000000", "--", "true"},
		{"box", "rm", "box-000000000000"},
	} {
		r := u.run("", args...)
		got := requestIDRE.ReplaceAllString(r.stderr, "Request ID: REQ")
		want := "Error: Not found: box box-000000000000 not found\nRequest ID: REQ\n"
		if r.code != 1 || r.stdout != "" || got != want || !requestIDRE.MatchString(r.stderr) {
			t.Errorf("hog %s: %s\nwant stderr:\n%s", strings.Join(args, " "), r, want)
		}
	}

	r := u.run("", "--token", "tok_0000", "box", "ls")
	got := requestIDRE.ReplaceAllString(r.stderr, "Request ID: REQ")
	want := "Error: Authentication required: API token is not valid\nRequest ID: REQ\n" +
		"Hint: hogplane did not accept the token; log in again with: hog login --host URL --token TOKEN\n"
	if r.code != 1 || got != want {
		t.Errorf("bad token: %s\nwant stderr:\n%s", r, want)
	}

	// A user who is not an admin cannot make principals; an admin can.
	id := strings.TrimSpace(u.ok("principal", "create", "alice"))
	tok := strings.TrimSpace(u.ok("token", "create", id, "--name", "laptop"))
	if !strings.HasPrefix(id, "prn-") || !strings.HasPrefix(tok, "tok_") {
		t.Fatalf("principal %q token %q", id, tok)
	}
	alice := newUser(t)
	alice.login(p, tok)
	r = alice.run("", "principal", "create", "mallory")
	if r.code != 1 || !strings.HasPrefix(r.stderr, "Error: Permission denied: only an admin may do this\n") {
		t.Errorf("non-admin principal create: %s", r)
	}
	// And alice does not see the admin's boxes.
	box := u.createBox()
	if r := alice.run("", "box", "get", box); r.code != 1 || !strings.Contains(r.stderr, "Not found") {
		t.Errorf("another's box: %s", r)
	}

	// Nobody listening.
	r = u.run("", "--host", "http://127.0.0.1:1", "--token", "tok_x", "me")
	if r.code != 1 || !strings.HasPrefix(r.stderr, "Error: cannot reach hogplane at http://127.0.0.1:1: ") || !strings.Contains(r.stderr, "Hint: is hogplane running there?") {
		t.Errorf("no server: %s", r)
	}
	// No config at all.
	nobody := newUser(t)
	r = nobody.run("", "box", "ls")
	if r.code != 1 || r.stderr != "Error: no hogplane to talk to: log in with: hog login --host URL --token TOKEN (or set HOG_HOST and HOG_TOKEN)\n" {
		t.Errorf("no config: %s", r)
	}
}

func TestVersion(t *testing.T) {
	p := startPlane(t)
	u := newUser(t)
	if out := u.ok("--version"); out != "hog "+testVersion+"\n" {
		t.Errorf("--version: %q", out)
	}
	out := u.ok("version")
	if !strings.HasPrefix(out, "hog "+testVersion+" (go") || strings.Count(out, "\n") != 1 {
		t.Errorf("version without a hogplane: %q", out)
	}
	u.login(p, p.Token)
	out = u.ok("version")
	if lines := strings.Split(out, "\n"); len(lines) != 3 || lines[1] != "hogplane dev at "+p.URL {
		t.Errorf("version: %q", out)
	}
	var v versionInfo
	if err := json.Unmarshal([]byte(u.ok("version", "--json")), &v); err != nil || v.Client.Version != testVersion || v.Server == nil || v.Server.Host != p.URL {
		t.Errorf("version --json: %+v %v", v, err)
	}
	for _, sh := range []string{"bash", "zsh", "fish"} {
		if out := u.ok("completion", sh); !strings.Contains(out, "hog") || len(out) < 1000 {
			t.Errorf("completion %s: %d bytes", sh, len(out))
		}
	}
}

func TestInteractive(t *testing.T) {
	p := startPlane(t)
	u := newUser(t)
	u.login(p, p.Token)
	box := u.createBox()

	// A terminal, fed from a pipe: the line is echoed by the terminal.
	r := u.run("hi\n", "shell", box, "--", "sh", "-c", "read x; echo got $x; exit 4")
	if r.code != 4 || !strings.Contains(r.stdout, "got hi\r\n") {
		t.Errorf("shell: %s", r)
	}

	// A web server in the box, reached through a tunnel, the proxy and a
	// preview link.
	u.ok("exec", box, "--", "sh", "-c", "mkdir -p /www && echo hello > /www/index.html && httpd -p 8080 -h /www")
	pf := u.start("port-forward", box, ":8080")
	line := pf.line()
	m := regexp.MustCompile(`^Forwarding (127\.0\.0\.1:\d+) -> ` + box + `:8080$`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("port-forward printed %q", line)
	}
	for range 3 { // several connections through one forward
		if body, status := get(t, "http://"+m[1]+"/index.html", ""); status != 200 || body != "hello\n" {
			t.Errorf("through the tunnel: %d %q", status, body)
		}
	}
	if code := pf.stop(); code != 0 {
		t.Errorf("port-forward exited %d", code)
	}

	url := strings.TrimSpace(u.ok("url", box, "8080", "/index.html"))
	if body, status := get(t, url, p.Token); status != 200 || body != "hello\n" {
		t.Errorf("proxy %s: %d %q", url, status, body)
	}
	if _, status := get(t, url, ""); status != 401 {
		t.Errorf("proxy without a token: %d", status)
	}
	link := strings.TrimSpace(u.ok("preview", "create", box, "8080", "--expires-in", "10m"))
	if body, status := get(t, link, ""); status != 200 || body != "hello\n" {
		t.Errorf("preview %s: %d %q", link, status, body)
	}
	var tokens []api.PreviewToken
	if err := json.Unmarshal([]byte(u.ok("preview", "ls", box, "--json")), &tokens); err != nil || len(tokens) != 1 || tokens[0].Token != "" {
		t.Fatalf("preview ls: %+v %v", tokens, err)
	}
	u.ok("preview", "rm", box, tokens[0].ID)
	if _, status := get(t, link, ""); status == 200 {
		t.Errorf("revoked preview still works")
	}
	if out := u.ok("preview", "ls", box); !strings.Contains(out, tokens[0].ID+"  8080") || !strings.HasSuffix(out, "revoked\n") {
		t.Errorf("preview ls:\n%s", out)
	}

	// The box's history.
	out := u.ok("box", "events", box)
	if !strings.HasPrefix(out, "SEQ  AT") || !strings.Contains(out, "created") {
		t.Errorf("box events:\n%s", out)
	}
}

func TestAdmin(t *testing.T) {
	p := startPlane(t)
	u := newUser(t)
	u.login(p, p.Token)
	id := strings.TrimSpace(u.ok("principal", "create", "bob", "--kind", "service"))
	tok := strings.TrimSpace(u.ok("token", "create", id, "--name", "ci", "--expires-in", "24h"))
	var listed []api.Token
	if err := json.Unmarshal([]byte(u.ok("token", "ls", id, "--json")), &listed); err != nil || len(listed) != 1 || listed[0].Name != "ci" || listed[0].Token != "" {
		t.Fatalf("token ls: %+v %v", listed, err)
	}
	out := u.ok("token", "ls", id)
	want := regexp.MustCompile(`^ID +NAME +CREATED +LAST USED +STATE\n` + listed[0].ID + ` +ci +\S+ +never +expires in 23h\n$`)
	if !want.MatchString(out) {
		t.Errorf("token ls:\n%s", out)
	}
	bob := newUser(t)
	bob.login(p, tok)
	if out := bob.ok("me"); !strings.Contains(out, "Principal:  bob ("+id+")\nKind:       service\n") {
		t.Errorf("bob's me:\n%s", out)
	}
	u.ok("token", "rm", id, listed[0].ID)
	if r := bob.run("", "me"); r.code != 1 || !strings.Contains(r.stderr, "Authentication required") {
		t.Errorf("revoked token: %s", r)
	}
	if out := u.ok("principal", "ls"); !strings.Contains(out, id+"  bob    service  no") {
		t.Errorf("principal ls:\n%s", out)
	}
	if out := u.ok("principal", "get", id); !strings.Contains(out, "Name:     bob\n") {
		t.Errorf("principal get:\n%s", out)
	}
}

// get fetches url (with token as a bearer credential when not empty) and
// returns the body and status.
func get(t *testing.T, url, token string) (string, int) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	c := &http.Client{Timeout: 30 * time.Second}
	defer c.CloseIdleConnections()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b), resp.StatusCode
}

func TestSnapshotsAndDevboxes(t *testing.T) {
	p := startPlane(t)
	u := newUser(t)
	u.login(p, p.Token)
	box := u.createBox()
	u.ok("exec", box, "--", "sh", "-c", "echo kept > /root/marker")

	snap := strings.TrimSpace(u.ok("snapshot", "create", box, "--alias", "base"))
	if !strings.HasPrefix(snap, "snap-") {
		t.Fatalf("snapshot create printed %q", snap)
	}
	var s api.Snapshot
	if err := json.Unmarshal([]byte(u.ok("snapshot", "get", snap, "--json")), &s); err != nil || s.BoxID != box || len(s.Aliases) != 1 || s.Aliases[0] != "base" {
		t.Errorf("snapshot get: %+v %v", s, err)
	}
	if out := u.ok("snapshot", "aliases"); !regexp.MustCompile(`(?m)^base   ` + snap + `  \S+$`).MatchString(out) {
		t.Errorf("aliases:\n%s", out)
	}
	from := u.createBox("--from", "alias:base")
	if out := u.ok("exec", from, "cat", "/root/marker"); out != "kept\n" {
		t.Errorf("box from the alias: %q", out)
	}
	// In use: the conflict names what stands on it.
	r := u.run("", "snapshot", "rm", snap)
	if r.code != 1 || !strings.HasPrefix(r.stderr, "Error: Conflict: snapshot "+snap+" is in use") {
		t.Errorf("snapshot rm in use: %s", r)
	}

	id := strings.TrimSpace(u.ok("devbox", "create", "web", "--image", "busybox", "--auto-stop", "10m"))
	if !strings.HasPrefix(id, "dbx-") {
		t.Fatalf("devbox create printed %q", id)
	}
	if r := u.run("", "devbox", "exec", "web", "--", "sh", "-c", "echo hi > /root/f; exit 2"); r.code != 2 {
		t.Errorf("devbox exec: %s", r)
	}
	if out := u.ok("devbox", "stop", "web"); out != "web stopped\n" {
		t.Errorf("devbox stop: %q", out)
	}
	// Auto-started by the exec, with its disk.
	if out := u.ok("devbox", "exec", "web", "cat", "/root/f"); out != "hi\n" {
		t.Errorf("devbox exec after stop: %q", out)
	}
	out := u.ok("devbox", "ls")
	if !regexp.MustCompile(`^NAME +ID +STATUS +BOX +IMAGE +AUTO-STOP\nweb +` + id + ` +running +box-[0-9a-f]{12} +busybox +10m0s\n$`).MatchString(out) {
		t.Errorf("devbox ls:\n%s", out)
	}
	if out := u.ok("devbox", "events", "web"); !strings.Contains(out, "auto_started") {
		t.Errorf("devbox events:\n%s", out)
	}
	u.ok("devbox", "rm", "web")
	if r := u.run("", "devbox", "get", "web"); r.code != 1 || !strings.Contains(r.stderr, "Not found") {
		t.Errorf("devbox get after rm: %s", r)
	}
}
