package panion

import (
	"os"
	"strconv"
	"strings"
)

// oomScoreAdjPath is the agent's own OOM score adjustment.
const oomScoreAdjPath = "/proc/self/oom_score_adj"

// protectFromOOM asks the kernel never to pick the agent when memory runs
// out (needs CAP_SYS_RESOURCE; without it nothing changes), and reports
// whether the agent's oom_score_adj is now negative, either way: then its
// children must be reset to 0 (Config.ChildExe), or they would inherit
// the protection.
func protectFromOOM() bool {
	_ = os.WriteFile(oomScoreAdjPath, []byte("-1000\n"), 0)
	return oomScoreAdj() < 0
}

// oomScoreAdj reads the agent's oom_score_adj (0 when unreadable).
func oomScoreAdj() int {
	b, err := os.ReadFile(oomScoreAdjPath)
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return n
}
