package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/consentry/consentry/internal/ccaas"
	"github.com/consentry/consentry/internal/consentstore"
	"github.com/consentry/consentry/internal/decoders"
	"github.com/consentry/consentry/internal/policy"
	"github.com/consentry/consentry/processor/consentprocessor"
)

// explainSalt keys subject hashes when neither --salt, the receiver's
// subject_salt nor CONSENTRY_SUBJECT_SALT is set. Subject keys only matter
// for consent records, and explain starts with an empty store.
const explainSalt = "consentry-policy-explain-salt"

func runExplain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("consentry policy explain", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var configs stringList
	fs.Var(&configs, "config", "collector configuration file (repeatable)")
	procName := fs.String("processor", "", "the consent processor to use (consent or consent/NAME); needed when there are several")
	vendor := fs.String("vendor", "", "the vendor whose webhook body EVENT.json is ("+strings.Join(decoders.Vendors(), ", ")+"); not needed for OTLP JSON")
	route := fs.String("route", "", "the receiver route the body was posted to ("+routeHelp()+"); default: the vendor's main route")
	tenant := fs.String("tenant", "", "the tenant the receiver would attribute the event to (Genesys organization id, ...); default: from the event")
	salt := fs.String("salt", "", "the receiver-wide subject salt (default: the receiver's subject_salt, else $CONSENTRY_SUBJECT_SALT); tenants with their own subject_salt keep it")
	output := fs.String("output", "text", "text, or json (the consent.* attributes of each record)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: consentry policy explain --config FILE [flags] EVENT.json   (EVENT.json may be - for stdin)")
		fs.PrintDefaults()
	}
	// Flags may follow the event file.
	var positional []string
	for rest := args; ; {
		if err := fs.Parse(rest); err != nil {
			return exitUsage
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(configs) == 0 || len(positional) != 1 || (*output != "text" && *output != "json") {
		fs.Usage()
		return exitUsage
	}

	conf, err := loadCollectorConfig(ctx, configs)
	if err != nil {
		fmt.Fprintf(stderr, "consentry: %v\n", err)
		return exitUsage
	}
	proc, err := pickProcessor(conf, *procName)
	if err != nil {
		fmt.Fprintf(stderr, "consentry: %v\n", err)
		return exitUsage
	}
	pol, err := proc.cfg.LoadPolicy(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "consentry: %s: %v\n", proc.id, err)
		return exitInvalid
	}
	body, err := readInput(positional[0])
	if err != nil {
		fmt.Fprintf(stderr, "consentry: %v\n", err)
		return exitUsage
	}
	ld, err := decodeEvent(conf, body, *vendor, *route, *tenant, *salt)
	if err != nil {
		fmt.Fprintf(stderr, "consentry: %s: %v\n", positional[0], err)
		return exitInvalid
	}
	if ld.LogRecordCount() == 0 {
		fmt.Fprintf(stderr, "consentry: %s: no records\n", positional[0])
		return exitInvalid
	}

	// Decide the records in order, exactly as the processor would (consent
	// events among them are recorded and count for the records after them).
	e := consentprocessor.NewEvaluator(pol, consentprocessor.EvaluatorSettings{
		Cache:                 proc.cacheConfig(),
		InteractionMaxEntries: proc.cfg.Interactions.MaxEntries,
		InteractionTTL:        proc.cfg.Interactions.TTL,
	})
	defer e.Close()
	e.ProcessLogs(ctx, ld)

	if *output == "json" {
		err = writeJSON(stdout, ld)
	} else {
		err = writeText(stdout, proc.id.String(), ld)
	}
	if err != nil {
		fmt.Fprintf(stderr, "consentry: %v\n", err)
		return exitUsage
	}
	return exitOK
}

func (p consentProcessor) cacheConfig() consentstore.CacheConfig {
	return consentstore.CacheConfig{TTL: p.cfg.Cache.TTL, NegativeTTL: p.cfg.Cache.NegativeTTL, MaxEntries: p.cfg.Cache.MaxEntries}
}

func pickProcessor(conf *confmap.Conf, name string) (consentProcessor, error) {
	procs, err := consentProcessors(conf)
	if err != nil {
		return consentProcessor{}, err
	}
	var ids []string
	for _, p := range procs {
		ids = append(ids, p.id.String())
	}
	if len(procs) == 0 {
		return consentProcessor{}, errors.New("the configuration has no consent processor (processors: consent or consent/<name>)")
	}
	var chosen *consentProcessor
	switch {
	case name != "":
		for i := range procs {
			if procs[i].id.String() == name {
				chosen = &procs[i]
			}
		}
		if chosen == nil {
			return consentProcessor{}, fmt.Errorf("no processor %q; the configuration has %s", name, strings.Join(ids, ", "))
		}
	case len(procs) > 1:
		return consentProcessor{}, fmt.Errorf("the configuration has several consent processors (%s): choose one with --processor", strings.Join(ids, ", "))
	default:
		chosen = &procs[0]
	}
	if chosen.err != nil {
		return consentProcessor{}, fmt.Errorf("%s: %w", chosen.id, chosen.err)
	}
	return *chosen, nil
}

func readInput(path string) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(os.Stdin)
	}
	return os.ReadFile(path)
}

// decodeEvent turns the input into records: an OTLP JSON logs document as
// is, anything else through the vendor's receiver decoder.
func decodeEvent(conf *confmap.Conf, body []byte, vendor, route, tenant, salt string) (plog.Logs, error) {
	if isOTLP(body) {
		u := &plog.JSONUnmarshaler{}
		ld, err := u.UnmarshalLogs(body)
		if err != nil {
			return plog.Logs{}, fmt.Errorf("not a valid OTLP JSON logs document: %w", err)
		}
		return ld, nil
	}
	if vendor == "" {
		return plog.Logs{}, fmt.Errorf("not an OTLP JSON logs document (no top-level \"resourceLogs\"); say which vendor's webhook body it is with --vendor (%s)", strings.Join(decoders.Vendors(), ", "))
	}
	if route == "" {
		route = decoders.DefaultRoute(vendor)
	}
	rcv := subSection(conf, "receivers", vendor)
	if salt == "" && (rcv == nil || rcv.Get("subject_salt") == nil || rcv.Get("subject_salt") == "") {
		salt = os.Getenv("CONSENTRY_SUBJECT_SALT")
		if salt == "" {
			salt = explainSalt
		}
	}
	d, err := decoders.New(vendor, rcv, salt)
	if err != nil {
		return plog.Logs{}, err
	}
	return d.Decode(route, body, tenant)
}

func isOTLP(body []byte) bool {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(bytes.TrimSpace(body), &probe); err != nil {
		return false
	}
	_, ok := probe["resourceLogs"]
	return ok
}

type record struct {
	vendor, tenant string
	res            pcommon.Map
	lr             plog.LogRecord
}

func records(ld plog.Logs) []record {
	var out []record
	for _, rl := range ld.ResourceLogs().All() {
		res := rl.Resource().Attributes()
		vendor, tenant := attrString(res, ccaas.AttrVendor), attrString(res, ccaas.AttrTenantID)
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				out = append(out, record{vendor, tenant, res, lr})
			}
		}
	}
	return out
}

func attrString(m pcommon.Map, k string) string {
	if v, ok := m.Get(k); ok {
		return v.AsString()
	}
	return ""
}

var consentDefaults = map[string]any{
	ccaas.AttrConsentReasons: []any{}, ccaas.AttrConsentPurposes: []any{}, ccaas.AttrConsentJurisdictions: []any{},
	ccaas.AttrConsentAllPartyRequired: false, ccaas.AttrConsentProcessors: []any{}, ccaas.AttrConsentDisclosedProcessors: []any{},
	ccaas.AttrConsentUndisclosedProcessors: []any{}, ccaas.AttrConsentNoticeIDTag: "", ccaas.AttrConsentEvidence: []any{},
}

// writeJSON prints, per record, its event name, event id and consent.*
// attributes.
func writeJSON(w io.Writer, ld plog.Logs) error {
	out := []map[string]any{}
	for _, r := range records(ld) {
		m := map[string]any{
			"event_name":         r.lr.EventName(),
			ccaas.AttrEventID:    attrString(r.lr.Attributes(), ccaas.AttrEventID),
			ccaas.AttrVendor:     r.vendor,
			ccaas.AttrTenantID:   r.tenant,
			"timestamp":          timestamp(r.lr.Timestamp()),
			"observed_timestamp": timestamp(r.lr.ObservedTimestamp()),
		}
		// Everything the receiver extracted: every ccaas.* attribute of the
		// record and its resource.
		extracted := map[string]any{}
		for k, v := range r.res.All() {
			if strings.HasPrefix(k, "ccaas.") {
				extracted[k] = v.AsRaw()
			}
		}
		for k, v := range r.lr.Attributes().All() {
			switch {
			case strings.HasPrefix(k, "consent."):
				m[k] = v.AsRaw()
			case strings.HasPrefix(k, "ccaas."):
				extracted[k] = v.AsRaw()
			}
		}
		m["attributes"] = extracted
		// The processor omits empty lists and an empty notice id; scripts
		// get every key.
		for k, empty := range consentDefaults {
			if _, ok := m[k]; !ok {
				m[k] = empty
			}
		}
		m["jurisdictions"] = jurisdictionsOf(r.lr.Attributes())
		out = append(out, m)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// jurisdiction is one consent.jurisdictions entry, split.
type jurisdiction struct {
	Code   string `json:"code"`
	Party  string `json:"party"`
	Source string `json:"source"`
}

// jurisdictionsOf reads consent.jurisdictions ("US-CA@customer.e164") as
// code, party and source.
func jurisdictionsOf(attrs pcommon.Map) []jurisdiction {
	out := []jurisdiction{}
	for _, e := range ccaas.Strings(attrs, ccaas.AttrConsentJurisdictions) {
		code, party, source := policy.ParseJurisdiction(e)
		out = append(out, jurisdiction{code, party, source})
	}
	return out
}

// timestamp is an OTLP timestamp in RFC 3339, "" when unset.
func timestamp(ts pcommon.Timestamp) string {
	if ts == 0 {
		return ""
	}
	return ts.AsTime().UTC().Format(time.RFC3339Nano)
}

func writeText(w io.Writer, processorID string, ld plog.Logs) error {
	recs := records(ld)
	var b strings.Builder
	line := func(label, value string) { fmt.Fprintf(&b, "  %-15s %s\n", label+":", value) }
	for i, r := range recs {
		a := r.lr.Attributes()
		fmt.Fprintf(&b, "Record %d of %d: %s (%s, tenant %s, event %s)\n", i+1, len(recs), orNone(r.lr.EventName()),
			orNone(r.vendor), orNone(r.tenant), orNone(attrString(a, ccaas.AttrEventID)))
		line("decision", strings.ToUpper(attrString(a, ccaas.AttrConsentDecision)))
		line("time", orNone(timestamp(r.lr.Timestamp()))+" (received "+orNone(timestamp(r.lr.ObservedTimestamp()))+")")
		line("consent status", attrString(a, ccaas.AttrConsentStatus))
		codes := ccaas.Strings(a, ccaas.AttrConsentReasons)
		width := 0
		for _, c := range codes {
			width = max(width, len(c))
		}
		line("reasons", "([!] quarantines the record)")
		for _, code := range codes {
			reason := policy.Reason(code)
			mark := "   "
			if reason.Blocking() {
				mark = "[!]"
			}
			fmt.Fprintf(&b, "    %s %-*s  %s\n", mark, width, code, reason.Meaning())
		}
		line("purposes", list(ccaas.Strings(a, ccaas.AttrConsentPurposes)))
		undisclosed := ccaas.Strings(a, ccaas.AttrConsentUndisclosedProcessors)
		var procs []string
		for _, p := range ccaas.Strings(a, ccaas.AttrConsentProcessors) {
			if slices.Contains(undisclosed, p) {
				p += " (NOT in the notice)"
			}
			procs = append(procs, p)
		}
		line("processors", list(procs))
		allParty := "not required"
		if v, ok := a.Get(ccaas.AttrConsentAllPartyRequired); ok && v.Bool() {
			allParty = "REQUIRED"
		}
		line("jurisdictions", "(all-party consent "+allParty+")")
		for _, j := range jurisdictionsOf(a) {
			fmt.Fprintf(&b, "    %-8s %s, from %s\n", j.Code, orNone(j.Party), orNone(j.Source))
		}
		line("notice", orNone(attrString(a, ccaas.AttrConsentNoticeIDTag)))
		line("evidence", list(ccaas.Strings(a, ccaas.AttrConsentEvidence)))
		line("policy", attrString(a, ccaas.AttrConsentPolicyHash)+" ("+processorID+")")
		if i < len(recs)-1 {
			b.WriteString("\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func list(s []string) string {
	if len(s) == 0 {
		return "(none)"
	}
	return strings.Join(s, ", ")
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
