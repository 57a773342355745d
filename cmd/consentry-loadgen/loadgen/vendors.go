package loadgen

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // Twilio and Segment sign with HMAC-SHA1.
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/url"
	"sort"
	"strings"
)

// Vendor names, as in ccaas.vendor.
const (
	Genesys  = "genesys"
	Twilio   = "twilio"
	Segment  = "segment"
	Talkdesk = "talkdesk"
)

// AllVendors lists the vendors the generator speaks, in a stable order.
var AllVendors = []string{Genesys, Twilio, Segment, Talkdesk}

// Segment routes the generator can use.
const (
	SegmentWebhook  = "webhook"  // Webhooks destination: X-Signature (hex HMAC-SHA1 of the body)
	SegmentTracking = "tracking" // HTTP Tracking API /v1/track: Basic auth with the write key
)

// Secrets are the credentials and tenant ids of config/local.yaml. They are
// never printed.
type Secrets struct {
	GenesysAPIKey       string // CONSENTRY_GENESYS_SECRET
	GenesysOrgID        string // CONSENTRY_GENESYS_ORG_ID
	TwilioAuthToken     string // CONSENTRY_TWILIO_AUTH_TOKEN
	TwilioAccountSID    string // CONSENTRY_TWILIO_ACCOUNT_SID
	SegmentSharedSecret string // CONSENTRY_SEGMENT_SHARED_SECRET
	SegmentWriteKey     string // CONSENTRY_SEGMENT_WRITE_KEY
	TalkdeskToken       string // CONSENTRY_TALKDESK_TOKEN
	TalkdeskAccountID   string // CONSENTRY_TALKDESK_ACCOUNT_ID
	SubjectSalt         string // CONSENTRY_SUBJECT_SALT (OTLP mode: to key subjects as the receivers would)
}

// kind is one kind of event: a vendor, a route, a body, and whether the
// example policy (config/policy.yaml, local tenants) forwards it.
type kind struct {
	vendor  string
	forward bool
	name    string // for reports and tests: what the event is
	path    string // URL path on the vendor's receiver
	route   string // the receiver's route name (its Decoder's)
	ctype   string
	body    *template   // JSON bodies
	form    []formField // form bodies (Twilio), sorted by key
	// sign adds the authentication headers for body sent to fullURL.
	sign func(h map[string]string, fullURL string, body []byte, form []formKV)
}

type formField struct {
	key string
	val *template
}

type formKV struct{ k, v string }

// Genesys: EventBridge API destination with an API key connection. The
// forward event is a conversation's customer.start (routing: covered by
// the local tenant's contract); the quarantined one is a real-time
// transcription segment, which Genesys AI (a processor with secondary use
// in the example policy) touches and which needs the caller's consent that
// the event does not carry.
const genesysCustomerStart = `{"version":"0","id":"{{event_id}}","detail-type":"v2.detail.events.conversation.{id}.customer.start","source":"aws.partner/genesys.com/cloud/{{org}}/consentry-prod","account":"123456789012","time":"{{time_iso}}","region":"us-east-1","resources":[],"detail":{"topicName":"v2.detail.events.conversation.{{conv_id}}.customer.start","version":"2","eventBody":{"conversationId":"{{conv_id}}","participantId":"a9e0b1c2-d3e4-4f56-8789-0a1b2c3d4e5f","sessionId":"77b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d","mediaType":"VOICE","provider":"Edge","divisionId":"0a1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c3d","eventTime":{{time_ms}},"direction":"INBOUND","ani":"tel:{{phone}}","dnis":"tel:+18005550100","externalContactId":"e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b","conversationExternalContactIds":["e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b"],"addressFrom":"tel:{{phone}}","addressTo":"tel:+18005550100","journeyContext":{"customer":{"id":"9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d","idType":"cookie"},"customerSession":{"id":"3c2b1a0f-9e8d-4c7b-a6f5-e4d3c2b1a0f9","type":"web"},"triggeringAction":{"id":"a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d","actionMap":{"id":"f0e1d2c3-b4a5-4968-8776-a5b4c3d2e1f0","version":3}}},"conversationExternalOrganizationIds":["c0d1e2f3-a4b5-4c6d-8e7f-9a0b1c2d3e4f"],"utilizationLabel":"priority-support"},"metadata":{"CorrelationId":"6f3a2b1c-0d9e-4f8a-b7c6-d5e4f3a2b1c0"},"timestamp":"{{time_iso_ms}}"}}`

const genesysTranscription = `{"version":"0","id":"{{event_id}}","detail-type":"v2.conversations.{id}.transcription","source":"aws.partner/genesys.com/cloud/{{org}}/consentry-prod","account":"123456789012","time":"{{time_iso}}","region":"us-east-1","resources":[],"detail":{"topicName":"v2.conversations.{{conv_id}}.transcription","version":"2","eventBody":{"eventTime":"{{time_iso_ms}}","organizationId":"{{org}}","conversationId":"{{conv_id}}","communicationId":"77b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d","sessionStartTimeMs":{{time_ms}},"transcriptionStartTimeMs":{{time_ms}},"transcripts":[{"utteranceId":"u-0001","isFinal":true,"channel":"EXTERNAL","alternatives":[{"confidence":0.93,"offsetMs":1200,"durationMs":2400,"transcript":"Hi, I'm calling about my order, it still hasn't arrived and I need it before Friday. Can you check the status for me?","words":[]}],"engineProvider":"GENESYS","engineId":"genesys-stt-en","dialect":"en-US","agentAssistEnabled":false,"voiceTranscriptionEnabled":true}],"status":{"offsetMs":3600,"status":"SESSION_ONGOING"}},"metadata":{"CorrelationId":"6f3a2b1c-0d9e-4f8a-b7c6-d5e4f3a2b1c0"},"timestamp":"{{time_iso_ms}}"}}`

// Segment: a track call stamped by the site's consent manager. Analytics
// consent granted: forwarded; refused: quarantined (consent_denied).
const segmentTrack = `{"anonymousId":"{{conv_id}}","channel":"client","context":{"campaign":{"content":"footer_link","medium":"email","name":"spring_support","source":"newsletter","term":"billing help"},"consent":{"categoryPreferences":{"Advertising":false,"Analytics":{{analytics}},"DataSharing":false,"Functional":true}},"ip":"203.0.113.42","library":{"name":"analytics.js","version":"next-1.70.0"},"locale":"en-US","page":{"path":"/support/contact","referrer":"https://www.example.com/","search":"","title":"Contact support","url":"https://www.example.com/support/contact"},"screen":{"density":2,"height":982,"width":1512},"timezone":"America/Los_Angeles","userAgent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15","userAgentData":{"brands":[{"brand":"Not A(Brand","version":"99"}],"mobile":false,"platform":"macOS"},"traits":{"email":"{{email}}"}},"event":"Support Call Requested","integrations":{},"messageId":"ajs-next-{{time_ms}}-{{event_id}}","originalTimestamp":"{{time_iso_ms}}","properties":{"account_tier":"enterprise","callback_window":"afternoon","case_priority":"normal","plan_renewal":"2024-09-30","preferred_language":"en","product":"Invoicing Cloud","queue":"billing","reason":"invoice dispute","topic_id":"T-20931"},"receivedAt":"{{time_iso_ms}}","sentAt":"{{time_iso_ms}}","timestamp":"{{time_iso_ms}}","type":"track","userId":"{{email}}","version":2}`

// Talkdesk: HTTP Notifier automations with a header token. A call reaching
// an agent is forwarded (contract); a voicemail transcription (the caller's
// words, read by a transcription service, without consent) is quarantined.
const talkdeskCallStarts = `{"event":"inbound_call_starts","call_id":"CA{{sid}}","interaction_id":"{{conv_id}}","contact_id":"5e9f1a2b3c4d5e6f7a8b9c0d","account_id":"{{talkdesk_account}}","agent_id":"6a7b8c9d0e1f2a3b4c5d6e7f","contact_phone_number":"{{phone}}","waiting_time":"37","interaction_context_id":"c0ffee00-1111-4222-8333-944455556666","proactive_outbound":"false","tags":"sales, vip-line","talkdesk_phone_number":"+12125550199","is_transfer":"False","agent_name":"Alex Agent","agent_email":"alex.agent@starship.example.com","agent_tags":"sales","contact_name":"Jane Doe","interaction_type":"inbound","start_time":"{{time_talkdesk}}"}`

const talkdeskVoicemailTranscription = `{"event":"voicemail_transcription_available","call_id":"CA{{sid}}","interaction_id":"{{conv_id}}","contact_id":"5e9f1a2b3c4d5e6f7a8b9c0d","account_id":"{{talkdesk_account}}","contact_phone_number":"{{phone}}","talkdesk_phone_number":"+12125550199","ring_groups":"support","voicemail_duration":"41","voicemail_transcription":"Hi, this is Jane, I was charged twice for my last order and I would like a refund to my card ending in four two. Please call me back this afternoon.","contact_name":"Jane Doe","interaction_type":"inbound","timestamp":"{{time_talkdesk}}"}`

// Twilio: Voice status callbacks (call completed: forwarded) and recording
// status callbacks (a recording the local account has no consent basis
// for: quarantined), form-encoded and signed with X-Twilio-Signature.
var twilioCallCompleted = [][2]string{
	{"AccountSid", "{{account}}"}, {"ApiVersion", "2010-04-01"}, {"CallDuration", "42"},
	{"CallSid", "CA{{sid}}"}, {"CallStatus", "completed"}, {"CallbackSource", "call-progress-events"},
	{"Called", "+12125550199"}, {"CalledCity", "NEW YORK"}, {"CalledCountry", "US"}, {"CalledState", "NY"},
	{"CalledZip", "10001"}, {"Caller", "{{phone}}"}, {"CallerCity", "SAN FRANCISCO"}, {"CallerCountry", "US"},
	{"CallerState", "CA"}, {"CallerZip", "94105"}, {"Direction", "inbound"}, {"Duration", "1"},
	{"From", "{{phone}}"}, {"FromCity", "SAN FRANCISCO"}, {"FromCountry", "US"}, {"FromState", "CA"},
	{"FromZip", "94105"}, {"SequenceNumber", "3"}, {"SipResponseCode", "200"}, {"Timestamp", "{{time_rfc1123}}"},
	{"To", "+12125550199"}, {"ToCity", "NEW YORK"}, {"ToCountry", "US"}, {"ToState", "NY"}, {"ToZip", "10001"},
}

var twilioRecordingCompleted = [][2]string{
	{"AccountSid", "{{account}}"}, {"CallSid", "CA{{sid}}"}, {"ErrorCode", "0"}, {"RecordingChannels", "2"},
	{"RecordingDuration", "38"}, {"RecordingSid", "RE{{sid}}"}, {"RecordingSource", "StartCallRecordingAPI"},
	{"RecordingStartTime", "{{time_rfc1123}}"}, {"RecordingStatus", "completed"}, {"RecordingTrack", "both"},
	{"RecordingUrl", "https://api.twilio.com/2010-04-01/Accounts/{{account}}/Recordings/RE{{sid}}"},
}

// KindInfo describes one kind of event the generator sends.
type KindInfo struct {
	Vendor  string
	Forward bool   // the example policy forwards it
	Name    string // what it is
	Path    string // receiver path
	Route   string // receiver route name
}

// buildKinds compiles the event kinds for the given secrets.
func buildKinds(s Secrets, segmentRoute, genesysHeader, talkdeskHeader string) (map[string][2]*kind, error) {
	fixed := map[string]string{
		"org": s.GenesysOrgID, "account": s.TwilioAccountSID, "talkdesk_account": s.TalkdeskAccountID,
	}
	must := func(text string, extra map[string]string) (*template, error) {
		f := fixed
		if extra != nil {
			f = map[string]string{}
			for k, v := range fixed {
				f[k] = v
			}
			for k, v := range extra {
				f[k] = v
			}
		}
		return parseTemplate(text, f)
	}
	out := map[string][2]*kind{}
	var errs []string
	add := func(vendor string, k *kind, err error) {
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s %s: %v", vendor, k.name, err))
			return
		}
		pair := out[vendor]
		if k.forward {
			pair[0] = k
		} else {
			pair[1] = k
		}
		out[vendor] = pair
	}

	// Genesys.
	gSign := func(h map[string]string, _ string, _ []byte, _ []formKV) { h[genesysHeader] = s.GenesysAPIKey }
	for _, g := range []struct {
		fwd        bool
		name, text string
	}{{true, "conversation customer.start", genesysCustomerStart}, {false, "conversation transcription", genesysTranscription}} {
		t, err := must(g.text, nil)
		add(Genesys, &kind{vendor: Genesys, forward: g.fwd, name: g.name, path: "/genesys/eventbridge", route: "eventbridge",
			ctype: "application/json", body: t, sign: gSign}, err)
	}

	// Twilio.
	tSign := func(h map[string]string, fullURL string, _ []byte, form []formKV) {
		m := hmac.New(sha1.New, []byte(s.TwilioAuthToken))
		m.Write([]byte(fullURL))
		for _, kv := range form {
			m.Write([]byte(kv.k))
			m.Write([]byte(kv.v))
		}
		h["X-Twilio-Signature"] = base64.StdEncoding.EncodeToString(m.Sum(nil))
	}
	for _, tw := range []struct {
		fwd        bool
		name, path string
		route      string
		fields     [][2]string
	}{
		{true, "voice status callback (completed)", "/twilio/voice/status", "voice_status", twilioCallCompleted},
		{false, "recording status callback (completed)", "/twilio/voice/recording", "voice_recording", twilioRecordingCompleted},
	} {
		k := &kind{vendor: Twilio, forward: tw.fwd, name: tw.name, path: tw.path, route: tw.route,
			ctype: "application/x-www-form-urlencoded", sign: tSign}
		var err error
		for _, f := range tw.fields {
			var t *template
			if t, err = must(f[1], nil); err != nil {
				break
			}
			k.form = append(k.form, formField{key: f[0], val: t})
		}
		sort.Slice(k.form, func(i, j int) bool { return k.form[i].key < k.form[j].key })
		add(Twilio, k, err)
	}

	// Segment.
	var sSign func(h map[string]string, _ string, body []byte, _ []formKV)
	path, route := "/segment/webhook", "webhook"
	switch segmentRoute {
	case SegmentWebhook, "":
		sSign = func(h map[string]string, _ string, body []byte, _ []formKV) {
			m := hmac.New(sha1.New, []byte(s.SegmentSharedSecret))
			m.Write(body)
			h["X-Signature"] = hex.EncodeToString(m.Sum(nil))
		}
	case SegmentTracking:
		path, route = "/v1/track", "track"
		auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(s.SegmentWriteKey+":"))
		sSign = func(h map[string]string, _ string, _ []byte, _ []formKV) { h["Authorization"] = auth }
	default:
		return nil, fmt.Errorf("segment route %q: want %s or %s", segmentRoute, SegmentWebhook, SegmentTracking)
	}
	for _, fwd := range []bool{true, false} {
		name := "track, Analytics consent granted"
		if !fwd {
			name = "track, Analytics consent refused"
		}
		t, err := must(segmentTrack, map[string]string{"analytics": fmt.Sprint(fwd)})
		add(Segment, &kind{vendor: Segment, forward: fwd, name: name, path: path, route: route,
			ctype: "application/json", body: t, sign: sSign}, err)
	}

	// Talkdesk.
	tdSign := func(h map[string]string, _ string, _ []byte, _ []formKV) { h[talkdeskHeader] = s.TalkdeskToken }
	for _, td := range []struct {
		fwd                 bool
		name, trigger, text string
	}{
		{true, "inbound call starts", "inbound_call_starts", talkdeskCallStarts},
		{false, "voicemail transcription available", "voicemail_transcription_available", talkdeskVoicemailTranscription},
	} {
		t, err := must(td.text, nil)
		add(Talkdesk, &kind{vendor: Talkdesk, forward: td.fwd, name: td.name, path: "/talkdesk/webhook/" + td.trigger,
			route: "webhook/" + td.trigger, ctype: "application/json", body: t, sign: tdSign}, err)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("event templates: %s", strings.Join(errs, "; "))
	}
	return out, nil
}

// renderForm renders a form kind's fields: the sorted key/value pairs (for
// the signature) and the encoded body.
func renderForm(k *kind, v *values, kvs []formKV, body []byte) ([]formKV, []byte) {
	kvs = kvs[:0]
	var scratch []byte
	for i, f := range k.form {
		scratch = f.val.render(scratch[:0], v)
		val := string(scratch)
		kvs = append(kvs, formKV{f.key, val})
		if i > 0 {
			body = append(body, '&')
		}
		body = append(body, url.QueryEscape(f.key)...)
		body = append(body, '=')
		body = append(body, url.QueryEscape(val)...)
	}
	return kvs, body
}
