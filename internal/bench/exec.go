package bench

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/PostHog/hogland/api"
	agentclient "github.com/PostHog/hogland/internal/panion/client"
)

// agentFirstStdout starts argv through the agent directly and times until
// its first stdout event, then reads the stream to its end.
func agentFirstStdout(ctx context.Context, c *agentclient.Client, argv ...string) (time.Duration, error) {
	start := time.Now()
	id, err := c.StartExec(ctx, api.ExecRequest{Argv: argv})
	if err != nil {
		return 0, err
	}
	events, err := c.Events(ctx, id, 0)
	if err != nil {
		return 0, err
	}
	defer events.Close()
	var took time.Duration
	err = agentclient.ReadEvents(events, func(ev api.ExecEvent) error {
		if took == 0 && ev.Kind == api.EventStdout {
			took = time.Since(start)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if took == 0 {
		return 0, errors.New("agent exec stream ended without a stdout event")
	}
	return took, nil
}

func (x *runner) benchExec(ctx context.Context) error {
	p, n := x.plane, x.cfg.Samples
	b, err := p.CreateBox(ctx, x.cfg.Image)
	if err != nil {
		return err
	}
	defer func() { _ = p.DeleteBox(context.WithoutCancel(ctx), b.ID) }()
	agent := p.Agent(b.ID)
	defer agent.Close()
	for range 5 {
		if _, err := p.Exec(ctx, b.ID, "true"); err != nil {
			return err
		}
		if _, err := agent.Exec(ctx, api.ExecRequest{Argv: []string{"true"}}, 1<<20); err != nil {
			return fmt.Errorf("agent exec: %w", err)
		}
	}
	x.progress("exec: %d round trips of `true`, interleaved with host fork/execs of /bin/true", n)
	var host, viaAPI, viaAgent, overhead []time.Duration
	for range n {
		d, err := hostForkExec(ctx)
		if err != nil {
			return err
		}
		host = append(host, d)
		start := time.Now()
		if _, err := p.Exec(ctx, b.ID, "true"); err != nil {
			return err
		}
		api1 := time.Since(start)
		viaAPI = append(viaAPI, api1)
		start = time.Now()
		res, err := agent.Exec(ctx, api.ExecRequest{Argv: []string{"true"}}, 1<<20)
		if err != nil {
			return fmt.Errorf("agent exec: %w", err)
		}
		if res.ExitCode != 0 {
			return fmt.Errorf("agent exec true: exit %d", res.ExitCode)
		}
		ag := time.Since(start)
		viaAgent = append(viaAgent, ag)
		overhead = append(overhead, api1-ag)
	}

	x.progress("exec: %d streaming execs of `echo hi` to the first stdout event, interleaved with host echo", n)
	var hostEcho, stream, agentStream []time.Duration
	for range n {
		d, err := hostEchoFirstByte(ctx)
		if err != nil {
			return err
		}
		hostEcho = append(hostEcho, d)
		if d, err = p.StreamFirstStdout(ctx, b.ID, "echo", "hi"); err != nil {
			return err
		}
		stream = append(stream, d)
		if d, err = agentFirstStdout(ctx, agent, "echo", "hi"); err != nil {
			return fmt.Errorf("agent stream: %w", err)
		}
		agentStream = append(agentStream, d)
	}

	r := x.rep
	hostS := r.series("host_fork_exec_ms", msAll(host))
	apiS := r.series("exec_rtt_ms", msAll(viaAPI))
	agentS := r.series("agent_exec_rtt_ms", msAll(viaAgent))
	overS := r.series("exec_plane_overhead_ms", msAll(overhead))
	echoS := r.series("host_echo_first_byte_ms", msAll(hostEcho))
	streamS := r.series("stream_first_stdout_ms", msAll(stream))
	agentStreamS := r.series("agent_stream_first_stdout_ms", msAll(agentStream))
	const sec = "exec"
	hostName := "host os/exec of /bin/true"
	r.add(
		newFigure(sec, "exec_rtt_p50_ms", "round trip of `true` (POST …/exec), p50", "ms", float64(apiS.P50)).
			vs(hostName+", p50", float64(hostS.P50)).
			atMost("≤ 3× baseline", 3*float64(hostS.P50)),
		newFigure(sec, "exec_rtt_p99_ms", "round trip of `true`, p99", "ms", float64(apiS.P99)).
			vs(hostName+", p99", float64(hostS.P99)),
		newFigure(sec, "stream_ttfb_p50_ms", "streaming exec of `echo hi`: time to first stdout event, p50", "ms", float64(streamS.P50)).
			vs("host os/exec of echo hi to its first stdout byte, p50", float64(echoS.P50)),
		newFigure(sec, "stream_ttfb_p99_ms", "streaming exec: time to first stdout event, p99", "ms", float64(streamS.P99)).
			vs("host echo hi to first byte, p99", float64(echoS.P99)),
	)
	r.addBreak(
		newFigure(sec, "agent_exec_rtt_p50_ms", "exec of `true` straight to the box's agent over its Unix socket (no hogplane), p50", "ms", float64(agentS.P50)).
			vs(hostName+", p50", float64(hostS.P50)),
		newFigure(sec, "exec_plane_overhead_p50_ms", "hogplane's share of an exec (API minus agent-direct, paired), p50", "ms", float64(overS.P50)),
		newFigure(sec, "agent_stream_ttfb_p50_ms", "streaming exec straight to the agent: start + events to first stdout, p50", "ms", float64(agentStreamS.P50)).
			vs("host echo hi to first byte, p50", float64(echoS.P50)),
	)
	return nil
}
