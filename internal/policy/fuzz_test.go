package policy

import (
	"testing"
	"time"

	"github.com/consentry/consentry/internal/consentstore"
)

// checkInvariants holds for every decision, whatever the input.
func checkInvariants(t *testing.T, d *Decision) {
	t.Helper()
	blocking := false
	for _, r := range d.Reasons {
		if _, ok := reasonInfo[r]; !ok {
			t.Fatalf("undocumented reason %q", r)
		}
		blocking = blocking || r.Blocking()
	}
	if d.Forward && blocking {
		t.Fatalf("forwarded with blocking reasons %v", d.Reasons)
	}
	if d.Forward && d.Status != StatusGranted && d.Status != StatusNotRequired {
		t.Fatalf("forwarded with status %s", d.Status)
	}
	if !d.Forward && !blocking {
		t.Fatalf("quarantined without a blocking reason: %v", d.Reasons)
	}
	if d.PolicyHash == "" {
		t.Fatal("no policy hash")
	}
}

// FuzzEvaluate feeds arbitrary consent signals, TCF and GPP strings,
// notice markers, locations and stored records to the policy: it must
// never panic, never forward with a blocking reason, never quarantine
// without one.
func FuzzEvaluate(f *testing.F) {
	f.Add("genesys", "org", "ccaas.transcript.segment", "yes", "", "", "US-CA", "voice", "rec-prompt", true, int64(-60))
	f.Add("segment", "shop", "ccaas.analytics.track", "", tcfString(true, []int{8}, []int{7}), "DBABLA~CVVVkkkkkpFY.YA", "", "web", "", false, int64(0))
	f.Add("segment", "shop", "ccaas.consent.updated", "no", "COwxsONOwxsONKpAAAENAdCAAMAAAAAAAAAAAAAAAAAA", "DBABBg~BVWSSSVY.YA", "US", "", "x", true, int64(3600))
	f.Add("genesys", "hotline", "ccaas.recording.available", "1", "", "DBACOeA~CPSG_8APSG_8ANwAAAENAwCAAAAAAAAAAAAAAAAAAAAA.QAAA.IAAA~BPSG_8APSG_8AAyACAENGdCgf_gfgAfgfgBgABABAAABAB4AACACAAA.fHHHA4444ao~1YNN", "", "chat", "", false, int64(-1))
	f.Add("", "", "", "", "", "", "", "", "", false, int64(0))
	p := compile(f, basePolicy)
	f.Fuzz(func(t *testing.T, vendor, tenant, event, signal, tcfStr, gppStr, region, channel, notice string, gpc bool, recOffset int64) {
		attrs := map[string]any{
			"ccaas.consent.signal.recording":    signal,
			"ccaas.consent.category.Analytics":  signal == "yes",
			"ccaas.consent.category.Stats":      signal,
			"ccaas.consent.gpc":                 gpc,
			"ccaas.consent.notice.id":           notice,
			"ccaas.consent.signal.unmapped_one": signal,
		}
		if tcfStr != "" {
			attrs["ccaas.consent.tcf"] = tcfStr
		}
		if gppStr != "" {
			attrs["ccaas.consent.gpp"] = gppStr
		}
		v := view(vendor, tenant, event, attrs)
		v.Region, v.Channel = region, channel
		recs := []consentstore.Record{
			{ID: "r1", Key: consentstore.Key{Scope: "genesys/org", Subject: "sk1_subject"}, Granted: []string{"collect", signal},
				Denied: []string{event}, Processors: []string{tenant}, Interaction: notice, OptOut: consentstore.OptOut(recOffset % 3),
				Source: consentstore.Source(signal), At: t0.Add(time.Duration(recOffset) * time.Second)},
		}
		d := &Decision{}
		p.Evaluate(v, Evidence{Records: recs}, d)
		checkInvariants(t, d)
		for _, l := range d.Learned {
			if err := l.Validate(); err != nil {
				t.Fatalf("learned an invalid record: %+v", l)
			}
		}
	})
}

// FuzzCompile feeds arbitrary YAML to the policy loader and compiler: they
// must never panic, and a policy that compiles must decide any record.
// Run it with -fuzzminimizetime 0: minimising a 2 KB policy input one byte
// at a time takes minutes.
func FuzzCompile(f *testing.F) {
	f.Add(basePolicy)
	f.Add("{}")
	f.Add("processors: [{id: a, role: processor}]\ntenants: [{vendor: genesys, id: x, notice: {id: n, processors: [a]}}]\npurposes: {\"*\": [analytics]}\n")
	f.Add(edit(f, "consent_sources:", "tcf: {purposes: {\"3\": [marketing]}}\ncustom_purposes: [collect.recording.audio]\nconsent_sources:"))
	f.Add("purposes: {ccaas.*: [x]}\njurisdiction: {all_party: [US-CA, ZZ]}")
	f.Fuzz(func(t *testing.T, src string) {
		cfg, err := parseErr(src)
		if err != nil {
			return
		}
		p, err := Compile(cfg)
		if err != nil {
			return
		}
		for _, tn := range p.cfg.Tenants {
			for _, e := range []string{"ccaas.interaction.started", "ccaas.transcript.segment", "ccaas.analytics.track", "x"} {
				d := &Decision{}
				p.Evaluate(view(tn.Vendor, tn.ID, e, map[string]any{"ccaas.consent.signal.recording": "yes", "ccaas.consent.gpc": true}), Evidence{}, d)
				checkInvariants(t, d)
			}
		}
	})
}
