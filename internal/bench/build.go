package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

const (
	modulePath   = "github.com/PostHog/hogland"
	boxServerPkg = modulePath + "/internal/e2e/testdata/boxserver"
	forwarderPkg = modulePath + "/internal/bench/forwarder"
)

// goBuild builds pkg, statically (CGO_ENABLED=0), to out. It runs in the
// current directory, which must be inside the module.
func goBuild(ctx context.Context, pkg, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
	}
	return nil
}

// Binaries are the programs the bench runs.
type Binaries struct {
	Hogplane, Hogpanion, BoxServer, Forwarder string
}

// findOrBuild returns hogplane and hogpanion from binDir when both are
// there, else builds them into tmp; with boxServer it also builds the test
// HTTP server (boxserver) and the proxy figures' reference forwarder into
// tmp.
func findOrBuild(ctx context.Context, binDir, tmp string, boxServer bool) (Binaries, error) {
	var b Binaries
	if binDir != "" {
		plane, agent := filepath.Join(binDir, "hogplane"), filepath.Join(binDir, "hogpanion")
		if isFile(plane) && isFile(agent) {
			var err error
			if b.Hogplane, err = filepath.Abs(plane); err != nil {
				return b, err
			}
			if b.Hogpanion, err = filepath.Abs(agent); err != nil {
				return b, err
			}
		}
	}
	if b.Hogplane == "" {
		b.Hogplane, b.Hogpanion = filepath.Join(tmp, "hogplane"), filepath.Join(tmp, "hogpanion")
		if err := goBuild(ctx, modulePath+"/cmd/hogplane", b.Hogplane); err != nil {
			return b, err
		}
		if err := goBuild(ctx, modulePath+"/cmd/hogpanion", b.Hogpanion); err != nil {
			return b, err
		}
	}
	if !boxServer {
		return b, nil
	}
	b.BoxServer, b.Forwarder = filepath.Join(tmp, "boxserver"), filepath.Join(tmp, "forwarder")
	if err := goBuild(ctx, boxServerPkg, b.BoxServer); err != nil {
		return b, err
	}
	return b, goBuild(ctx, forwarderPkg, b.Forwarder)
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}
