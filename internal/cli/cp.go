package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/PostHog/hogland/api"
	"github.com/PostHog/hogland/client"
)

func (a *app) cpCommand() *cobra.Command {
	var mkdir bool
	cmd := &cobra.Command{
		Use:   "cp SRC DST",
		Short: "Copy files and directories between this machine and a box",
		Long: `Copy a file or a directory tree into a box or out of it. One side is
BOX:/absolute/path, the other a local path, or - for stdin or stdout (single
files). A destination that is an existing directory, or ends in /, gets the
source's name inside it; otherwise the copy takes the destination's name.
Modes (setuid, setgid and sticky too) come along, 0644 from stdin; copies
out of a box keep mtimes and symlinks (as links). Files are replaced
atomically, through a temporary file and a rename.`,
		Example: `  hog cp ./main.py box-0123456789ab:/root/main.py
  hog cp ./src box-0123456789ab:/root/        # makes /root/src
  hog cp box-0123456789ab:/root/out .         # a file or a whole directory
  tar czf - src | hog cp - box-0123456789ab:/tmp/src.tgz`,
		Args:              exactArgs("SRC", "DST"),
		ValidArgsFunction: a.completeCp,
		RunE: func(cmd *cobra.Command, args []string) error {
			src, dst := parseLocation(args[0]), parseLocation(args[1])
			switch {
			case src.box != "" && dst.box != "":
				return usageError{errors.New("hog cp copies between this machine and a box, not between two boxes")}
			case src.box == "" && dst.box == "":
				return usageError{fmt.Errorf("one side of hog cp must be in a box, such as box-0123456789ab:/root/%s", filepath.Base(args[0]))}
			}
			remote := src
			if dst.box != "" {
				remote = dst
			}
			if !path.IsAbs(remote.path) {
				return usageError{fmt.Errorf("the path in the box must be absolute, such as %s:/root/%s", remote.box, remote.path)}
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			if dst.box != "" {
				return a.upload(cmd.Context(), c, src.path, dst, mkdir)
			}
			return a.download(cmd.Context(), c, src, dst.path)
		},
	}
	cmd.Flags().BoolVarP(&mkdir, "parents", "p", false, "create missing parent directories in the box")
	return cmd
}

// location is one side of a copy: a path in a box, or a local one.
type location struct {
	box, path string
}

// parseLocation reads BOX:PATH, or a local path: one whose part before
// the first colon has a slash (./a:b), or that has no colon.
func parseLocation(s string) location {
	if i := strings.IndexByte(s, ':'); i > 0 && !strings.Contains(s[:i], "/") {
		return location{box: s[:i], path: s[i+1:]}
	}
	return location{path: s}
}

// upload copies a local file (or stdin for "-") into the box.
func (a *app) upload(ctx context.Context, c *client.Client, local string, dst location, mkdir bool) error {
	var (
		r    io.Reader = a.stdin
		mode fs.FileMode
		name = "stdin"
	)
	if local != "-" {
		f, err := os.Open(local)
		if err != nil {
			return fmt.Errorf("hog cp: %w", err)
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return fmt.Errorf("hog cp: %w", err)
		}
		switch {
		case st.IsDir():
			return a.uploadDir(ctx, c, local, dst, mkdir)
		case !st.Mode().IsRegular():
			return fmt.Errorf("hog cp: %s is not a regular file (%s)", local, st.Mode().Type())
		}
		r, mode, name = f, st.Mode()&(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky), filepath.Base(local)
	}
	target := dst.path
	if strings.HasSuffix(target, "/") || isDirInBox(ctx, c, dst.box, target) {
		target = path.Join(target, name)
	}
	_, err := c.WriteFile(ctx, dst.box, target, r, client.WriteFileOptions{Mode: mode, Mkdir: mkdir})
	return err
}

// uploadDir copies a local directory tree into the box as a tar stream.
func (a *app) uploadDir(ctx context.Context, c *client.Client, local string, dst location, mkdir bool) error {
	parent, top := path.Dir(dst.path), path.Base(dst.path)
	if strings.HasSuffix(dst.path, "/") || isDirInBox(ctx, c, dst.box, dst.path) {
		parent, top = path.Clean(dst.path), filepath.Base(filepath.Clean(local))
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeTar(pw, local, top)) }()
	_, err := c.WriteArchive(ctx, dst.box, parent, pr, client.WriteArchiveOptions{Mkdir: mkdir})
	pr.CloseWithError(err) // stops the writer if the upload failed first
	return err
}

// download copies a file or tree out of the box into local (stdout for
// "-", single files only).
func (a *app) download(ctx context.Context, c *client.Client, src location, local string) error {
	if local == "-" {
		rc, err := c.ReadFile(ctx, src.box, src.path)
		if err != nil {
			return err
		}
		defer rc.Close()
		if _, err := io.Copy(a.stdout, rc); err != nil {
			return fmt.Errorf("hog cp: %s:%s: %w", src.box, src.path, err)
		}
		return nil
	}
	dir, top := filepath.Dir(local), filepath.Base(local)
	if fi, err := os.Stat(local); (err == nil && fi.IsDir()) || strings.HasSuffix(local, "/") {
		dir, top = local, path.Base(src.path)
		if top == "/" {
			top = "."
		}
	}
	rc, err := c.ReadArchive(ctx, src.box, src.path)
	if err != nil {
		return err
	}
	defer rc.Close()
	if err := extractTar(rc, dir, top); err != nil {
		return fmt.Errorf("hog cp: %s:%s: %w", src.box, src.path, err)
	}
	return nil
}

// isDirInBox reports whether p is a directory in the box, by running
// stat(1) there, since hogplane's API has no stat; it is false when that
// cannot tell (no such path, or no stat in the image).
func isDirInBox(ctx context.Context, c *client.Client, box, p string) bool {
	res, err := c.Exec(ctx, box, api.ExecRequest{Argv: []string{"stat", "-L", "-c", "%F", p}, TimeoutSeconds: 30})
	return err == nil && res.ExitCode == 0 && strings.TrimSpace(res.Stdout) == "directory"
}

// fileMode turns Unix permission bits into an fs.FileMode.
func fileMode(n uint32) fs.FileMode {
	m := fs.FileMode(n & 0o777)
	if n&0o4000 != 0 {
		m |= fs.ModeSetuid
	}
	if n&0o2000 != 0 {
		m |= fs.ModeSetgid
	}
	if n&0o1000 != 0 {
		m |= fs.ModeSticky
	}
	return m
}

// completeCp completes BOX: prefixes from live boxes, and local files.
func (a *app) completeCp(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) >= 2 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	if strings.HasPrefix(toComplete, "box-") && !strings.Contains(toComplete, ":") {
		return a.boxCompletions(cmd.Context(), nil, ":"), cobra.ShellCompDirectiveNoSpace | cobra.ShellCompDirectiveNoFileComp
	}
	return nil, cobra.ShellCompDirectiveDefault
}
