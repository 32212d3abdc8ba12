package plane

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/PostHog/hogland/internal/server"
	"github.com/PostHog/hogland/internal/syncbuf"
)

func TestLogSinkBatchesAccessLines(t *testing.T) {
	var out syncbuf.Buffer
	sink := newLogSink(&out)
	log := slog.New(sinkHandler{Handler: slog.NewTextHandler(sink, nil), sink: sink}).With("k", "v")
	log.Info(server.AccessLogMessage, "path", "/a")
	log.Info(server.AccessLogMessage, "path", "/b")
	if got := out.String(); got != "" {
		t.Fatalf("access lines written at once: %q", got)
	}
	// Any other record goes out at once, after the lines before it.
	log.Warn("something", "n", 1)
	got := out.String()
	if a, b, w := strings.Index(got, "path=/a"), strings.Index(got, "path=/b"), strings.Index(got, "msg=something"); a < 0 || b < a || w < b || !strings.Contains(got, "k=v") {
		t.Fatalf("after a warning: %q", got)
	}
	log.Info("box created", "box", "x")
	if !strings.Contains(out.String(), "msg=\"box created\"") {
		t.Fatalf("info line not written at once: %q", out.String())
	}
	// An access line alone waits for the timer.
	log.Info(server.AccessLogMessage, "path", "/c")
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(out.String(), "path=/c") {
		if time.Now().After(deadline) {
			t.Fatalf("access line never flushed: %q", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
