package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"math/rand"
	"net/url"
	"strings"
	"testing"

	"github.com/PostHog/hogland/api"
)

func (c *client) writeFile(id, path string, data io.Reader, query string) (int, []byte) {
	c.t.Helper()
	resp := c.request("PUT", "/v1/hogboxes/"+id+"/files?path="+url.QueryEscape(path)+query, data,
		map[string]string{"Content-Type": "application/octet-stream"})
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

func (c *client) readFile(id, path string) (int, []byte) {
	c.t.Helper()
	resp := c.request("GET", "/v1/hogboxes/"+id+"/files?path="+url.QueryEscape(path), nil, nil)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp.StatusCode, body
}

func TestFiles(t *testing.T) {
	p := startPlane(t)
	c := p.client(p.Token)
	b := c.createBox(api.CreateBoxRequest{Image: "busybox"})

	t.Run("binary round trip with mode and mkdir", func(t *testing.T) {
		data := make([]byte, 256*4)
		for i := range data {
			data[i] = byte(i)
		}
		status, body := c.writeFile(b.ID, "/work/deep/bin.dat", bytes.NewReader(data), "&mode=0750&mkdir=true")
		if status != 200 {
			t.Fatalf("write: %d %s", status, body)
		}
		var fi api.FileInfo
		if err := json.Unmarshal(body, &fi); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		if fi.Path != "/work/deep/bin.dat" || fi.Size != int64(len(data)) || fi.SHA256 != hex.EncodeToString(sum[:]) || fi.Mode != "0750" {
			t.Errorf("file info %+v", fi)
		}
		status, got := c.readFile(b.ID, "/work/deep/bin.dat")
		if status != 200 || !bytes.Equal(got, data) {
			t.Errorf("read back %d: %d bytes, equal=%v", status, len(got), bytes.Equal(got, data))
		}
		if out := c.sh(b.ID, "stat -c %a /work/deep/bin.dat"); out != "750\n" {
			t.Errorf("mode in box: %q", out)
		}
	})
	t.Run("without mkdir a missing parent is an error", func(t *testing.T) {
		status, body := c.writeFile(b.ID, "/nope/x", strings.NewReader("x"), "")
		checkProblem(t, "write", status, body, 404)
	})
	t.Run("proc and sys files read in full", func(t *testing.T) {
		status, got := c.readFile(b.ID, "/proc/self/status")
		if status != 200 || !bytes.Contains(got, []byte("Name:")) {
			t.Errorf("/proc/self/status: %d %q", status, got)
		}
		status, got = c.readFile(b.ID, "/proc/cpuinfo")
		if status != 200 || !bytes.Contains(got, []byte("processor")) {
			t.Errorf("/proc/cpuinfo: %d %d bytes", status, len(got))
		}
		status, got = c.readFile(b.ID, "/sys/class/net/lo/operstate")
		if status != 200 || len(got) == 0 {
			t.Errorf("/sys/class/net/lo/operstate: %d %q", status, got)
		}
	})
	t.Run("errors", func(t *testing.T) {
		status, body := c.readFile(b.ID, "/does/not/exist")
		checkProblem(t, "missing", status, body, 404)
		status, body = c.readFile(b.ID, "/etc")
		checkProblem(t, "directory", status, body, 400)
		status, body = c.readFile(b.ID, "relative/path")
		checkProblem(t, "relative", status, body, 400)
		status, body = c.readFile(b.ID, "/etc/../etc/passwd")
		checkProblem(t, "traversal", status, body, 400)
		status, body = c.writeFile(b.ID, "/tmp/x", strings.NewReader("x"), "&mode=999")
		checkProblem(t, "bad mode", status, body, 400)
		status, body = c.writeFile(b.ID, "/tmp", strings.NewReader("x"), "")
		checkProblem(t, "write onto a directory", status, body, 400)
	})
	t.Run("64 MiB each way", func(t *testing.T) {
		const size = 64 << 20
		h := sha256.New()
		src := io.TeeReader(io.LimitReader(rand.New(rand.NewSource(1)), size), h)
		status, body := c.writeFile(b.ID, "/tmp/big.bin", src, "")
		if status != 200 {
			t.Fatalf("write 64 MiB: %d %s", status, body)
		}
		var fi api.FileInfo
		_ = json.Unmarshal(body, &fi)
		want := hex.EncodeToString(h.Sum(nil))
		if fi.Size != size || fi.SHA256 != want {
			t.Errorf("wrote %+v, want sha %s", fi, want)
		}
		resp := c.request("GET", "/v1/hogboxes/"+b.ID+"/files?path=/tmp/big.bin", nil, nil)
		defer resp.Body.Close()
		h2 := sha256.New()
		n, err := io.Copy(h2, resp.Body)
		if err != nil || n != size || hex.EncodeToString(h2.Sum(nil)) != want {
			t.Errorf("read back %d bytes (err %v), sha equal %v", n, err, hex.EncodeToString(h2.Sum(nil)) == want)
		}
	})
}
