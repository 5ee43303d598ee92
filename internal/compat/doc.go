// Package compat holds the upgrade tests: they load Redis data written by
// an earlier release (testdata/snapshots, made by the scripts there) and
// check that today's code finishes its campaigns. It has no code of its
// own outside its tests.
package compat
