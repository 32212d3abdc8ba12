package server

import (
	"net/http"
	"strings"

	"github.com/coder/websocket"

	"github.com/PostHog/hogland/internal/errs"
)

// wsReadLimit caps one message from a WebSocket client: a paste into a
// terminal, a chunk of a tunnelled stream.
const wsReadLimit = 1 << 20

// wsChunk is the most bytes read from a box for one WebSocket message.
const wsChunk = 32 << 10

// needWebSocket fails unless r asks for a WebSocket, so that a plain
// request gets a problem before any work is done.
func needWebSocket(r *http.Request) error {
	if !headerHasToken(r.Header, "Connection", "upgrade") || !headerHasToken(r.Header, "Upgrade", "websocket") {
		return errs.New(errs.Invalid, "%s is a WebSocket endpoint: connect with a WebSocket client (Connection: Upgrade, Upgrade: websocket)", r.URL.Path)
	}
	return nil
}

// acceptWebSocket completes the upgrade. Cross-origin requests from
// browsers are refused (403), as the credential may be ambient. On error
// the answer is written already.
func acceptWebSocket(w http.ResponseWriter, r *http.Request) (*websocket.Conn, error) {
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		return nil, err
	}
	ws.SetReadLimit(wsReadLimit)
	return ws, nil
}

// headerHasToken reports whether the comma-separated header name holds
// token, ignoring case.
func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for part := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(part), token) {
				return true
			}
		}
	}
	return false
}
