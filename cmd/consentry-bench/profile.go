package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/google/pprof/profile"
)

// processorPackage is the consent processor's Go package: CPU samples with
// one of its functions on the stack are the processor's share.
const processorPackage = "github.com/consentry/consentry/processor/consentprocessor."

// cpuShare takes a CPU profile of the collector through its pprof extension
// for d and returns the share of samples with a function of pkg on the
// stack, and the number of samples. A non-empty save is where the profile
// is also written (for go tool pprof).
func cpuShare(ctx context.Context, pprofPort int, d time.Duration, pkg, save string) (float64, int64, error) {
	secs := int(d / time.Second)
	if secs < 1 {
		secs = 1
	}
	ctx, cancel := context.WithTimeout(ctx, d+30*time.Second)
	defer cancel()
	url := fmt.Sprintf("http://127.0.0.1:%d/debug/pprof/profile?seconds=%d", pprofPort, secs)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, 0, fmt.Errorf("pprof: %s", resp.Status)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, 0, fmt.Errorf("pprof: %w", err)
	}
	if save != "" {
		if err := os.WriteFile(save, body, 0o644); err != nil {
			return 0, 0, err
		}
	}
	p, err := profile.ParseData(body)
	if err != nil {
		return 0, 0, fmt.Errorf("pprof: %w", err)
	}
	share, n := sampleShare(p, pkg)
	return share, n, nil
}

// sampleShare is the share of the profile's CPU (its last sample value)
// spent with a function of pkg anywhere on the stack.
func sampleShare(p *profile.Profile, pkg string) (float64, int64) {
	if len(p.SampleType) == 0 {
		return 0, 0
	}
	vi := len(p.SampleType) - 1
	var total, in, n int64
	for _, s := range p.Sample {
		v := s.Value[vi]
		total += v
		n++
	stack:
		for _, loc := range s.Location {
			for _, l := range loc.Line {
				if l.Function != nil && strings.HasPrefix(l.Function.Name, pkg) {
					in += v
					break stack
				}
			}
		}
	}
	if total == 0 {
		return 0, n
	}
	return float64(in) / float64(total), n
}
