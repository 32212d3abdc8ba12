package panion_test

import (
	"os/exec"
	"testing"
	"time"

	"github.com/PostHog/hogland/api"
	"github.com/PostHog/hogland/internal/panion"
)

// BenchmarkExecTrue is an exec of /bin/true over the agent's socket, with
// each way of starting processes (see starter in child.go): "direct" is
// what an agent whose own oom_score_adj is 0 does, "trampoline" and "fork"
// are the two ways an agent protected from the OOM killer starts them at
// 0. Beside them, "host" is os/exec of /bin/true in this process, the
// floor. Compare the ratios, not the times: the trampoline here is the
// test binary, larger than hogpanion.
//
//	go test -run '^$' -bench ExecTrue ./internal/panion/
func BenchmarkExecTrue(b *testing.B) {
	b.Run("host", func(b *testing.B) {
		for b.Loop() {
			if err := exec.Command("/bin/true").Run(); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, m := range []struct {
		mode string
		mod  func(*panion.Config)
	}{
		{"direct", func(c *panion.Config) { c.ChildExe = "" }},
		{"trampoline", nil},
		{"fork", func(c *panion.Config) { c.NoForkReset = false }},
	} {
		b.Run(m.mode, func(b *testing.B) {
			a := startAgent(b, m.mod)
			deadline := time.Now().Add(30 * time.Second)
			for a.srv.OOMReset() != m.mode {
				if time.Now().After(deadline) {
					b.Fatalf("processes start %q, want %q", a.srv.OOMReset(), m.mode)
				}
				time.Sleep(5 * time.Millisecond)
			}
			req := api.ExecRequest{Argv: []string{"/bin/true"}}
			ctx := ctxT(b)
			for b.Loop() {
				res, err := a.c.Exec(ctx, req, 0)
				if err != nil || res.ExitCode != 0 {
					b.Fatalf("exec: %+v, %v", res, err)
				}
			}
		})
	}
}
