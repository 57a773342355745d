package twilioreceiver

import (
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/consentry/consentry/internal/ccaas"
	"github.com/consentry/consentry/internal/subject"
)

// Programmable Messaging: the incoming message webhook ("A message comes
// in") and message status callbacks (form), and the Event Streams
// messaging events (com.twilio.messaging.*, camelCase data). Both shapes
// are read through the classic parameter names.

// esMessagingNames maps classic messaging parameter names to the keys of
// the Event Streams messaging data (Messaging.InboundMessageV1,
// Messaging.MessageStatus).
var esMessagingNames = map[string]string{
	"AccountSid": "accountSid", "MessageSid": "messageSid", "MessagingServiceSid": "messagingServiceSid",
	"From": "from", "To": "to", "Body": "body", "NumMedia": "numMedia", "OptOutType": "optOutType",
	"FromCountry": "fromCountry", "FromState": "fromState", "ToCountry": "toCountry", "ToState": "toState",
	"MessageStatus": "messageStatus", "RawDlrDoneDate": "rawDlrDoneDate",
}

// messageKeywords classifies message bodies that are subscription keywords.
type messageKeywords struct {
	signal string            // the consent signal name opt-outs and opt-ins become
	words  map[string]string // normalised keyword -> ccaas.Keyword*
}

func newMessageKeywords(cfg MessagingConfig) messageKeywords {
	k := messageKeywords{signal: cfg.ConsentSignal, words: map[string]string{}}
	if k.signal == "" {
		k.signal = "messaging"
	}
	for _, set := range [...]struct {
		kind  string
		words []string
	}{{ccaas.KeywordOptOut, cfg.OptOutKeywords}, {ccaas.KeywordOptIn, cfg.OptInKeywords}, {ccaas.KeywordHelp, cfg.HelpKeywords}} {
		for _, w := range set.words {
			if n := normKeyword(w); n != "" {
				k.words[n] = set.kind
			}
		}
	}
	return k
}

// classify says whether an inbound message is a keyword: Twilio's own
// OptOutType (STOP, START, HELP; sent when Advanced Opt-Out matched one of
// its keywords, custom ones included) decides first, then the whole body.
func (k messageKeywords) classify(optOutType, body string) string {
	switch strings.ToUpper(strings.TrimSpace(optOutType)) {
	case "STOP":
		return ccaas.KeywordOptOut
	case "START":
		return ccaas.KeywordOptIn
	case "HELP":
		return ccaas.KeywordHelp
	}
	if len(body) > 64 { // keywords are single words; do not fold long messages
		return ""
	}
	return k.words[normKeyword(body)]
}

// messageStatusEvents maps message status values (lower case) to event
// names. queued, accepted, scheduled, sending and sent describe the
// outbound message itself; the others are receipts of it.
var messageStatusEvents = map[string]string{
	"accepted": ccaas.EventMessageSent, "scheduled": ccaas.EventMessageSent, "queued": ccaas.EventMessageSent,
	"sending": ccaas.EventMessageSent, "sent": ccaas.EventMessageSent,
	"delivered": ccaas.EventMessageReceipt, "undelivered": ccaas.EventMessageReceipt, "failed": ccaas.EventMessageReceipt,
	"read": ccaas.EventMessageReceipt, "canceled": ccaas.EventMessageReceipt, "partially_delivered": ccaas.EventMessageReceipt,
}

// messageStatus returns a message's status (MessageStatus, else the older
// SmsStatus), lower-cased.
func messageStatus(f fields) string {
	return ccaas.Lower(firstNonEmpty(f.get("MessageStatus"), f.get("SmsStatus")))
}

// isInboundMessage reports whether a messaging webhook is an incoming
// message rather than a status callback of an outbound one.
func isInboundMessage(f fields) bool {
	st := messageStatus(f)
	return st == "received" || st == "receiving"
}

// messageSid returns the message's SID under any of the names Twilio uses.
func messageSid(f fields) string {
	return firstNonEmpty(f.get("MessageSid"), f.get("SmsMessageSid"), f.get("SmsSid"), f.get("sid"))
}

// message normalises one Programmable Messaging event: an incoming message
// (the customer is From) or a status callback of an outbound message (the
// customer is To). An incoming opt-out or opt-in keyword becomes a consent
// event carrying the consent signal, with the message as its evidence.
// status overrides the status the fields carry (Event Streams names it in
// the event type).
func (n *normalizer) message(attrs pcommon.Map, k *subject.Keyer, f fields, inbound bool, status string) event {
	attrs.PutStr(ccaas.AttrChannel, "message")
	from, to := f.get("From"), f.get("To")
	ccaas.PutStr(attrs, ccaas.AttrMessageType, messageType(from, to, f.get("ChannelPrefix"), f.get("NumMedia")))
	ccaas.PutStr(attrs, ccaas.AttrInteractionID, messageSid(f))
	if inbound {
		attrs.PutStr(ccaas.AttrDirection, "inbound")
		setVendorJurisdiction(attrs, f.get("FromCountry"), f.get("FromState"))
		messageHints(attrs, f, "From", "To")
		setSubject(attrs, k, from, anyID)
		name := ccaas.EventMessageReceived
		switch kw := n.keywords.classify(f.get("OptOutType"), f.get("Body")); kw {
		case ccaas.KeywordOptOut, ccaas.KeywordOptIn:
			attrs.PutStr(ccaas.AttrMessageKeyword, kw)
			attrs.PutStr(ccaas.AttrConsentSignalPrefix+n.keywords.signal, kw)
			name = ccaas.EventConsentUpdated
		case ccaas.KeywordHelp:
			attrs.PutStr(ccaas.AttrMessageKeyword, kw)
		}
		return event{name: name, occurred: parseTime(f.get("timestamp"))}
	}
	attrs.PutStr(ccaas.AttrDirection, "outbound")
	setVendorJurisdiction(attrs, f.get("ToCountry"), f.get("ToState"))
	messageHints(attrs, f, "To", "From")
	setSubject(attrs, k, to, anyID)
	if status == "" {
		status = messageStatus(f)
	}
	name, ok := messageStatusEvents[status]
	if !ok {
		name = ccaas.EventVendor
	}
	occurred := parseTime(firstNonEmpty(f.get("timestamp"), f.get("dateUpdated")))
	if occurred.IsZero() {
		occurred = parseDlrDone(f.get("RawDlrDoneDate"))
	}
	return event{name: name, occurred: occurred}
}

// messageType names the messaging channel: the address prefix Twilio uses
// for WhatsApp, RCS and Messenger senders (or the ChannelPrefix parameter),
// else MMS when media came with the message, else SMS.
func messageType(from, to, channelPrefix, numMedia string) string {
	for _, addr := range [...]string{channelPrefix + ":", from, to} {
		if i := strings.IndexByte(addr, ':'); i > 0 {
			switch p := strings.ToLower(addr[:i]); p {
			case "whatsapp", "rcs", "messenger":
				return p
			}
		}
	}
	if n, err := strconv.Atoi(strings.TrimSpace(numMedia)); err == nil && n > 0 {
		return "mms"
	}
	return "sms"
}

// parseDlrDone reads RawDlrDoneDate, the carrier's delivery time as
// YYMMDDhhmm (UTC), on delivered and undelivered status callbacks.
func parseDlrDone(s string) time.Time {
	s = strings.TrimSpace(s)
	if len(s) != 10 {
		return time.Time{}
	}
	t, err := time.Parse("0601021504", s)
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

// messageHints adds the location hints of a message: the customer's and the
// business number's (whose place counts too), from Twilio's geographic
// fields; customer and business name the From/To side of each.
func messageHints(attrs pcommon.Map, f fields, customer, business string) {
	ccaas.AddVendorFieldHint(attrs, ccaas.PartyCustomer, f.get(customer+"Country"), f.get(customer+"State"))
	ccaas.AddVendorFieldHint(attrs, ccaas.PartyBusiness, f.get(business+"Country"), f.get(business+"State"))
	ccaas.SetBusinessNumber(attrs, f.get(business))
}
