package consentprocessor

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/consentry/consentry/internal/ccaas"
	"github.com/consentry/consentry/internal/subject"
	"github.com/consentry/consentry/processor/consentprocessor/internal/metadata"
)

const (
	examplePolicy = "../../config/policy.yaml"
	testSalt      = "unit-test-subject-salt-0123456789"

	tenantMeditationA = "src_meditation_a"
	tenantMeditationB = "src_meditation_b"
	tenantOutdoorWeb  = "src_outdoor_web"
	tenantRetailer    = "td_outdoor_retailer"
	tenantHotline     = "3f8c2b6e-1d4a-4e7b-9c2f-8a6d5e4b3c21"
	tenantCrisisLine  = "5d1a7c3e-2b4f-4a6d-8e9c-0f1a2b3c4d5e"
	tenantLocal       = "00000000-0000-4000-8000-000000000000"

	phoneCA = "+14155550123" // San Francisco: US-CA
	phoneTX = "+12145550123" // Dallas: US-TX
)

var (
	keyer = func() *subject.Keyer {
		k, err := subject.NewKeyer([]byte(testSalt))
		if err != nil {
			panic(err)
		}
		return k
	}()
	t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
)

// event describes one record, built the way the receivers build them.
type event struct {
	vendor, tenant, name string
	id                   string
	phone, email, opaque string
	interaction          string
	channel              string
	at                   time.Time
	attrs                map[string]any
}

// add appends the event's record to b.
func (e event) add(b *ccaas.Batch) plog.LogRecord {
	lr := b.Record(e.tenant)
	lr.SetEventName(e.name)
	attrs := lr.Attributes()
	id := e.id
	if id == "" {
		id = e.name + ":" + e.interaction + ":" + e.at.String()
	}
	attrs.PutStr(ccaas.AttrEventID, id)
	ccaas.PutStr(attrs, ccaas.AttrInteractionID, e.interaction)
	ccaas.PutStr(attrs, ccaas.AttrChannel, e.channel)
	switch {
	case e.phone != "":
		ccaas.SetSubject(attrs, keyer, subject.IDTypePhone, e.phone)
	case e.email != "":
		ccaas.SetSubject(attrs, keyer, subject.IDTypeEmail, e.email)
	case e.opaque != "":
		ccaas.SetSubject(attrs, keyer, subject.IDTypeOpaque, e.opaque)
	}
	for k, v := range e.attrs {
		if err := attrs.PutEmpty(k).FromRaw(v); err != nil {
			panic(err)
		}
	}
	at := e.at
	if at.IsZero() {
		at = t0
	}
	ccaas.SetTimestamps(lr, at, at.Add(time.Second))
	return lr
}

func logsOf(events ...event) plog.Logs {
	ld := plog.NewLogs()
	for _, e := range events {
		b := ccaas.NewBatch(e.vendor, "github.com/consentry/consentry/receiver/"+e.vendor+"receiver", "test")
		e.add(b)
		b.Logs().ResourceLogs().MoveAndAppendTo(ld.ResourceLogs())
	}
	return ld
}

// harness is a started processor feeding a sink, with a consent_router
// after it (unrouted_test.go tests the processor alone).
type harness struct {
	t    *testing.T
	proc processor.Logs
	cp   *consentProcessor
	sink *consumertest.LogsSink
}

func startProcessor(t *testing.T, cfg *Config, host component.Host) *harness {
	t.Helper()
	if host == nil {
		host = componenttest.NewNopHost()
	}
	host = routedHost(t, host)
	sink := new(consumertest.LogsSink)
	set := processortest.NewNopSettings(metadata.Type)
	proc, cp, err := newLogs(context.Background(), set, cfg, sink)
	require.NoError(t, err)
	require.NoError(t, proc.Start(context.Background(), host))
	t.Cleanup(func() { require.NoError(t, proc.Shutdown(context.Background())) })
	return &harness{t: t, proc: proc, sink: sink, cp: cp}
}

func exampleConfig() *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.PolicyFile = examplePolicy
	return cfg
}

// decide runs the events through the processor, one batch each, and
// returns the tagged records in order.
func (h *harness) decide(events ...event) []plog.LogRecord {
	h.t.Helper()
	var out []plog.LogRecord
	for _, e := range events {
		before := len(h.sink.AllLogs())
		require.NoError(h.t, h.proc.ConsumeLogs(context.Background(), logsOf(e)))
		require.Len(h.t, h.sink.AllLogs(), before+1, "the processor must never drop a batch")
		ld := h.sink.AllLogs()[before]
		require.Equal(h.t, 1, ld.LogRecordCount(), "the processor must never drop a record")
		out = append(out, ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0))
	}
	return out
}

func strAttr(lr plog.LogRecord, k string) string {
	if v, ok := lr.Attributes().Get(k); ok {
		return v.AsString()
	}
	return ""
}

func sliceAttr(lr plog.LogRecord, k string) []string {
	v, ok := lr.Attributes().Get(k)
	if !ok || v.Type() != pcommon.ValueTypeSlice {
		return nil
	}
	out := []string{}
	for _, e := range v.Slice().All() {
		out = append(out, e.Str())
	}
	return out
}

func boolAttr(lr plog.LogRecord, k string) bool {
	v, ok := lr.Attributes().Get(k)
	return ok && v.Bool()
}
