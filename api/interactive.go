package api

// Interactive endpoints: the terminal (GET /v1/hogboxes/{id}/pty), TCP
// tunnels (GET /v1/hogboxes/{id}/ports/{port}/tunnel), both WebSockets,
// and directory copies as tar streams (/v1/hogboxes/{id}/archive).

// Control message types of the PTY and tunnel WebSockets.
const (
	// MessageResize (client to server, PTY): the terminal's new size.
	MessageResize = "resize"
	// MessageExit (server to client, PTY): the process exited; a normal
	// close follows.
	MessageExit = "exit"
	// MessageEOF (both ways, tunnel): the sender will send no more bytes;
	// the other side reads EOF (a TCP half-close).
	MessageEOF = "eof"
)

// PTYMessage is a JSON control message of the PTY WebSocket, sent as a
// text message; terminal bytes travel as binary messages. The client sends
// {"type":"resize","cols":N,"rows":M}; the server ends with
// {"type":"exit","exit_code":N} (-1 when a signal killed the process).
type PTYMessage struct {
	Type     string `json:"type"`
	Cols     int    `json:"cols,omitempty"`
	Rows     int    `json:"rows,omitempty"`
	ExitCode *int   `json:"exit_code,omitempty"`
}

// TunnelMessage is a JSON control message of the tunnel WebSocket, sent
// as a text message; the TCP stream travels as binary messages.
// {"type":"eof"} half-closes the stream in the sender's direction.
type TunnelMessage struct {
	Type string `json:"type"`
}

// ArchiveInfo answers an archive upload: what was extracted, and where.
type ArchiveInfo struct {
	Path     string `json:"path"`
	Files    int64  `json:"files"`
	Dirs     int64  `json:"dirs"`
	Symlinks int64  `json:"symlinks"`
	Bytes    int64  `json:"bytes"`
}
