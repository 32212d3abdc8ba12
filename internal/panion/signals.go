package panion

import (
	"strconv"
	"strings"
	"syscall"

	"github.com/PostHog/hogland/internal/errs"
)

var signalNames = map[string]syscall.Signal{
	"HUP": syscall.SIGHUP, "INT": syscall.SIGINT, "QUIT": syscall.SIGQUIT,
	"KILL": syscall.SIGKILL, "TERM": syscall.SIGTERM, "USR1": syscall.SIGUSR1,
	"USR2": syscall.SIGUSR2, "STOP": syscall.SIGSTOP, "CONT": syscall.SIGCONT,
	"TSTP": syscall.SIGTSTP, "ALRM": syscall.SIGALRM, "WINCH": syscall.SIGWINCH,
	"PIPE": syscall.SIGPIPE, "ABRT": syscall.SIGABRT,
}

// parseSignal reads "TERM", "SIGTERM", "sigterm" or "15".
func parseSignal(s string) (syscall.Signal, error) {
	name := strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(s)), "SIG")
	if sig, ok := signalNames[name]; ok {
		return sig, nil
	}
	if n, err := strconv.Atoi(name); err == nil && n > 0 && n <= 64 {
		return syscall.Signal(n), nil
	}
	return 0, errs.New(errs.Invalid, "unknown signal %q: use a name such as TERM, KILL, INT, HUP or a number", s)
}
