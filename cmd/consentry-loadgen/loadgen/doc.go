// Package loadgen is the engine of consentry-loadgen: it renders realistic,
// correctly signed vendor webhooks (or the same events as OTLP/JSON), sends
// them open-loop at a fixed rate or flat out over keep-alive connections,
// and reports status codes, errors and latency percentiles.
package loadgen
