package webhook

import "go.opentelemetry.io/collector/pdata/plog"

// Decoder turns a vendor's webhook body into the records its receiver
// makes of it, without authenticating the request: `consentry policy
// explain` and the load generator use it to see exactly what an event
// becomes. Each receiver's NewDecoder builds one from the receiver's
// configuration, so that every setting that shapes records (the tenants'
// subject salts, consent attribute mappings, ...) applies as in the
// collector.
type Decoder interface {
	// Routes names the routes Decode understands, for help texts.
	Routes() []string
	// Decode decodes body as delivered to route, attributed to tenant (""
	// takes the tenant from the event, as in insecure mode). Subjects of a
	// tenant the configuration does not list are keyed with the receiver's
	// subject_salt.
	Decode(route string, body []byte, tenant string) (plog.Logs, error)
}
