package main

import (
	"testing"

	"github.com/google/pprof/profile"
)

func TestSampleShare(t *testing.T) {
	fn := func(name string) *profile.Location {
		return &profile.Location{Line: []profile.Line{{Function: &profile.Function{Name: name}}}}
	}
	proc := fn(processorPackage + "(*consentProcessor).processLogs")
	recv := fn("github.com/consentry/consentry/internal/webhook.(*Server).ServeHTTP")
	gc := fn("runtime.gcBgMarkWorker")
	p := &profile.Profile{
		SampleType: []*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}},
		Sample: []*profile.Sample{
			{Location: []*profile.Location{fn("runtime.mallocgc"), proc, recv}, Value: []int64{1, 30}}, // under the processor
			{Location: []*profile.Location{recv}, Value: []int64{1, 50}},
			{Location: []*profile.Location{gc}, Value: []int64{1, 20}},
		},
	}
	share, n := sampleShare(p, processorPackage)
	if n != 3 || share != 0.3 {
		t.Fatalf("share %v of %d samples, want 0.3 of 3 (weighted by CPU time, stack anywhere)", share, n)
	}
	if s, _ := sampleShare(&profile.Profile{}, processorPackage); s != 0 {
		t.Fatalf("empty profile: %v", s)
	}
}
