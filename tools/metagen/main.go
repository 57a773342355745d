// Command metagen generates, from a component's metadata.yaml, everything
// that describes the component in the collector's conventions: its
// internal/metadata package (type, scope, stability, and the instruments of
// its internal telemetry), documentation.md, the status table of its
// README.md, and the tests every component has (factory type, config
// struct, lifecycle, and goleak in TestMain).
//
//	metagen path/to/metadata.yaml...
//
// metadata.yaml follows the schema of the collector's mdatagen
// (go.opentelemetry.io/collector/cmd/mdatagen), in the subset Consentry uses
// (see read in metadata.go), and the generated files have mdatagen's names
// and shapes. Consentry does not run mdatagen itself: the newest version the
// module proxy serves (v0.159.0) builds against collector v1.71, but it
// names every internal metric "otelcol_" + its name, which would rename the
// metrics users and the end-to-end tests already rely on
// (consentry.router.records and the others). See
// docs/design/component-metadata.md.
//
// Output is deterministic; internal/conventions' test regenerates every
// component into a copy of the tree and fails on a stale file.
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: metagen path/to/metadata.yaml...")
		os.Exit(2)
	}
	for _, path := range os.Args[1:] {
		if err := generate(path); err != nil {
			fmt.Fprintf(os.Stderr, "metagen: %s: %v\n", path, err)
			os.Exit(1)
		}
	}
}
