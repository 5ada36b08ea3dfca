package hfhooks

import (
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the server's Prometheus collectors, on a registry of its own
// so that several servers can live in one process.
type metrics struct {
	registry   *prometheus.Registry
	deliveries *prometheus.CounterVec
	duration   *prometheus.HistogramVec
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hfhooks_deliveries_total",
			Help: "Requests to webhook endpoints, by endpoint and HTTP status code.",
		}, []string{"endpoint", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hfhooks_handler_duration_seconds",
			Help:    "Time spent in webhook handlers, by endpoint.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 4, 10),
		}, []string{"endpoint"}),
	}
	m.registry.MustRegister(
		m.deliveries, m.duration,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// endpointMetrics are one endpoint's collectors, resolved at registration so
// that the request path does no label lookups under the vectors' locks.
type endpointMetrics struct {
	parent   *metrics
	name     string
	duration prometheus.Observer
	byStatus sync.Map // int → prometheus.Counter
}

func (m *metrics) forEndpoint(name string) *endpointMetrics {
	return &endpointMetrics{parent: m, name: name, duration: m.duration.WithLabelValues(name)}
}

func (e *endpointMetrics) count(status int) {
	if c, ok := e.byStatus.Load(status); ok {
		c.(prometheus.Counter).Inc()
		return
	}
	c, _ := e.byStatus.LoadOrStore(status, e.parent.deliveries.WithLabelValues(e.name, strconv.Itoa(status)))
	c.(prometheus.Counter).Inc()
}
