package server

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/coder/websocket"

	"github.com/PostHog/hogland/api"
	"github.com/PostHog/hogland/internal/box"
	"github.com/PostHog/hogland/internal/errs"
	"github.com/PostHog/hogland/internal/panion/client"
)

// pty serves GET /v1/hogboxes/{id}/pty: a process on a terminal in the
// box, over a WebSocket. Binary messages are terminal bytes both ways;
// text messages are api.PTYMessage: resize from the client, exit from the
// server, followed by a normal close. The process starts before the
// upgrade, so start problems are problem details. While the socket is
// open the box counts as busy; when the client goes away the terminal's
// session is killed.
func (s *Server) pty(w http.ResponseWriter, r *http.Request) error {
	if err := needWebSocket(r); err != nil {
		return err
	}
	req, err := ptyRequest(r.URL.Query())
	if err != nil {
		return err
	}
	t, release, err := s.cfg.Boxes.OpenPTY(r.Context(), identity(r).Principal.ID, r.PathValue("id"), req)
	if err != nil {
		return err
	}
	defer release()
	defer t.Close()
	ws, err := acceptWebSocket(w, r)
	if err != nil {
		s.logger(r).Warn("pty: websocket upgrade failed", "err", err)
		return nil
	}
	bridgePTY(r.Context(), ws, t, s.logger(r))
	return nil
}

// ptyRequest reads ?argv= (repeated), ?env=K=V (repeated), ?workdir=,
// ?cols= and ?rows=.
func ptyRequest(q url.Values) (box.PTYRequest, error) {
	req := box.PTYRequest{Argv: q["argv"], Workdir: q.Get("workdir")}
	for _, kv := range q["env"] {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return req, errs.New(errs.Invalid, "env must be NAME=VALUE, got %q", kv)
		}
		if req.Env == nil {
			req.Env = map[string]string{}
		}
		req.Env[k] = v
	}
	for _, p := range []struct {
		name string
		dst  *int
	}{{"cols", &req.Cols}, {"rows", &req.Rows}} {
		v := q.Get(p.name)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return req, errs.New(errs.Invalid, "%s must be a positive number, got %q", p.name, v)
		}
		*p.dst = n
	}
	return req, nil
}

// bridgePTY carries a terminal over ws until the process exits or either
// side goes away.
func bridgePTY(ctx context.Context, ws *websocket.Conn, t *client.PTY, log *slog.Logger) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	keys := make(chan struct{})
	go func() {
		defer close(keys)
		// The client went away or broke the protocol: hang up.
		defer t.Close()
		for {
			typ, msg, err := ws.Read(ctx)
			if err != nil {
				return
			}
			if typ == websocket.MessageBinary {
				if _, err := t.Write(msg); err != nil {
					return
				}
				continue
			}
			var m api.PTYMessage
			if err := json.Unmarshal(msg, &m); err != nil {
				ws.Close(websocket.StatusInvalidFramePayloadData, "a text message must be a JSON control message such as {\"type\":\"resize\",\"cols\":80,\"rows\":24}")
				return
			}
			if m.Type == api.MessageResize {
				if err := t.Resize(m.Cols, m.Rows); err != nil {
					return
				}
			}
		}
	}()
	screenToClient(ctx, ws, t, log)
	<-keys
}

// screenToClient sends what the terminal prints, then the exit message
// and a normal close.
func screenToClient(ctx context.Context, ws *websocket.Conn, t *client.PTY, log *slog.Logger) {
	buf := make([]byte, wsChunk)
	for {
		n, err := t.Read(buf)
		if n > 0 {
			if werr := ws.Write(ctx, websocket.MessageBinary, buf[:n]); werr != nil {
				ws.CloseNow()
				return
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			log.Debug("pty: terminal broke", "err", err)
			ws.Close(websocket.StatusInternalError, "the box agent hung up the terminal")
			return
		}
	}
	code, _ := t.ExitCode()
	msg, _ := json.Marshal(api.PTYMessage{Type: api.MessageExit, ExitCode: &code})
	if err := ws.Write(ctx, websocket.MessageText, msg); err != nil {
		ws.CloseNow()
		return
	}
	ws.Close(websocket.StatusNormalClosure, "")
}
