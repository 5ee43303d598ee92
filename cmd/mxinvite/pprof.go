package main

import (
	"fmt"
	"io"
	"os"
	"runtime/pprof"
)

// pprofEnv, when set to a path prefix, makes the process write a CPU profile
// of its whole run to PREFIX.cpu.pprof and its allocations (the "allocs"
// profile, every allocation since start, sampled) to PREFIX.allocs.pprof
// when it exits. make bench sets it for the `enqueue` child (internal/bench)
// so that docs/BENCHMARKS.md shows where the import's time goes. It is not a
// flag: it is for profiling, not for operating.
const pprofEnv = "MXINVITE_PPROF"

// startProfiles starts what pprofEnv asks for and returns the function that
// writes the profiles (a no-op when it is unset). Problems are reported on
// stderr and do not stop the command.
func startProfiles(stderr io.Writer) (stop func()) {
	prefix := os.Getenv(pprofEnv)
	if prefix == "" {
		return func() {}
	}
	cpu, err := os.Create(prefix + ".cpu.pprof")
	if err == nil {
		if err = pprof.StartCPUProfile(cpu); err != nil {
			cpu.Close()
			cpu = nil
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "mxinvite: %s: %v\n", pprofEnv, err)
	}
	return func() {
		if cpu != nil {
			pprof.StopCPUProfile()
			cpu.Close()
		}
		f, err := os.Create(prefix + ".allocs.pprof")
		if err == nil {
			err = pprof.Lookup("allocs").WriteTo(f, 0)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			fmt.Fprintf(stderr, "mxinvite: %s: %v\n", pprofEnv, err)
		}
	}
}
