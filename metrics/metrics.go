// Package metrics measures an hfhooks.Server with Prometheus: a Metrics is
// both the server's Observer and the handler of its /metrics route.
//
//	m := metrics.New()
//	srv := hfhooks.NewServer(hfhooks.WithObserver(m), hfhooks.WithMetrics(m))
//
// It exports, on a registry of its own (so that several servers can live in
// one process):
//
//	hfhooks_deliveries_total{endpoint,status}     requests to endpoints, by HTTP status
//	hfhooks_handler_duration_seconds{endpoint}    time spent in handlers
//
// and the Go runtime's and the process's collectors. The endpoint label is
// an endpoint's name, or "" for a request to a name no endpoint has.
package metrics

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/hfhooks/hfhooks"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are a server's Prometheus collectors. Create them with New.
type Metrics struct {
	registry   *prometheus.Registry
	handler    http.Handler
	deliveries *prometheus.CounterVec
	duration   *prometheus.HistogramVec

	// counters and durations cache the vectors' children, so that the
	// request path does no label lookups under the vectors' locks.
	counters  sync.Map // requestKey → prometheus.Counter
	durations sync.Map // endpoint name → prometheus.Observer
}

// requestKey is the labels of one hfhooks_deliveries_total series.
type requestKey struct {
	endpoint string
	status   int
}

// New returns Metrics on a registry of their own.
func New() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hfhooks_deliveries_total",
			Help: "Requests to endpoints, by endpoint and HTTP status code.",
		}, []string{"endpoint", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hfhooks_handler_duration_seconds",
			Help:    "Time spent in endpoints' handlers, by endpoint.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 4, 10),
		}, []string{"endpoint"}),
	}
	m.registry.MustRegister(
		m.deliveries, m.duration,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	m.handler = promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
	return m
}

// ObserveRequest counts a request in hfhooks_deliveries_total.
func (m *Metrics) ObserveRequest(endpoint string, status int, _ time.Duration) {
	key := requestKey{endpoint, status}
	c, ok := m.counters.Load(key)
	if !ok {
		c, _ = m.counters.LoadOrStore(key, m.deliveries.WithLabelValues(endpoint, strconv.Itoa(status)))
	}
	c.(prometheus.Counter).Inc()
}

// ObserveRun observes a run's duration in hfhooks_handler_duration_seconds,
// whatever its outcome.
func (m *Metrics) ObserveRun(endpoint string, _ hfhooks.RunOutcome, took time.Duration) {
	o, ok := m.durations.Load(endpoint)
	if !ok {
		o, _ = m.durations.LoadOrStore(endpoint, m.duration.WithLabelValues(endpoint))
	}
	o.(prometheus.Observer).Observe(took.Seconds())
}

// ServeHTTP serves the metrics in Prometheus' text format.
func (m *Metrics) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.handler.ServeHTTP(w, r)
}
