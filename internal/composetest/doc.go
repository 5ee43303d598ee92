// Package composetest holds the tests of the shipped docker-compose.yml,
// Dockerfile and .dockerignore: no Docker engine runs here, so the files are
// parsed and each property an operator relies on is checked (data volume
// writable, scheduler, healthchecks, start order, Redis private and with a
// password, images pinned, secrets readable by the image's user).
package composetest
