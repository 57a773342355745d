package talkdeskreceiver

import (
	"time"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/consentry/consentry/internal/ccaas"
	"github.com/consentry/consentry/internal/webhook"
)

// Digital Connect event types (the bridge envelope's event_type).
const (
	dcConversationStarted = "CONVERSATION_STARTED"
	dcConversationCreated = "CONVERSATION_CREATED"
	dcConversationEnded   = "CONVERSATION_ENDED"
	dcMessageCreated      = "MESSAGE_CREATED"
)

// digitalConnect handles Digital Connect conversation events, the envelope
// {"event_type","conversation_id","timestamp","payload":{...}} (or an array
// of them). The payload's fields are read first, then the envelope's.
// cred is the account whose token authenticated the request.
func (n *normalizer) digitalConnect(body []byte, cred account, received time.Time) (plog.Logs, error) {
	evs, err := webhook.DecodeObjects(body)
	if err != nil {
		return plog.Logs{}, err
	}
	b := n.newBatch()
	for i, e := range evs {
		env := fields{primary: e}
		typ := env.first("event_type", "type")
		if typ == "" {
			return plog.Logs{}, webhook.Malformed("event %d has no event_type; is this a Digital Connect event?", i)
		}
		f := fields{primary: ccaas.Obj(e, "payload"), secondary: e}
		tenant, err := tenantFor(cred, f.str("account_id"), f.str("account_name"))
		if err != nil {
			return plog.Logs{}, err
		}
		id := env.first("event_id", "id")
		if id == "" {
			id = ccaas.DerivedID(typ, e)
		}
		n.emit(b, tenant, routeDigitalConnect, id, n.digitalTrigger(typ, f), e, f, received)
	}
	return b.Logs(), nil
}

// digitalTrigger says what a Digital Connect event means. A message is
// received or sent by who wrote it; a message whose author cannot be told
// is a ccaas.vendor_event rather than a guess.
func (n *normalizer) digitalTrigger(typ string, f fields) trigger {
	tr := trigger{name: typ, event: ccaas.EventVendor, channel: digitalChannel(f.first("channel", "channel_type"))}
	switch triggerKey(typ) {
	case triggerKey(dcConversationStarted), triggerKey(dcConversationCreated):
		tr.event = ccaas.EventInteractionStarted
	case triggerKey(dcConversationEnded):
		tr.event = ccaas.EventInteractionEnded
	case triggerKey(dcMessageCreated):
		switch messageAuthor(f.first(n.fields.MessageAuthor...)) {
		case "inbound":
			tr.event, tr.direction = ccaas.EventMessageReceived, "inbound"
		case "outbound":
			tr.event, tr.direction = ccaas.EventMessageSent, "outbound"
		}
	}
	return tr
}

// messageAuthor maps who wrote a message to the direction it travelled.
func messageAuthor(v string) string {
	switch ccaas.Lower(v) {
	case "contact", "customer", "visitor", "user", "end_user", "enduser", "consumer", "client":
		return "inbound"
	case "agent", "bot", "virtual_agent", "system", "business", "operator":
		return "outbound"
	}
	return direction(v)
}

// digitalChannel maps a Digital Connect channel name to ccaas.channel:
// e-mail, a messaging channel (SMS, WhatsApp, Messenger, ...), else chat.
func digitalChannel(v string) string {
	switch ccaas.Lower(v) {
	case "email", "e-mail":
		return "email"
	case "sms", "mms", "whatsapp", "messenger", "facebook", "instagram", "rcs", "apple_messages", "line", "viber", "telegram":
		return "message"
	}
	return "chat"
}
