package auditapi

import (
	"encoding/json"
	"net/url"
	"slices"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/grpc-ecosystem/grpc-gateway/v2/utilities"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/consentry/consentry/internal/subject"
)

// describeQuery renders, for the access log, the query of a REST call that
// the gateway refused before decoding it: the parameters that name fields
// of the request with their decoded values (redacted as every request is),
// the names of those whose value could not be read, and how many
// parameters named no field. Never the raw query: its values are whatever
// the caller sent, personal data and credentials included.
func describeQuery(spec methodSpec, rawQuery string) (target, reason string) {
	msg := spec.newReq()
	var unreadable []string
	unknown := 0
	for rawQuery != "" {
		var kv string
		kv, rawQuery, _ = strings.Cut(rawQuery, "&")
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		name, err := url.QueryUnescape(k)
		if err != nil || !knownField(msg.ProtoReflect().Descriptor(), name) {
			unknown++
			continue
		}
		val, err := url.QueryUnescape(v)
		one := spec.newReq()
		if err == nil {
			err = runtime.PopulateQueryParameters(one, url.Values{name: {val}}, utilities.NewDoubleArray(nil))
		}
		if err != nil {
			if !slices.Contains(unreadable, name) {
				unreadable = append(unreadable, name)
			}
			continue
		}
		proto.Merge(msg, one)
	}
	query, reason := describe(msg)
	out := struct {
		Query      json.RawMessage `json:"query,omitempty"`
		Unreadable []string        `json:"unreadable,omitempty"`
		Unknown    int             `json:"unknown_parameters,omitempty"`
		Note       string          `json:"note"`
	}{Unreadable: unreadable, Unknown: unknown, Note: "rejected before decoding"}
	if query != "" && query != "{}" && json.Valid([]byte(query)) {
		out.Query = json.RawMessage(query)
	}
	b, err := json.Marshal(out)
	if err != nil {
		return "rejected before decoding", reason
	}
	return clip(string(b), maxTarget), reason
}

// knownField reports whether a query parameter name (a field's proto or
// JSON name, nested fields joined by dots) names a field of md.
func knownField(md protoreflect.MessageDescriptor, name string) bool {
	parts := strings.Split(name, ".")
	for i, p := range parts {
		fd := md.Fields().ByName(protoreflect.Name(p))
		if fd == nil {
			fd = md.Fields().ByJSONName(p)
		}
		if fd == nil {
			return false
		}
		if i == len(parts)-1 {
			return true
		}
		if fd.Kind() != protoreflect.MessageKind || fd.IsList() || fd.IsMap() {
			return false
		}
		md = fd.Message()
	}
	return false
}

// redact replaces personal data in a request before it is logged: raw
// identifiers always, and any other string that is a phone number or an
// e-mail address (a subject's identifier sent where a tenant, subject key
// or record id belongs). The reason, which the caller writes to explain
// the call, and the identity filter of the access log, which names API
// callers, are kept as they are.
func redact(m protoreflect.Message) {
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.Kind() == protoreflect.StringKind && fd.IsList():
			l := v.List()
			for i := range l.Len() {
				if s := l.Get(i).String(); redactString(fd, s) != s {
					l.Set(i, protoreflect.ValueOfString(redactString(fd, s)))
				}
			}
		case fd.Kind() == protoreflect.StringKind && !fd.IsMap():
			if s := v.String(); redactString(fd, s) != s {
				m.Set(fd, protoreflect.ValueOfString(redactString(fd, s)))
			}
		case fd.Kind() == protoreflect.MessageKind && !fd.IsList() && !fd.IsMap():
			redact(v.Message())
		}
		return true
	})
}

const redacted = "[redacted]"

func redactString(fd protoreflect.FieldDescriptor, s string) string {
	switch {
	case s == "":
		return s
	case fd.Name() == "raw_identifier":
		return redacted
	case fd.Name() == "reason" || fd.Name() == "identity":
		return s
	}
	if t, _, err := subject.Detect(s); err == nil && (t == subject.IDTypePhone || t == subject.IDTypeEmail) {
		return redacted
	}
	return s
}
