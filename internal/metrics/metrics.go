// Package metrics holds hogplane's Prometheus metrics, on a registry of
// its own so tests can make as many planes as they like.
package metrics

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are hogplane's instruments. A nil *Metrics records nothing.
type Metrics struct {
	Registry        *prometheus.Registry
	CreateSeconds   *prometheus.HistogramVec // result: ok, error
	ExecSeconds     *prometheus.HistogramVec // mode: batch, stream
	ProxySeconds    prometheus.Histogram
	Requests        *prometheus.CounterVec // route, code
	Errors          *prometheus.CounterVec // type
	RuntimeFailures *prometheus.CounterVec // op
	// SnapshotSeconds is the whole snapshot call (result: ok, error);
	// SnapshotPauseSeconds how long each froze its box.
	SnapshotSeconds      *prometheus.HistogramVec
	SnapshotPauseSeconds prometheus.Histogram
	// CorruptLayers counts snapshot layers refused for a bad digest.
	CorruptLayers prometheus.Counter
	// WarmBoxes are the warm boxes ready (image, disk_gib); WarmClaims counts
	// creates that took one (result: hit) or found none ready (miss).
	WarmBoxes  *prometheus.GaugeVec
	WarmClaims *prometheus.CounterVec
}

// StatusCounter counts boxes by status for the boxes gauge.
type StatusCounter func(ctx context.Context) (map[string]int64, error)

var latencyBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// New makes the metrics and registers them, with a boxes-by-status gauge
// read from count at scrape time.
func New(count StatusCounter) *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		CreateSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "hogland_box_create_seconds", Help: "Time from create request to a running box whose agent answers.", Buckets: latencyBuckets,
		}, []string{"result"}),
		ExecSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "hogland_exec_seconds", Help: "Batch exec round trip, or streaming exec time to start.", Buckets: latencyBuckets,
		}, []string{"mode"}),
		ProxySeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "hogland_proxy_request_seconds", Help: "Proxied request time to response headers.", Buckets: latencyBuckets,
		}),
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hogland_http_requests_total", Help: "API requests by route and status code.",
		}, []string{"route", "code"}),
		Errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hogland_http_errors_total", Help: "API errors by problem type.",
		}, []string{"type"}),
		RuntimeFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hogland_runtime_failures_total", Help: "Runtime driver operations that failed.",
		}, []string{"op"}),
		SnapshotSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "hogland_snapshot_seconds", Help: "Time to take a snapshot, until its record is durable.", Buckets: latencyBuckets,
		}, []string{"result"}),
		SnapshotPauseSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "hogland_snapshot_pause_seconds", Help: "How long a snapshot froze its box.", Buckets: latencyBuckets,
		}),
		CorruptLayers: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hogland_snapshot_layers_corrupt_total", Help: "Snapshot layers refused because their content did not match their digest.",
		}),
		WarmBoxes: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "hogland_warm_boxes", Help: "Boxes started ahead of demand and ready for a create, by image and disk size.",
		}, []string{"image", "disk_gib"}),
		WarmClaims: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hogland_warm_claims_total", Help: "Creates that could use a warm box: took one (hit) or found none ready (miss).",
		}, []string{"result"}),
	}
	m.Registry.MustRegister(m.CreateSeconds, m.ExecSeconds, m.ProxySeconds, m.Requests, m.Errors, m.RuntimeFailures,
		m.SnapshotSeconds, m.SnapshotPauseSeconds, m.CorruptLayers, m.WarmBoxes, m.WarmClaims,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&boxesCollector{count: count, desc: prometheus.NewDesc("hogland_boxes", "Boxes by status.", []string{"status"}, nil)})
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})
}

// Since observes the time since start on h (when m is not nil).
func Since(h prometheus.Observer, start time.Time) {
	if h != nil {
		h.Observe(time.Since(start).Seconds())
	}
}

type boxesCollector struct {
	count StatusCounter
	desc  *prometheus.Desc
}

func (c *boxesCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *boxesCollector) Collect(ch chan<- prometheus.Metric) {
	if c.count == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	counts, err := c.count(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	for _, st := range []string{"creating", "running", "paused", "stopped", "failed"} {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(counts[st]), st)
	}
}
