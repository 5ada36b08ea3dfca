// Package metrics measures an hfhooks.Server, and its queue, with
// Prometheus: a Metrics is both the Observer of the server (and of the
// queue) and the handler of the server's /metrics route.
//
//	m := metrics.New()
//	q, err := queue.Open(ctx, "sqlite:hfhooks.db", queue.WithObserver(m))
//	...
//	m.CollectQueue(q)
//	srv := hfhooks.NewServer(hfhooks.WithQueue(q), hfhooks.WithObserver(m), hfhooks.WithMetrics(m))
//
// It exports, on a registry of its own (so that several servers can live in
// one process), the metrics of the table in docs/monitoring.md, and the Go
// runtime's and the process's collectors. The endpoint label is the name of
// an endpoint, or "" for a request to a name no endpoint has: its values are
// bounded by the endpoints registered.
package metrics

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/hfhooks/hfhooks"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are a server's Prometheus collectors. Create them with New.
type Metrics struct {
	registry *prometheus.Registry
	handler  http.Handler

	deliveries      *prometheus.CounterVec
	requestDuration *prometheus.HistogramVec
	runs            *prometheus.CounterVec
	runDuration     *prometheus.HistogramVec
	startDelay      *prometheus.HistogramVec
}

// durationBuckets suit handlers from a millisecond to hours, and requests.
var durationBuckets = prometheus.ExponentialBuckets(0.0005, 4, 12)

// New returns Metrics on a registry of their own.
func New() *Metrics {
	deliveries := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "hfhooks_deliveries_total",
		Help: "Requests to endpoints, by endpoint and HTTP status code.",
	}, []string{"endpoint", "status"})
	requestDuration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "hfhooks_request_duration_seconds",
		Help:    "Time from a request's arrival at an endpoint to its answer, by endpoint.",
		Buckets: durationBuckets,
	}, []string{"endpoint"})
	runs := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "hfhooks_runs_total",
		Help: "Runs of endpoints' handlers, by endpoint and outcome: succeeded, failed (not tried again), retried, gave_up (the last attempt failed).",
	}, []string{"endpoint", "outcome"})
	runDuration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "hfhooks_handler_duration_seconds",
		Help:    "Time spent in one run of an endpoint's handler, by endpoint.",
		Buckets: durationBuckets,
	}, []string{"endpoint"})
	startDelay := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "hfhooks_start_delay_seconds",
		Help:    "Time from a delivery's acknowledgement (committed to the queue) to the first start of its handler, by endpoint.",
		Buckets: durationBuckets,
	}, []string{"endpoint"})
	m := &Metrics{
		registry:        prometheus.NewRegistry(),
		deliveries:      deliveries,
		requestDuration: requestDuration,
		runs:            runs,
		runDuration:     runDuration,
		startDelay:      startDelay,
	}
	m.registry.MustRegister(
		deliveries, requestDuration, runs, runDuration, startDelay,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	m.handler = promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
	return m
}

// ObserveRequest counts a request in hfhooks_deliveries_total and observes
// its duration in hfhooks_request_duration_seconds.
func (m *Metrics) ObserveRequest(endpoint string, status int, took time.Duration) {
	m.deliveries.WithLabelValues(endpoint, strconv.Itoa(status)).Inc()
	m.requestDuration.WithLabelValues(endpoint).Observe(took.Seconds())
}

// ObserveRun counts a run in hfhooks_runs_total and observes its duration
// in hfhooks_handler_duration_seconds.
func (m *Metrics) ObserveRun(endpoint string, outcome hfhooks.RunOutcome, took time.Duration) {
	m.runs.WithLabelValues(endpoint, string(outcome)).Inc()
	m.runDuration.WithLabelValues(endpoint).Observe(took.Seconds())
}

// ObserveStart observes the wait before a delivery's first run in
// hfhooks_start_delay_seconds.
func (m *Metrics) ObserveStart(endpoint string, waited time.Duration) {
	m.startDelay.WithLabelValues(endpoint).Observe(waited.Seconds())
}

// CollectQueue adds the gauges of q, read from it at each scrape:
// hfhooks_queue_up, hfhooks_queue_deliveries{state} and
// hfhooks_queue_oldest_age_seconds. Call it once, before serving.
func (m *Metrics) CollectQueue(q hfhooks.QueueHealth) {
	m.registry.MustRegister(queueCollector{q})
}

// ServeHTTP serves the metrics in Prometheus' text format.
func (m *Metrics) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.handler.ServeHTTP(w, r)
}

// scrapeTimeout bounds the queue's answers at a scrape.
const scrapeTimeout = 5 * time.Second

var (
	queueUpDesc = prometheus.NewDesc("hfhooks_queue_up",
		"1 when the queue can commit deliveries, else 0.", nil, nil)
	queueDeliveriesDesc = prometheus.NewDesc("hfhooks_queue_deliveries",
		"Deliveries not done, by state: queued (waiting for a worker), scheduled (waiting for a retry), running.", []string{"state"}, nil)
	queueOldestDesc = prometheus.NewDesc("hfhooks_queue_oldest_age_seconds",
		"How long the oldest queued delivery has been due, waiting for a worker; 0 when none is queued.", nil, nil)
)

// queueCollector reads a queue's gauges at each scrape.
type queueCollector struct{ q hfhooks.QueueHealth }

func (c queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- queueUpDesc
	ch <- queueDeliveriesDesc
	ch <- queueOldestDesc
}

// Collect reports the queue's gauges; when its counts cannot be read, it
// reports hfhooks_queue_up only, so that the rest of the scrape goes on.
func (c queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	up := 1.0
	if c.q.Health(ctx) != nil {
		up = 0
	}
	ch <- prometheus.MustNewConstMetric(queueUpDesc, prometheus.GaugeValue, up)
	st, err := c.q.Stats(ctx)
	if err != nil {
		return
	}
	for state, n := range map[string]int{"queued": st.Queued, "scheduled": st.Scheduled, "running": st.Running} {
		ch <- prometheus.MustNewConstMetric(queueDeliveriesDesc, prometheus.GaugeValue, float64(n), state)
	}
	ch <- prometheus.MustNewConstMetric(queueOldestDesc, prometheus.GaugeValue, st.OldestAge.Seconds())
}
