package box

import (
	"context"
	"io"

	"github.com/PostHog/hogland/api"
	"github.com/PostHog/hogland/internal/panion/client"
)

// ReadArchive opens a tar stream of path (a file, symlink or directory
// tree) in the box. The caller closes it; a read error means the archive
// is not whole.
func (m *Manager) ReadArchive(ctx context.Context, owner, id, path string) (io.ReadCloser, error) {
	if err := ValidatePath(path); err != nil {
		return nil, err
	}
	return m.openStream(ctx, owner, id, func(a *client.Client) (io.ReadCloser, error) { return a.ReadArchive(ctx, path) })
}

// WriteArchive extracts the tar stream body into the directory dir in the
// box, streaming; mkdir creates dir and its missing parents.
func (m *Manager) WriteArchive(ctx context.Context, owner, id, dir string, mkdir bool, body io.Reader) (api.ArchiveInfo, error) {
	if err := ValidatePath(dir); err != nil {
		return api.ArchiveInfo{}, err
	}
	h, err := m.ready(ctx, owner, id)
	if err != nil {
		return api.ArchiveInfo{}, err
	}
	defer m.release(h)
	info, err := h.agent.WriteArchive(ctx, dir, mkdir, body)
	if err != nil {
		return api.ArchiveInfo{}, m.agentErr(ctx, h, err)
	}
	return info, nil
}
