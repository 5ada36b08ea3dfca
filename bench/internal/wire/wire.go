// Package wire holds the JSON results that the benchmark's helper programs
// (bench/ceiling, bench/fanout) print and bench/cmd/benchrun reads.
package wire

// Ceiling is one measurement of River's own insert rate (bench/ceiling).
type Ceiling struct {
	Batch   int     `json:"batch"`
	Jobs    int     `json:"jobs"`
	Seconds float64 `json:"seconds"`
	Rate    float64 `json:"rate"`
	// CPUPerJob is the CPU time (user and system) of bench/ceiling over the
	// inserts, per job, in nanoseconds; the database server's, for
	// PostgreSQL, is not in it.
	CPUPerJob float64 `json:"cpuPerJobNs"`
}

// Fanout is one pattern of the emulator's fan-out (bench/fanout).
type Fanout struct {
	Pattern    string  `json:"pattern"`
	Webhooks   int     `json:"webhooks"`
	Events     int     `json:"events"`
	Deliveries int64   `json:"deliveries"`
	Missing    int64   `json:"missing"`
	Seconds    float64 `json:"seconds"`
	Rate       float64 `json:"rate"`
}
