package main

import (
	"fmt"
	"io"
	"runtime"
)

// version is stamped by `make dist` (-ldflags "-X main.version=..."), from
// git describe.
var version = "dev"

func runVersion(stdout io.Writer) int {
	fmt.Fprintf(stdout, "consentry %s %s/%s\n", version, runtime.GOOS, runtime.GOARCH)
	return exitOK
}
