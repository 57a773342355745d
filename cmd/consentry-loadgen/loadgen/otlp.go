package loadgen

import (
	"fmt"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/consentry/consentry/internal/ccaas"
	"github.com/consentry/consentry/internal/decoders"
)

// sentinelValues are recognisable slot values: a kind is rendered with
// them, decoded by its receiver's Decoder, marshalled as OTLP/JSON, and
// every occurrence becomes a slot again.
func sentinelValues() values {
	var v values
	v[slotEventID] = "e0e0e0e0-5e47-4e11-8e1d-0e0e0e0e0e0e"
	v[slotConvID] = "c0c0c0c0-5e47-4e11-8e1d-0c0c0c0c0c0c"
	v[slotSID] = "5e715e715e715e715e715e715e715e71"
	v[slotPhone] = "+14155550142"
	v[slotEmail] = "sentinel.subject.5e71@example.com"
	v.setTime(sentinelTime)
	return v
}

var sentinelTime = time.Date(2025, 1, 2, 3, 4, 5, 678_000_000, time.UTC)

// decode turns a rendered body of kind k into the records the vendor's
// receiver (with its default configuration and salt) makes of it.
func decode(k *kind, body []byte, s Secrets, salt []byte) (plog.Logs, error) {
	tenant := map[string]string{
		Genesys: s.GenesysOrgID, Twilio: s.TwilioAccountSID, Segment: "local", Talkdesk: s.TalkdeskAccountID,
	}[k.vendor]
	d, err := decoders.New(k.vendor, nil, string(salt))
	if err != nil {
		return plog.Logs{}, err
	}
	return d.Decode(k.route, body, tenant)
}

// otlpTemplate is a kind's event as an OTLP/JSON logs export request, with
// slots, and how to key its subject per event.
type otlpTemplate struct {
	doc        *template
	subjectRaw slot // slotPhone or slotEmail: what the subject key is derived from
	subjectTyp string
}

// buildOTLP makes the OTLP/JSON form of kind k: one log record exactly as
// the receiver would produce it (resource, attributes, structured body),
// with both timestamps set to the event time.
func buildOTLP(k *kind, s Secrets, salt []byte) (*otlpTemplate, error) {
	sv := sentinelValues()
	var body []byte
	if k.form != nil {
		_, body = renderForm(k, &sv, nil, nil)
	} else {
		body = k.body.render(nil, &sv)
	}
	ld, err := decode(k, body, s, salt)
	if err != nil {
		return nil, fmt.Errorf("%s %s: decoding the sentinel event: %w", k.vendor, k.name, err)
	}
	if n := ld.LogRecordCount(); n != 1 {
		return nil, fmt.Errorf("%s %s: the receiver makes %d records of it, want 1", k.vendor, k.name, n)
	}
	ot := &otlpTemplate{}
	sentinels := map[slot]string{}
	for i := range numSlots {
		sentinels[i] = sv[i]
	}
	lr := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
	if id, ok := lr.Attributes().Get(ccaas.AttrEventID); ok && !strings.Contains(id.Str(), sv[slotEventID]) && !strings.Contains(id.Str(), sv[slotSID]) {
		// The receiver hashed the event's content into its id (Twilio
		// form callbacks: a hash of what was signed), which a template
		// cannot reproduce: give each generated event an id of its own,
		// or the ledger would take them all for one.
		id.SetStr(id.Str() + ":" + sv[slotEventID])
	}
	ts := pcommon.NewTimestampFromTime(sentinelTime)
	lr.SetTimestamp(ts)
	lr.SetObservedTimestamp(ts)
	if key, ok := lr.Attributes().Get(ccaas.AttrSubjectKey); ok {
		typ, _ := lr.Attributes().Get(ccaas.AttrSubjectIDType)
		ot.subjectTyp = typ.Str()
		switch ot.subjectTyp {
		case "phone":
			ot.subjectRaw = slotPhone
		case "email":
			ot.subjectRaw = slotEmail
		default:
			return nil, fmt.Errorf("%s %s: subject id type %q: the generator keys phones and e-mails only", k.vendor, k.name, ot.subjectTyp)
		}
		sentinels[slotSubjectKey] = key.Str()
	}
	doc, err := (&plog.JSONMarshaler{}).MarshalLogs(ld)
	if err != nil {
		return nil, err
	}
	ot.doc = templateFromSentinels(string(doc), sentinels)
	if !ot.doc.uses(slotEventID) && !ot.doc.uses(slotSID) {
		return nil, fmt.Errorf("%s %s: the OTLP form carries no per-event id", k.vendor, k.name)
	}
	return ot, nil
}
