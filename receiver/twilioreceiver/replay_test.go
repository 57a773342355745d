package twilioreceiver

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumertest"

	"github.com/consentry/consentry/internal/ccaas"
)

// boundaryShifts returns the forms whose signing string equals that of
// params (in canonical order): one boundary of the signed string (between a
// name and its value, or between a value and the next name) moved by up to
// maxShift bytes, and both boundaries of a value moved together. Twilio's
// signing string concatenates names and values without separators, so
// every one of these carries the original signature.
func boundaryShifts(params []param, maxShift int) [][]param {
	canon := concat(params)
	var out [][]param
	try := func(ps []param) {
		for _, p := range ps {
			if p.key == "" {
				return
			}
		}
		sorted := append([]param(nil), ps...)
		sortParams(sorted)
		if concat(sorted) == canon {
			out = append(out, ps)
		}
	}
	shiftKV := func(ps []param, i, d int) []param {
		kv := ps[i].key + ps[i].value
		cut := len(ps[i].key) + d
		if cut < 1 || cut > len(kv) {
			return nil
		}
		c := append([]param(nil), ps...)
		c[i] = param{kv[:cut], kv[cut:]}
		return c
	}
	shiftPair := func(ps []param, i, d int) []param { // value i / key i+1
		if i+1 >= len(ps) {
			return nil
		}
		joined := ps[i].value + ps[i+1].key
		cut := len(ps[i].value) + d
		if cut < 0 || cut >= len(joined) {
			return nil
		}
		c := append([]param(nil), ps...)
		c[i] = param{ps[i].key, joined[:cut]}
		c[i+1] = param{joined[cut:], ps[i+1].value}
		return c
	}
	for i := range params {
		for d := -maxShift; d <= maxShift; d++ {
			if d == 0 {
				continue
			}
			if c := shiftKV(params, i, d); c != nil {
				try(c)
				for e := -3; e <= 3; e++ {
					if c2 := shiftPair(c, i, e); e != 0 && c2 != nil {
						try(c2)
					}
				}
			}
			if c := shiftPair(params, i, d); c != nil {
				try(c)
			}
		}
	}
	return out
}

func concat(ps []param) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString(p.key)
		b.WriteString(p.value)
	}
	return b.String()
}

func encodeForm(ps []param) []byte {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = url.QueryEscape(p.key) + "=" + url.QueryEscape(p.value)
	}
	return []byte(strings.Join(parts, "&"))
}

// TestFormCallbackReplayBoundaryShift: Twilio signs the URL followed by
// every parameter name and value without separators, so moving a boundary
// (RecordingStatus=completed -> RecordingStatusc=ompleted) keeps the
// signature valid. Such a replay must never become a second record: every
// variant that is accepted has the original's event id (and so is a
// duplicate), the others are refused. It once gave one signature five
// stored records, with a changed meaning.
func TestFormCallbackReplayBoundaryShift(t *testing.T) {
	cfg := testConfig()
	cfg.Dedup.Enabled = false // every accepted request becomes a record, to compare ids
	sink := new(consumertest.LogsSink)
	h := startReceiver(t, cfg, sink)
	total, accepted := 0, 0
	for _, tc := range []struct{ fixture, path string }{
		{"voice_recording_completed.form", PathVoiceRecording},
		{"voice_recording_paused.form", PathVoiceRecording},
		{"voice_status_inbound_completed.form", PathVoiceStatus},
		{"taskrouter_task_created.form", PathTaskRouter},
		{"taskrouter_reservation_accepted.form", PathTaskRouter},
		{"conversations_message_added.form", PathConversations},
		{"messaging_status_delivered.form", PathMessageStatus},
		{"messaging_inbound_sms.form", PathMessaging},
		{"voice_conference_end.form", PathConference},
		{"voice_transcription_content.form", PathTranscription},
		{"voice_record_transcription.form", PathTranscription},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			body := fixture(t, tc.fixture)
			token := tokenFor(t, body)
			f, err := parseForm(body)
			require.NoError(t, err)
			params := append([]param(nil), f.params...)
			sortParams(params)
			sig := signForm(t, token, testPublic+tc.path, body)

			sink.Reset()
			resp, out := h.post(tc.path, formType, body, map[string]string{HeaderSignature: sig})
			require.Less(t, resp.StatusCode, 300, out)
			want := eventIDs(sink)
			require.Len(t, want, 1)

			variants := boundaryShifts(params, 12)
			require.NotEmpty(t, variants, "no boundary shift keeps the signing string: the test proves nothing")
			for _, v := range variants {
				vbody := encodeForm(v)
				vform, err := url.ParseQuery(string(vbody))
				require.NoError(t, err)
				require.Equal(t, sig, referenceSignature(token, testPublic+tc.path, vform), "variant %s must carry the original signature", vbody)
				sink.Reset()
				resp, out := h.post(tc.path, formType, vbody, map[string]string{HeaderSignature: sig})
				total++
				if resp.StatusCode >= 300 {
					assert.Contains(t, []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden}, resp.StatusCode, "%s: %s", vbody, out)
					continue
				}
				accepted++
				assert.Equal(t, want, eventIDs(sink), "a replay with shifted boundaries became a new event: %s", vbody)
			}
		})
	}
	t.Logf("%d boundary-shifted replays: %d accepted as duplicates of the original, %d refused", total, accepted, total-accepted)
}

// eventIDs returns the tenant and event id of every record: what the
// ledger de-duplicates by.
func eventIDs(sink *consumertest.LogsSink) []string {
	var ids []string
	for _, ld := range sink.AllLogs() {
		for _, lr := range records(ld) {
			v, _ := lr.Attributes().Get(ccaas.AttrEventID)
			ids = append(ids, tenantOf(ld, 0)+" "+v.Str())
		}
	}
	return ids
}

// TestFormCallbackRepeatedParameterNames: a name Twilio never sends twice
// is refused when repeated (two identical pairs sign like one, so the
// repeat would be a replay with another body); Conversations'
// MessagingBinding.Address, which group messaging repeats, is accepted
// with distinct values.
func TestFormCallbackRepeatedParameterNames(t *testing.T) {
	h := startReceiver(t, testConfig(), new(consumertest.LogsSink))
	base := "AccountSid=" + testAccount + "&CallSid=CA5f2b1c9d8e7a6b5c4d3e2f1a0b9c8d7e&CallStatus=completed"
	for _, body := range []string{
		base + "&CallStatus=completed",
		base + "&CallStatus=busy",
		base + "&AccountSid=" + testAccount,
		base + "&From=%2B14155550100&From=%2B14155550100",
	} {
		resp, out := h.postForm(PathVoiceStatus, []byte(body), testToken)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "%s: %s", body, out)
		assert.Contains(t, out, "more than once", body)
	}
	resp, out := h.postForm(PathVoiceStatus, []byte(base), testToken)
	assert.Equal(t, http.StatusOK, resp.StatusCode, out)

	conv := "AccountSid=" + testAccount + "&EventType=onConversationAdd&ConversationSid=CH7e6d5c4b3a29180f7e6d5c4b3a291807&RetryCount=0&Source=SMS" +
		"&MessagingBinding.Address=%2B18550000000&MessagingBinding.Address=%2B18330000000"
	resp, out = h.postForm(PathConversations, []byte(conv), testToken)
	assert.Equal(t, http.StatusOK, resp.StatusCode, out)
	resp, out = h.postForm(PathConversations, []byte(conv+"&MessagingBinding.Address=%2B18330000000"), testToken)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "an identical repeated pair: %s", out)
}
