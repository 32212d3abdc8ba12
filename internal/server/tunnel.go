package server

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"

	"github.com/coder/websocket"

	"github.com/PostHog/hogland/api"
)

// tunnel serves GET /v1/hogboxes/{id}/ports/{port}/tunnel: a raw TCP
// stream to 127.0.0.1:{port} in the box, over a WebSocket whose binary
// messages carry the bytes. The port is dialled before the upgrade, so a
// closed one is a 502 problem. Text messages are api.TunnelMessage: eof
// half-closes the stream in the sender's direction; once both directions
// ended the server closes normally. While the socket is open the box
// counts as busy.
func (s *Server) tunnel(w http.ResponseWriter, r *http.Request) error {
	if err := needWebSocket(r); err != nil {
		return err
	}
	port, err := portParam(r)
	if err != nil {
		return err
	}
	conn, release, err := s.cfg.Boxes.Tunnel(r.Context(), identity(r).Principal.ID, r.PathValue("id"), port)
	if err != nil {
		return err
	}
	defer release()
	defer conn.Close()
	ws, err := acceptWebSocket(w, r)
	if err != nil {
		s.logger(r).Warn("tunnel: websocket upgrade failed", "err", err)
		return nil
	}
	b := &tunnelBridge{ws: ws, conn: conn}
	b.run(r.Context())
	return nil
}

// tunnelBridge carries one TCP stream over one WebSocket.
type tunnelBridge struct {
	ws   *websocket.Conn
	conn net.Conn

	mu        sync.Mutex
	boxEOF    bool // the box side ended its stream and the client was told
	clientEOF bool // the client ended its stream and the box side was told
}

func (b *tunnelBridge) run(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	fromBox := make(chan struct{})
	go func() {
		defer close(fromBox)
		b.boxToClient(ctx)
	}()
	b.clientToBox(ctx)
	b.conn.Close()
	<-fromBox
}

// clientToBox writes the client's binary messages to the box side until
// the socket ends.
func (b *tunnelBridge) clientToBox(ctx context.Context) {
	for {
		typ, msg, err := b.ws.Read(ctx)
		if err != nil {
			return
		}
		if typ == websocket.MessageBinary {
			if _, err := b.conn.Write(msg); err != nil {
				b.ws.Close(websocket.StatusInternalError, "the connection to the port in the box broke")
				return
			}
			continue
		}
		var m api.TunnelMessage
		if err := json.Unmarshal(msg, &m); err != nil {
			b.ws.Close(websocket.StatusInvalidFramePayloadData, "a text message must be a JSON control message such as {\"type\":\"eof\"}")
			return
		}
		if m.Type == api.MessageEOF {
			if cw, ok := b.conn.(interface{ CloseWrite() error }); ok {
				_ = cw.CloseWrite()
			}
			b.ended(func() { b.clientEOF = true })
		}
	}
}

// boxToClient sends the box side's bytes as binary messages; at its EOF
// it tells the client with an eof message.
func (b *tunnelBridge) boxToClient(ctx context.Context) {
	buf := make([]byte, wsChunk)
	for {
		n, err := b.conn.Read(buf)
		if n > 0 {
			if werr := b.ws.Write(ctx, websocket.MessageBinary, buf[:n]); werr != nil {
				return
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			b.ws.Close(websocket.StatusInternalError, "the connection to the port in the box broke")
			return
		}
	}
	msg, _ := json.Marshal(api.TunnelMessage{Type: api.MessageEOF})
	if err := b.ws.Write(ctx, websocket.MessageText, msg); err != nil {
		return
	}
	b.ended(func() { b.boxEOF = true })
}

// ended records the end of one direction; once both ended, the socket is
// closed normally.
func (b *tunnelBridge) ended(mark func()) {
	b.mu.Lock()
	mark()
	both := b.boxEOF && b.clientEOF
	b.mu.Unlock()
	if both {
		b.ws.Close(websocket.StatusNormalClosure, "")
	}
}
