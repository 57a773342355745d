package auditapi

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	consentryv1 "github.com/consentry/consentry/api/consentry/v1"
	"github.com/consentry/consentry/internal/policy"
)

// restRoute is the REST mapping of a method (its google.api.http rule).
type restRoute struct {
	spec methodSpec
	// verb and path as in the rule: GET, /v1/quarantine/records/{id}.
	verb, path string
	// body: the request is the JSON body; the query names nothing.
	body bool
	// params are the query parameters it takes, sorted.
	params []string
}

// restRoutes are the REST routes by HTTP method and grpc-gateway pattern
// ("GET /v1/quarantine/records/{id=*}"), read from the service's
// descriptors so that they cannot drift from the gateway.
// (Built at first use: methodSpecs is filled by an init function.)
var restRoutes = sync.OnceValue(func() map[string]*restRoute {
	out := map[string]*restRoute{}
	sd := consentryv1.File_consentry_v1_audit_proto.Services().ByName("AuditService")
	capture := regexp.MustCompile(`\{([a-z_.]+)\}`)
	for i := range sd.Methods().Len() {
		md := sd.Methods().Get(i)
		rule, _ := proto.GetExtension(md.Options(), annotations.E_Http).(*annotations.HttpRule)
		spec, ok := methodSpecs[servicePrefix+string(md.Name())]
		if rule == nil || !ok {
			panic("auditapi: no REST rule or authorisation rule for " + md.Name())
		}
		rt := &restRoute{spec: spec, body: rule.GetBody() != ""}
		switch {
		case rule.GetGet() != "":
			rt.verb, rt.path = http.MethodGet, rule.GetGet()
		case rule.GetPost() != "":
			rt.verb, rt.path = http.MethodPost, rule.GetPost()
		default:
			panic("auditapi: unexpected REST verb of " + md.Name())
		}
		if !rt.body {
			inPath := capture.FindAllStringSubmatch(rt.path, -1)
			fields := md.Input().Fields()
			for j := range fields.Len() {
				name := string(fields.Get(j).Name())
				if !slices.ContainsFunc(inPath, func(m []string) bool { return m[1] == name }) {
					rt.params = append(rt.params, name)
				}
			}
			slices.Sort(rt.params)
		}
		out[rt.verb+" "+capture.ReplaceAllString(rt.path, "{$1=*}")] = rt
	}
	return out
})

// routeOf is the route a request matched in the gateway (nil: not a
// method's route, e.g. /openapi.json).
func routeOf(r *http.Request) *restRoute {
	pat, ok := runtime.HTTPPattern(r.Context())
	if !ok {
		return nil
	}
	return restRoutes()[r.Method+" "+pat.String()]
}

// checkQuery refuses a query parameter the route does not take, naming
// it: a misspelt filter (?tenat=x) would otherwise be ignored and select
// everything. A route whose request is the body takes none.
func (rt *restRoute) checkQuery(rawQuery string, extra ...string) error {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil // the gateway answers that one
	}
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range q {
			if !yield(k) {
				return
			}
		}
	})
	if _, ok := csvListings[rt.path]; ok && q.Has("format") {
		// A valid format was taken off before the gateway (serveCSV).
		return status.Errorf(codes.InvalidArgument, "format: %q is not one of %s, %s (give it once)", clip(q.Get("format"), 64), formatCSV, formatJSON)
	}
	md := rt.spec.newReq().ProtoReflect().Descriptor()
	var unknown []string
	for _, k := range keys {
		if !slices.Contains(extra, k) && (rt.body || !rt.takes(md, k)) {
			unknown = append(unknown, strconv.Quote(clip(k, 64)))
		}
	}
	what := "unknown query parameter " + strings.Join(unknown, ", ")
	if len(unknown) > 1 {
		what = "unknown query parameters " + strings.Join(unknown, ", ")
	}
	switch {
	case len(unknown) == 0:
		return nil
	case rt.body:
		return status.Errorf(codes.InvalidArgument, "%s: %s %s takes its request as a JSON body and no query parameters", what, rt.verb, rt.path)
	}
	takes := append(slices.Clone(rt.params), extra...)
	if _, ok := csvListings[rt.path]; ok {
		takes = append(takes, "format (csv, json)")
	}
	return status.Errorf(codes.InvalidArgument, "%s: %s %s takes %s", what, rt.verb, rt.path, strings.Join(takes, ", "))
}

// takes reports whether a query parameter (a field's proto or JSON name,
// nested fields joined by dots) names a field the route's query sets.
func (rt *restRoute) takes(md protoreflect.MessageDescriptor, name string) bool {
	if !knownField(md, name) {
		return false
	}
	first, _, _ := strings.Cut(name, ".")
	fd := md.Fields().ByName(protoreflect.Name(first))
	if fd == nil {
		fd = md.Fields().ByJSONName(first)
	}
	return fd != nil && slices.Contains(rt.params, string(fd.Name()))
}

// checkRoute refuses, before the gateway decodes it, a call with a query
// parameter its route does not take: authenticated, authorised and logged
// like any call the gateway refuses (gatewayRejected), answered with 400
// naming the parameter.
func (s *Service) checkRoute(mux *runtime.ServeMux, next runtime.HandlerFunc) runtime.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request, pathParams map[string]string) {
		rt := routeOf(r)
		if rt == nil {
			next(w, r, pathParams)
			return
		}
		if err := rt.checkQuery(r.URL.RawQuery); err != nil {
			err = s.gatewayRejected(r.Context(), rt.spec, r, err)
			_, m := runtime.MarshalerForRequest(mux, r)
			s.httpErrorHandler(r.Context(), mux, m, w, r, err)
			return
		}
		next(w, r, pathParams)
	}
}

// knownValue refuses a filter value that no record can have: a typo
// would otherwise select nothing and look like an answer.
func knownValue(param, v string, known []string) error {
	if v == "" || slices.Contains(known, v) {
		return nil
	}
	if len(known) > 12 {
		return status.Errorf(codes.InvalidArgument, "%s: %q is not a known value (%d known, e.g. %s; docs/policy.md lists the reason codes)", param, clip(v, 64), len(known), strings.Join(known[:6], ", "))
	}
	return status.Errorf(codes.InvalidArgument, "%s: %q is not one of %s", param, clip(v, 64), strings.Join(known, ", "))
}

// componentReasons are the reason codes components other than the consent
// processor write to quarantined records (the quarantine exporter's and the
// consent router's; a test keeps them in step with their constants).
var componentReasons = []string{"quarantine.missing_identity", "quarantine.no_reasons", "router.invalid_decision"}

// knownReasons are the reason codes a quarantined record can carry.
var knownReasons = func() []string {
	out := slices.Clone(componentReasons)
	for _, r := range policy.Reasons {
		out = append(out, string(r.Code))
	}
	return out
}()

// accessMethods are the method names of access-log entries: the methods,
// and "several" (unauthenticated calls aggregated per source).
var accessMethods = sync.OnceValue(func() []string {
	out := []string{"several"}
	for _, m := range methodSpecs {
		out = append(out, m.name)
	}
	slices.Sort(out)
	return out
})
