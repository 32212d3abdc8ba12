package image

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// debianPackages are added to minbase: a full python3 answering to both
// python3 and python (what agents and the SDK quickstart call), TLS roots,
// and ps.
const debianPackages = "python3,python-is-python3,ca-certificates,procps"

// debianBuilder makes a Debian minbase image with debianPackages by
// debootstrap (Debian package debootstrap), then
// drops apt's caches and the host files debootstrap copies in.
type debianBuilder struct {
	debootstrap string
	suite       string
	mirror      string
	log         *slog.Logger
}

func (b debianBuilder) build(ctx context.Context, dir string) error {
	prog, err := findDebootstrap(b.debootstrap)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, prog, "--variant=minbase",
		"--include="+debianPackages, b.suite, dir, b.mirror)
	cmd.Env = []string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"LC_ALL=C", "DEBIAN_FRONTEND=noninteractive", "HOME=/root",
	}
	out := &tailBuffer{max: 16 << 10}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{
		// A private mount namespace: the /proc and /sys that debootstrap
		// mounts in the target vanish with it, even if it is killed.
		Unshareflags: syscall.CLONE_NEWNS,
		Setpgid:      true,
	}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	b.log.Info("debootstrap", "suite", b.suite, "mirror", b.mirror, "dir", dir)
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("debootstrap: %w", ctx.Err())
		}
		return fmt.Errorf("debootstrap: %w: %s", err, out.String())
	}
	return tidyDebian(dir)
}

// tidyDebian removes apt's downloaded packages and lists, and the host's
// resolv.conf and hostname that debootstrap copied in.
func tidyDebian(dir string) error {
	globs := []string{
		"var/cache/apt/archives/*.deb",
		"var/cache/apt/archives/partial/*",
		"var/cache/apt/*.bin",
		"var/lib/apt/lists/*_*",
		"var/log/apt/*",
		"var/log/dpkg.log",
		"var/log/bootstrap.log",
		"etc/resolv.conf",
		"etc/hostname",
	}
	for _, g := range globs {
		matches, err := filepath.Glob(filepath.Join(dir, g))
		if err != nil {
			return err
		}
		for _, m := range matches {
			if err := os.RemoveAll(m); err != nil {
				return fmt.Errorf("tidy: %w", err)
			}
		}
	}
	return writeFiles(dir, map[string]string{
		"etc/hosts": "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n",
	})
}

func findDebootstrap(configured string) (string, error) {
	if configured != "" {
		return configured, nil
	}
	if p, err := exec.LookPath("debootstrap"); err == nil {
		return p, nil
	}
	for _, p := range []string{"/usr/sbin/debootstrap", "/sbin/debootstrap"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", errors.New("debootstrap not found (install debootstrap)")
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = t.buf[over:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return string(t.buf) }
