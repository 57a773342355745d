package main

import (
	"sort"
	"strings"

	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/consentry/consentry/internal/ccaas"
	"github.com/consentry/consentry/receiver/genesysreceiver"
	"github.com/consentry/consentry/receiver/segmentreceiver"
	"github.com/consentry/consentry/receiver/talkdeskreceiver"
	"github.com/consentry/consentry/receiver/twilioreceiver"
)

// decodeInput is what a vendor decoder gets.
type decodeInput struct {
	Route  string
	Body   []byte
	Tenant string // "" lets the decoder take it from the event
	Salt   []byte
	// Receiver is the vendor receiver's section of the collector
	// configuration (nil if it has none), for settings such as
	// consent_attributes that shape the records.
	Receiver *confmap.Conf
}

// vendorDecoder turns a vendor's webhook body into the records its
// receiver would produce. Decode rejects routes it does not know; Routes
// is for help texts.
type vendorDecoder struct {
	Routes       []string
	DefaultRoute string
	Decode       func(in decodeInput) (plog.Logs, error)
}

// decoders has one entry per vendor receiver. Adding a vendor is one entry
// wrapping its receiver's exported DecodeEvents.
var decoders = map[string]vendorDecoder{
	ccaas.VendorGenesys: {
		Routes:       genesysreceiver.Routes,
		DefaultRoute: "eventbridge",
		Decode: func(in decodeInput) (plog.Logs, error) {
			return genesysreceiver.DecodeEvents(in.Route, in.Body, in.Tenant, in.Salt, receiverMap(in.Receiver, "consent_attributes"))
		},
	},
	ccaas.VendorTwilio: {
		Routes:       twilioreceiver.Routes,
		DefaultRoute: "eventstreams",
		Decode: func(in decodeInput) (plog.Logs, error) {
			return twilioreceiver.DecodeEvents(in.Route, in.Body, in.Tenant, in.Salt, receiverMap(in.Receiver, "consent_attributes"))
		},
	},
	ccaas.VendorSegment: {
		Routes:       segmentreceiver.Routes,
		DefaultRoute: "webhook",
		Decode: func(in decodeInput) (plog.Logs, error) {
			return segmentreceiver.DecodeEvents(in.Route, in.Body, in.Tenant, in.Salt)
		},
	},
	ccaas.VendorTalkdesk: {
		Routes:       talkdeskreceiver.Routes,
		DefaultRoute: "events",
		Decode: func(in decodeInput) (plog.Logs, error) {
			return talkdeskreceiver.DecodeEvents(in.Route, in.Body, in.Tenant, in.Salt, receiverMap(in.Receiver, "consent_fields"))
		},
	},
}

func vendorNames() []string {
	out := make([]string, 0, len(decoders))
	for v := range decoders {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

// receiverMap reads a string map setting from a receiver's section.
func receiverMap(conf *confmap.Conf, key string) map[string]string {
	if conf == nil {
		return nil
	}
	raw, ok := conf.Get(key).(map[string]any)
	if !ok {
		return nil
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		if s, ok := v.(string); ok {
			out[k] = s
		}
	}
	return out
}

// receiverString reads a string setting from a receiver's section.
func receiverString(conf *confmap.Conf, key string) string {
	if conf == nil {
		return ""
	}
	s, _ := conf.Get(key).(string)
	return s
}

func routeHelp() string {
	var parts []string
	for _, v := range vendorNames() {
		parts = append(parts, v+": "+strings.Join(decoders[v].Routes, ", "))
	}
	return strings.Join(parts, "; ")
}
