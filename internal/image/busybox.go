package image

import (
	"context"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
)

// busyboxBuilder makes a tiny image from the host's static busybox
// (Debian package busybox-static): the binary in /bin, a symlink per
// applet at its usual place, root's passwd and group entries, /root and
// a sticky /tmp.
type busyboxBuilder struct {
	path string
}

func (b busyboxBuilder) build(ctx context.Context, dir string) error {
	if err := checkStatic(b.path); err != nil {
		return err
	}
	for _, d := range []string{"bin", "sbin", "usr/bin", "usr/sbin", "etc", "proc", "sys", "dev", "var/tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "root"), 0o700); err != nil {
		return err
	}
	if err := mkdirSticky(filepath.Join(dir, "tmp")); err != nil {
		return err
	}
	if err := copyFile(b.path, filepath.Join(dir, "bin/busybox"), 0o755); err != nil {
		return fmt.Errorf("copy busybox: %w", err)
	}
	if err := b.linkApplets(ctx, dir); err != nil {
		return err
	}
	return writeFiles(dir, map[string]string{
		"etc/passwd": "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
		"etc/group":  "root:x:0:\nnogroup:x:65534:\n",
		"etc/hosts":  "127.0.0.1\tlocalhost\n::1\tlocalhost\n",
	})
}

// linkApplets makes a symlink to /bin/busybox for every applet, at the
// place `busybox --list-full` names for it.
func (b busyboxBuilder) linkApplets(ctx context.Context, dir string) error {
	out, err := exec.CommandContext(ctx, b.path, "--list-full").Output()
	if err != nil {
		return fmt.Errorf("list busybox applets: %w", err)
	}
	for _, rel := range strings.Fields(string(out)) {
		rel = path.Clean("/" + rel)[1:]
		if path.Base(rel) == "busybox" || rel == "" {
			continue
		}
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.Symlink("/bin/busybox", p); err != nil && !os.IsExist(err) {
			return fmt.Errorf("link applet %s: %w", rel, err)
		}
	}
	return nil
}

// checkStatic fails unless p is a statically linked ELF binary: a box has
// no host libraries to load a dynamic one with.
func checkStatic(p string) error {
	f, err := elf.Open(p)
	if err != nil {
		return fmt.Errorf("busybox %s: %w (install busybox-static)", p, err)
	}
	defer f.Close()
	for _, prog := range f.Progs {
		if prog.Type == elf.PT_INTERP {
			return fmt.Errorf("busybox %s is dynamically linked (install busybox-static)", p)
		}
	}
	return nil
}

func mkdirSticky(p string) error {
	if err := os.Mkdir(p, 0o755); err != nil {
		return err
	}
	// Chmod, not Mkdir's mode: the umask would clear bits.
	return os.Chmod(p, os.ModeSticky|0o777)
}

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Chmod(mode); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
