// Package decoders gives the tools (consentry policy explain, the load
// generator) the decoder of each vendor receiver, built from a receiver's
// configuration: one webhook.Decoder per vendor, so that a tool decodes an
// event exactly as the running receiver would.
package decoders

import (
	"fmt"
	"sort"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/receiver"

	"github.com/consentry/consentry/internal/ccaas"
	"github.com/consentry/consentry/internal/webhook"
	"github.com/consentry/consentry/receiver/genesysreceiver"
	"github.com/consentry/consentry/receiver/segmentreceiver"
	"github.com/consentry/consentry/receiver/talkdeskreceiver"
	"github.com/consentry/consentry/receiver/twilioreceiver"
)

// vendor is one vendor's receiver: its factory (for its default
// configuration) and its decoder.
type vendor struct {
	factory      receiver.Factory
	newDecoder   func(component.Config) (webhook.Decoder, error)
	defaultRoute string
}

var vendors = map[string]vendor{
	ccaas.VendorGenesys:  {genesysreceiver.NewFactory(), genesysreceiver.NewDecoder, "eventbridge"},
	ccaas.VendorTwilio:   {twilioreceiver.NewFactory(), twilioreceiver.NewDecoder, "eventstreams"},
	ccaas.VendorSegment:  {segmentreceiver.NewFactory(), segmentreceiver.NewDecoder, "webhook"},
	ccaas.VendorTalkdesk: {talkdeskreceiver.NewFactory(), talkdeskreceiver.NewDecoder, "events"},
}

// Vendors names the vendors, sorted.
func Vendors() []string {
	out := make([]string, 0, len(vendors))
	for v := range vendors {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

// DefaultRoute is the vendor's main route ("" for an unknown vendor).
func DefaultRoute(name string) string { return vendors[name].defaultRoute }

// New builds the decoder of the vendor's receiver configured by section
// (the receiver's section of a collector configuration; nil: the
// defaults), so that every setting that shapes records applies. salt, when
// set, replaces the receiver's subject_salt.
func New(name string, section *confmap.Conf, salt string) (webhook.Decoder, error) {
	v, ok := vendors[name]
	if !ok {
		return nil, fmt.Errorf("no decoder for vendor %q (have %v)", name, Vendors())
	}
	cfg := v.factory.CreateDefaultConfig()
	if section != nil {
		if err := section.Unmarshal(cfg); err != nil {
			return nil, fmt.Errorf("receivers::%s: %w", v.factory.Type(), err)
		}
	}
	if salt != "" {
		if err := confmap.NewFromStringMap(map[string]any{"subject_salt": salt}).Unmarshal(cfg); err != nil {
			return nil, err
		}
	}
	return v.newDecoder(cfg)
}
