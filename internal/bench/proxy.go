package bench

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// httpTarget is an HTTP server reached with one keep-alive client: the
// boxserver directly on the host, or the one in a box through the proxy.
type httpTarget struct {
	client *http.Client
	base   string
	header http.Header
}

// get GETs base+path, reads the whole body and checks the status.
func (t httpTarget) get(ctx context.Context, path string) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", t.base+path, nil)
	if err != nil {
		return 0, err
	}
	for k, v := range t.header {
		req.Header[k] = v
	}
	resp, err := t.client.Do(req)
	if err != nil {
		return 0, err
	}
	n, err := discard(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return n, fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return n, err
}

// timedGet times one get.
func (t httpTarget) timedGet(ctx context.Context, path string) (time.Duration, int64, error) {
	start := time.Now()
	n, err := t.get(ctx, path)
	return time.Since(start), n, err
}

// throughput runs workers clients GETting path back to back for d and
// returns the requests completed and the time taken.
func (t httpTarget) throughput(ctx context.Context, path string, workers int, d time.Duration) (int64, time.Duration, error) {
	var done atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, workers)
	deadline := time.Now().Add(d)
	start := time.Now()
	for w := range workers {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				if _, err := t.get(ctx, path); err != nil {
					errs[w] = err
					return
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	for _, err := range errs {
		if err != nil {
			return 0, 0, err
		}
	}
	return done.Load(), elapsed, nil
}

// load is the outcome of throughput runs against one target, with the
// CPU hogplane and the box used meanwhile.
type load struct {
	requests         int64
	elapsed          time.Duration
	planeCPU, boxCPU time.Duration
}

func (l load) rate() float64 { return float64(l.requests) / l.elapsed.Seconds() }

// perRequest is CPU time per request in microseconds.
func (l load) perRequest(cpu time.Duration) float64 {
	return float64(cpu) / float64(time.Microsecond) / float64(l.requests)
}

// run adds a throughput run of t to l.
func (l *load) run(ctx context.Context, t httpTarget, path string, workers int, d time.Duration, planePid int, boxCgroup string) error {
	p0, err := processCPU(planePid)
	if err != nil {
		return err
	}
	b0, err := cgroupCPU(boxCgroup)
	if err != nil {
		return err
	}
	n, took, err := t.throughput(ctx, path, workers, d)
	if err != nil {
		return err
	}
	p1, err := processCPU(planePid)
	if err != nil {
		return err
	}
	b1, err := cgroupCPU(boxCgroup)
	if err != nil {
		return err
	}
	l.requests += n
	l.elapsed += took
	l.planeCPU += p1 - p0
	l.boxCPU += b1 - b0
	return nil
}

// serveInBox uploads the boxserver into a box, starts it on port 8080 and
// waits until the proxy reaches it; it returns the proxy's base URL.
func (x *runner) serveInBox(ctx context.Context, id string) (string, error) {
	p := x.plane
	bin, err := os.ReadFile(x.bins.BoxServer)
	if err != nil {
		return "", err
	}
	if err := p.WriteFile(ctx, id, "/srv/boxserver", bin, "&mode=0755&mkdir=true"); err != nil {
		return "", err
	}
	if _, err := p.Exec(ctx, id, "sh", "-c", "/srv/boxserver -addr 127.0.0.1:8080 >/tmp/boxserver.log 2>&1 &"); err != nil {
		return "", err
	}
	base := p.URL + "/v1/hogboxes/" + id + "/proxy/8080"
	t := httpTarget{client: newHTTPClient(1), base: base, header: http.Header{"Authorization": {"Bearer " + p.Token}}}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := t.get(ctx, "/echo/")
		if err == nil {
			return base, nil
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("server in box never answered through the proxy: %w", err)
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (x *runner) benchProxy(ctx context.Context) error {
	p, n, workers := x.plane, x.cfg.Samples, x.cfg.Workers
	b, err := p.CreateBox(ctx, x.cfg.Image)
	if err != nil {
		return err
	}
	defer func() { _ = p.DeleteBox(context.WithoutCancel(ctx), b.ID) }()
	base, err := x.serveInBox(ctx, b.ID)
	if err != nil {
		return err
	}
	host, err := StartHostServer(ctx, x.bins.BoxServer)
	if err != nil {
		return err
	}
	defer host.Stop()
	direct := httpTarget{client: newHTTPClient(workers), base: host.URL}
	proxied := httpTarget{client: newHTTPClient(workers), base: base, header: http.Header{"Authorization": {"Bearer " + p.Token}}}
	// The agent's relay alone, as hogplane's proxy uses it, without
	// hogplane: the split between the plane and the box. Over the Unix
	// socket the agent hands over its connection to the port (tcp-fd), so
	// these requests go straight to the server in the box.
	agent := p.Agent(b.ID)
	defer agent.Close()
	relay := httpTarget{base: "http://127.0.0.1:8080", client: &http.Client{Transport: &http.Transport{
		DialContext:         func(ctx context.Context, _, _ string) (net.Conn, error) { return agent.Relay(ctx, 8080) },
		MaxIdleConns:        2 * workers,
		MaxIdleConnsPerHost: workers,
		DisableCompression:  true,
	}}}
	// The least a proxy process can do: join each client connection, byte
	// for byte, to a connection the agent hands over, with no HTTP, auth
	// or logging. The ceiling of any proxy on this machine.
	fw, err := StartForwarder(ctx, x.bins.Forwarder, p.AgentSocket(b.ID), 8080)
	if err != nil {
		return err
	}
	defer fw.Stop()
	forwarded := httpTarget{client: newHTTPClient(workers), base: fw.URL}
	// An authenticated API call that touches no box: hogplane's floor per
	// request (auth, routing, logging, JSON).
	me := httpTarget{client: newHTTPClient(workers), base: p.URL, header: proxied.header}
	for range 20 {
		for _, t := range []httpTarget{direct, proxied, relay, forwarded} {
			if _, err := t.get(ctx, "/echo/"); err != nil {
				return err
			}
		}
		if _, err := me.get(ctx, "/v1/me"); err != nil {
			return err
		}
	}

	x.progress("proxy: %d GET /echo/ through the proxy, interleaved with direct requests to the same server on the host", n)
	var dLat, pLat, rLat, fLat, meLat []time.Duration
	for range n {
		d, _, err := me.timedGet(ctx, "/v1/me")
		if err != nil {
			return err
		}
		meLat = append(meLat, d)
		if d, _, err = relay.timedGet(ctx, "/echo/"); err != nil {
			return fmt.Errorf("agent relay: %w", err)
		}
		rLat = append(rLat, d)
		if d, _, err = forwarded.timedGet(ctx, "/echo/"); err != nil {
			return fmt.Errorf("forwarder: %w", err)
		}
		fLat = append(fLat, d)
		if d, _, err = direct.timedGet(ctx, "/echo/"); err != nil {
			return err
		}
		dLat = append(dLat, d)
		if d, _, err = proxied.timedGet(ctx, "/echo/"); err != nil {
			return err
		}
		pLat = append(pLat, d)
	}

	dur := time.Duration(x.cfg.ThroughputSeconds * float64(time.Second))
	x.progress("proxy: throughput with %d keep-alive clients, %s per side in two alternating rounds", workers, dur)
	var dLoad, pLoad, rLoad, fLoad, meLoad load
	cg := CgroupPath(b.ID)
	for range 2 {
		for _, c := range []struct {
			l    *load
			t    httpTarget
			path string
		}{{&meLoad, me, "/v1/me"}, {&rLoad, relay, "/echo/"}, {&fLoad, forwarded, "/echo/"}, {&dLoad, direct, "/echo/"}, {&pLoad, proxied, "/echo/"}} {
			if err := c.l.run(ctx, c.t, c.path, workers, dur/2, p.Pid(), cg); err != nil {
				return fmt.Errorf("throughput of %s%s: %w", c.t.base, c.path, err)
			}
		}
	}
	dRate, pRate, rRate, fRate, meRate := dLoad.rate(), pLoad.rate(), rLoad.rate(), fLoad.rate(), meLoad.rate()

	const bulk = 64 << 20
	x.progress("proxy: 3 bulk GETs of 64 MiB each way")
	var dBulk, pBulk []time.Duration
	for range 3 {
		path := fmt.Sprintf("/big?n=%d", bulk)
		d, got, err := direct.timedGet(ctx, path)
		if err == nil && got != bulk {
			err = fmt.Errorf("direct /big: %d bytes", got)
		}
		if err != nil {
			return err
		}
		dBulk = append(dBulk, d)
		d, got, err = proxied.timedGet(ctx, path)
		if err == nil && got != bulk {
			err = fmt.Errorf("proxied /big: %d bytes", got)
		}
		if err != nil {
			return err
		}
		pBulk = append(pBulk, d)
	}

	r := x.rep
	dS := r.series("direct_request_ms", msAll(dLat))
	pS := r.series("proxy_request_ms", msAll(pLat))
	dB := r.series("direct_bulk_64mib_mibps", mibpsAll(bulk, dBulk))
	pB := r.series("proxy_bulk_64mib_mibps", mibpsAll(bulk, pBulk))
	rS := r.series("relay_request_ms", msAll(rLat))
	fS := r.series("forwarder_request_ms", msAll(fLat))
	meS := r.series("api_me_request_ms", msAll(meLat))
	r.series("api_me_throughput_rps", []float64{meRate})
	r.series("relay_throughput_rps", []float64{rRate})
	r.series("forwarder_throughput_rps", []float64{fRate})
	r.series("direct_throughput_rps", []float64{dRate})
	r.series("proxy_throughput_rps", []float64{pRate})
	const sec = "proxy"
	directName := "same server on the host, direct loopback request"
	r.add(
		newFigure(sec, "proxy_request_p50_ms", "GET /echo/ through …/proxy/8080/, p50", "ms", float64(pS.P50)).
			vs(directName+", p50", float64(dS.P50)).
			atMost("≤ baseline + 2 ms", float64(dS.P50)+2),
		newFigure(sec, "proxy_request_p99_ms", "GET /echo/ through the proxy, p99", "ms", float64(pS.P99)).
			vs(directName+", p99", float64(dS.P99)),
		newFigure(sec, "proxy_throughput_rps", fmt.Sprintf("throughput, %d keep-alive clients", workers), "req/s", pRate).
			vs(fmt.Sprintf("direct, %d keep-alive clients", workers), dRate).
			atLeast("≥ 50% of baseline", 0.5*dRate),
		newFigure(sec, "proxy_bulk_64mib_p50_mibps", "64 MiB response body through the proxy, p50", "MiB/s", float64(pB.P50)).
			vs("direct, p50", float64(dB.P50)),
	)
	r.addBreak(
		newFigure(sec, "relay_request_p50_ms", "GET /echo/ over a connection from the agent's relay (handed over; no hogplane), p50", "ms", float64(rS.P50)).
			vs(directName+", p50", float64(dS.P50)),
		newFigure(sec, "relay_throughput_rps", fmt.Sprintf("throughput over the agent's relay connections alone, %d clients", workers), "req/s", rRate).
			vs(fmt.Sprintf("direct, %d keep-alive clients", workers), dRate),
		newFigure(sec, "forwarder_request_p50_ms", "GET /echo/ through a bare TCP forwarder in a process of its own (no HTTP parsing, no auth, no logging; connections handed over by the agent), p50", "ms", float64(fS.P50)).
			vs(directName+", p50", float64(dS.P50)),
		newFigure(sec, "forwarder_throughput_rps", fmt.Sprintf("throughput through the bare forwarder, %d clients: the most any proxy process reaches here", workers), "req/s", fRate).
			vs(fmt.Sprintf("direct, %d keep-alive clients", workers), dRate),
		newFigure(sec, "proxy_vs_forwarder_throughput_rps", "hogplane's proxy throughput against the bare forwarder's", "req/s", pRate).
			vs("bare forwarder", fRate),
		newFigure(sec, "api_me_request_p50_ms", "GET /v1/me (auth only, no box): hogplane's floor per request, p50", "ms", float64(meS.P50)).
			vs(directName+", p50", float64(dS.P50)),
		newFigure(sec, "api_me_throughput_rps", fmt.Sprintf("GET /v1/me throughput, %d clients", workers), "req/s", meRate).
			vs(fmt.Sprintf("direct, %d keep-alive clients", workers), dRate),
	)
	r.addBreak(
		newFigure(sec, "proxy_plane_cpu_us", "hogplane CPU per proxied request (at full load)", "µs", pLoad.perRequest(pLoad.planeCPU)).
			vs("hogplane CPU per GET /v1/me", meLoad.perRequest(meLoad.planeCPU)),
		newFigure(sec, "proxy_box_cpu_us", "box CPU per proxied request (the server: the agent hands connections over)", "µs", pLoad.perRequest(pLoad.boxCPU)).
			vs("box CPU per request over the relay's connections alone", rLoad.perRequest(rLoad.boxCPU)),
	)
	return nil
}
