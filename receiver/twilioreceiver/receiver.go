package twilioreceiver

import (
	"context"
	"net/http"
	"regexp"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver"

	"github.com/consentry/consentry/internal/ccaas"
	"github.com/consentry/consentry/internal/tenant"
	"github.com/consentry/consentry/internal/webhook"
	"github.com/consentry/consentry/receiver/twilioreceiver/internal/metadata"
)

// Routes.
const (
	PathEventStreams   = "/twilio/eventstreams"
	PathVoiceStatus    = "/twilio/voice/status"
	PathVoiceRecording = "/twilio/voice/recording"
	PathTaskRouter     = "/twilio/taskrouter"
	PathConversations  = "/twilio/conversations"

	PathMessaging     = "/twilio/messaging"
	PathMessageStatus = "/twilio/messaging/status"
	PathConference    = "/twilio/voice/conference"
	PathTranscription = "/twilio/voice/transcription"
	PathIntelligence  = "/twilio/intelligence"
)

// Event Streams sinks send JSON; the CloudEvents batch media types are
// accepted too.
var jsonTypes = []string{webhook.ContentTypeJSON, "application/cloudevents-batch+json", "application/cloudevents+json"}

type twilioReceiver struct {
	server *webhook.Server
	// live holds the handlers of the tenants in force (the listed ones and
	// tenants_file's).
	live *tenant.Live[handlers]
}

// handlers serve requests for one version of the tenants.
type handlers struct {
	cfg      *Config
	norm     *normalizer
	verifier *verifier
}

func newHandlers(cfg *Config, version string) (*handlers, error) {
	r := &handlers{cfg: cfg}
	norm, err := newNormalizer(cfg, version)
	if err != nil {
		return nil, err
	}
	r.norm = norm
	accounts := make([]*account, 0, len(cfg.Tenants))
	for _, t := range cfg.Tenants {
		a := &account{sid: t.AccountSID, members: map[string]bool{t.AccountSID: true}}
		for _, tok := range t.AuthTokens {
			a.tokens = append(a.tokens, []byte(tok))
		}
		for _, sub := range t.SubaccountSIDs {
			a.members[sub] = true
		}
		a.keyer = norm.keyers.Resolve(t.AccountSID, false)
		accounts = append(accounts, a)
	}
	publicURL := ""
	if cfg.PublicURL != "" {
		var err error
		if publicURL, err = parsePublicURL(cfg.PublicURL); err != nil {
			return nil, err
		}
	}
	r.verifier = newVerifier(publicURL, accounts)
	return r, nil
}

func newReceiver(cfg *Config, set receiver.Settings, next consumer.Logs) (*twilioReceiver, error) {
	live, err := tenant.NewMerged(cfg.Receiver, cfg, metadata.Type.String(), "account_sid", set.Logger,
		func(c *Config) *[]TenantConfig { return &c.Tenants }, (*Config).Validate,
		func(c *Config) (*handlers, error) { return newHandlers(c, set.BuildInfo.Version) })
	if err != nil {
		return nil, err
	}
	r := &twilioReceiver{live: live}
	formRoute := func(route string) func(*webhook.Request) (plog.Logs, error) {
		return func(req *webhook.Request) (plog.Logs, error) { return live.Load().handleForm(route, req) }
	}

	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	tel := webhook.Telemetry{Requests: tb.ConsentryWebhookRequests, Duplicates: tb.ConsentryWebhookDuplicates}
	form := []string{webhook.ContentTypeForm}
	server, err := webhook.NewServer(&cfg.Config, set, tel, next,
		webhook.Route{Path: PathEventStreams, Name: routeEventStreams, ContentTypes: jsonTypes, Handle: tenant.Handle(live, (*handlers).handleEventStreams)},
		webhook.Route{Path: PathVoiceStatus, Name: routeVoiceStatus, ContentTypes: form, Handle: formRoute(routeVoiceStatus), Respond: respondEmpty},
		webhook.Route{Path: PathVoiceRecording, Name: routeVoiceRecording, ContentTypes: form, Handle: formRoute(routeVoiceRecording), Respond: respondEmpty},
		webhook.Route{Path: PathTaskRouter, Name: routeTaskRouter, ContentTypes: form, Handle: formRoute(routeTaskRouter), Respond: respondTaskRouter},
		webhook.Route{Path: PathConversations, Name: routeConversations, ContentTypes: form, Handle: formRoute(routeConversations), Respond: respondEmpty},
		webhook.Route{Path: PathMessaging, Name: routeMessaging, ContentTypes: form, Handle: formRoute(routeMessaging), Respond: respondEmptyTwiML},
		webhook.Route{Path: PathMessageStatus, Name: routeMessageStatus, ContentTypes: form, Handle: formRoute(routeMessageStatus), Respond: respondEmpty},
		webhook.Route{Path: PathConference, Name: routeConference, ContentTypes: form, Handle: formRoute(routeConference), Respond: respondEmpty},
		webhook.Route{Path: PathTranscription, Name: routeTranscription, ContentTypes: form, Handle: formRoute(routeTranscription), Respond: respondEmpty},
		webhook.Route{Path: PathIntelligence, Name: routeIntelligence, ContentTypes: jsonTypes[:1], Handle: tenant.Handle(live, (*handlers).handleIntelligence)},
	)
	if err != nil {
		return nil, err
	}
	r.server = server
	return r, nil
}

func (r *twilioReceiver) Start(ctx context.Context, host component.Host) error {
	if err := r.server.Start(ctx, host); err != nil {
		return err
	}
	r.live.Start(host)
	return nil
}

func (r *twilioReceiver) Shutdown(ctx context.Context) error {
	r.live.Shutdown()
	return r.server.Shutdown(ctx)
}

// respondEmpty answers status callbacks and Conversations webhooks: an empty
// 200. Never TwiML: a status callback's answer is not a call instruction, and
// an empty 200 lets a Conversations pre-action hook proceed unchanged.
func respondEmpty(w http.ResponseWriter, _, _ int) {
	w.WriteHeader(http.StatusOK)
}

// emptyTwiML does nothing: no reply, no redirect.
const emptyTwiML = `<?xml version="1.0" encoding="UTF-8"?><Response></Response>`

// respondEmptyTwiML answers the incoming message webhook, which expects
// TwiML, with a document that does nothing: Consentry observes messages, it
// does not reply to them (and sends no confirmation of its own to a STOP:
// Twilio or the application does).
func respondEmptyTwiML(w http.ResponseWriter, _, _ int) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(emptyTwiML))
}

// respondTaskRouter answers TaskRouter event callbacks as Twilio documents:
// 204 with Content-Type application/json.
func respondTaskRouter(w http.ResponseWriter, _, _ int) {
	w.Header().Set("Content-Type", webhook.ContentTypeJSON)
	w.WriteHeader(http.StatusNoContent)
}

// authenticate checks X-Twilio-Signature. named is the account the request
// says it comes from (the AccountSid form parameter; "" for JSON), params
// the canonical form parameters (nil for JSON). It returns the account whose
// auth token signed the request, or nil for an unsigned request that
// insecure_allow_unauthenticated lets through.
func (r *handlers) authenticate(req *webhook.Request, named string, params []byte, jsonBody bool) (*account, error) {
	sig := req.HTTP.Header.Get(HeaderSignature)
	if sig == "" {
		if r.cfg.InsecureAllowUnauthenticated {
			return nil, nil
		}
		return nil, webhook.Unauthenticated()
	}
	rawQuery := req.HTTP.URL.RawQuery
	present, match := bodyHashMatches(rawQuery, req.Body)
	switch {
	case present:
		// The URL carries the body's hash, so the signature covers the URL
		// alone and the hash covers the body.
		params = nil
	case jsonBody:
		// Without bodySHA256 nothing would authenticate a JSON body.
		return nil, webhook.Unauthenticated()
	}
	if named == "" {
		named, _ = queryParam(rawQuery, "AccountSid")
	}
	a := r.verifier.verify(sig, named, signedPathQuery(req.HTTP), params)
	if a == nil || (present && !match) {
		return nil, webhook.Unauthenticated()
	}
	return a, nil
}

// tenantFor decides the tenant of one event: the account SID it names, which
// must be the signing account or one of its subaccounts.
func tenantFor(cred *account, eventSID string) (string, error) {
	switch {
	case cred == nil && eventSID == "":
		return unknownTenant, nil
	case cred == nil:
		return eventSID, nil
	case eventSID == "":
		return cred.sid, nil
	case !cred.owns(eventSID):
		return "", webhook.Forbidden("the event belongs to account %q, which the signing auth token does not cover", eventSID)
	default:
		return eventSID, nil
	}
}

func (r *handlers) handleEventStreams(req *webhook.Request) (plog.Logs, error) {
	cred, err := r.authenticate(req, "", nil, true)
	if err != nil {
		return plog.Logs{}, err
	}
	return r.norm.eventStreams(req.Body, cred, req.Received)
}

// handleForm handles a form-encoded callback of route.
func (r *handlers) handleForm(route string, req *webhook.Request) (plog.Logs, error) {
	if req.HTTP.Header.Get(HeaderSignature) == "" && !r.cfg.InsecureAllowUnauthenticated {
		return plog.Logs{}, webhook.Unauthenticated()
	}
	f, err := parseForm(req.Body)
	if err != nil {
		return plog.Logs{}, webhook.Malformed("%v", err)
	}
	cred, err := r.authenticate(req, f.get("AccountSid"), f.canonical(), false)
	if err != nil {
		return plog.Logs{}, err
	}
	return r.norm.callback(route, f, cred, req.Received)
}

// callback turns one form-encoded callback into a record.
func (n *normalizer) callback(route string, f *form, cred *account, received time.Time) (plog.Logs, error) {
	if cred != nil && f.get("AccountSid") == "" {
		// Every Twilio callback names its account. Without it the tenant
		// would be the signing account's, not the subaccount the event
		// belongs to: a signed callback replayed with its AccountSid
		// garbled would become an event of another tenant.
		return plog.Logs{}, webhook.Malformed("a Twilio callback names its AccountSid")
	}
	tenant, err := tenantFor(cred, f.get("AccountSid"))
	if err != nil {
		return plog.Logs{}, err
	}
	b := n.newBatch()
	lr := b.Record(tenant)
	f.putBody(lr.Body().SetEmptyMap())
	attrs := lr.Attributes()
	k := n.keyer(tenant)
	var (
		ev            event
		id, eventType string
	)
	switch route {
	case routeVoiceStatus:
		if f.get("CallSid") == "" {
			return plog.Logs{}, webhook.Malformed("a call status callback needs a CallSid")
		}
		status := ccaas.Lower(f.get("CallStatus"))
		ev = n.voiceStatus(attrs, k, f)
		eventType = joinType("voice.status", status)
		id = f.signedID("voice", false)
	case routeVoiceRecording:
		if f.get("RecordingSid") == "" && f.get("CallSid") == "" {
			return plog.Logs{}, webhook.Malformed("a recording status callback needs a RecordingSid or CallSid")
		}
		status := ccaas.Lower(f.get("RecordingStatus"))
		ev = n.recording(attrs, k, f)
		eventType = joinType("voice.recording", status)
		id = f.signedID("recording", false)
	case routeTaskRouter:
		eventType = f.get("EventType")
		if eventType == "" {
			return plog.Logs{}, webhook.Malformed("a TaskRouter event callback needs an EventType")
		}
		ev = n.taskRouter(attrs, k, f, eventType)
		if id, err = taskRouterID(f); err != nil {
			return plog.Logs{}, err
		}
	case routeMessaging, routeMessageStatus:
		sid := messageSid(f)
		if sid == "" {
			return plog.Logs{}, webhook.Malformed("a messaging webhook needs a MessageSid")
		}
		status := messageStatus(f)
		inbound := isInboundMessage(f) || route == routeMessaging && status == ""
		ev = n.message(attrs, k, f, inbound, status)
		eventType, id = joinType("messaging.status", status), f.signedID("messaging", false)
		if inbound {
			eventType = "messaging.inbound"
		}
	case routeConference:
		conf := f.get("ConferenceSid")
		if conf == "" {
			return plog.Logs{}, webhook.Malformed("a conference status callback needs a ConferenceSid")
		}
		ev = n.conference(attrs, f)
		cb := ccaas.Lower(f.get("StatusCallbackEvent"))
		eventType = joinType("voice.conference", cb)
		id = f.signedID("conference", false)
	case routeTranscription:
		var err error
		if ev, eventType, id, err = n.transcription(attrs, k, f); err != nil {
			return plog.Logs{}, err
		}
	case routeConversations:
		eventType = f.get("EventType")
		if eventType == "" {
			return plog.Logs{}, webhook.Malformed("a Conversations webhook needs an EventType")
		}
		ev = n.conversation(attrs, k, f, eventType)
		// RetryCount is the only parameter that changes when Twilio
		// retries a Conversations webhook.
		id = f.signedID("conversations", true)
	}
	setCommon(lr, route, id, eventType, ev, received)
	return b.Logs(), nil
}

// taskRouterID is the event id of a TaskRouter callback: the event's Sid
// (EV…), which Event Streams uses as the CloudEvent id too, so that the
// same event delivered through both is stored once; without one, the hash
// of what was signed. A Sid that is not well formed, or a signing string
// that holds an event Sid the parse does not give, is refused: a replay
// with a boundary moved around the Sid must not become a second event.
func taskRouterID(f *form) (string, error) {
	sid := f.get("Sid")
	switch {
	case eventSid.MatchString(sid):
		return sid, nil
	case sid != "" || signedEventSid.Match(f.canonical()):
		return "", webhook.Malformed("a TaskRouter callback's Sid is not an event Sid (EV and 32 hex digits)")
	}
	return f.signedID("taskrouter", false), nil
}

var (
	eventSid       = regexp.MustCompile(`^EV[0-9a-f]{32}$`)
	signedEventSid = regexp.MustCompile(`SidEV[0-9a-f]{32}`)
)

// joinType names a classic callback's event type: the callback kind and the
// status it reports.
func joinType(kind, status string) string {
	if status == "" {
		return kind
	}
	return kind + "." + status
}
