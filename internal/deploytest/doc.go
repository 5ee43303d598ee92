// Package deploytest checks the alerting kit shipped in deploy/: the
// Prometheus rules pass `promtool check rules` and their unit tests
// (`promtool test rules`), and every query of the rules and of the Grafana
// dashboard names only metrics the worker exports (internal/metrics.Names).
// It has tests only.
package deploytest
