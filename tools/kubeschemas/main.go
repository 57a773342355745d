// Command kubeschemas writes the JSON schemas that kubeconform validates
// the Helm chart's manifests against (deploy/helm/schemas), generated from
// the Go types of k8s.io/api at the version pinned in tools/go.mod, so that
// CI needs no network: strict schemas (an unknown field is an error), the
// types of every field, and as required the fields whose JSON name has no
// omitempty (how k8s.io/api marks them). kubeconform's file names:
// <kind>[-<group>]-<version>.json.
//
//	cd tools && go run ./kubeschemas -out ../deploy/helm/schemas
package main

import (
	"encoding/json"
	"flag"
	"log"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
)

type kind struct {
	group, version, kind string
	obj                  any
}

var kinds = []kind{
	{"apps", "v1", "Deployment", appsv1.Deployment{}},
	{"apps", "v1", "StatefulSet", appsv1.StatefulSet{}},
	{"", "v1", "Service", corev1.Service{}},
	{"", "v1", "ConfigMap", corev1.ConfigMap{}},
	{"", "v1", "Secret", corev1.Secret{}},
	{"", "v1", "ServiceAccount", corev1.ServiceAccount{}},
	{"", "v1", "PersistentVolumeClaim", corev1.PersistentVolumeClaim{}},
	{"policy", "v1", "PodDisruptionBudget", policyv1.PodDisruptionBudget{}},
}

var (
	quantityT = reflect.TypeFor[resource.Quantity]()
	intstrT   = reflect.TypeFor[intstr.IntOrString]()
	timeT     = reflect.TypeFor[metav1.Time]()
	microT    = reflect.TypeFor[metav1.MicroTime]()
	rawT      = reflect.TypeFor[runtime.RawExtension]()
	durationT = reflect.TypeFor[metav1.Duration]()
)

type schema = map[string]any

func main() {
	out := flag.String("out", "../deploy/helm/schemas", "directory to write")
	flag.Parse()
	if err := os.MkdirAll(*out, 0o755); err != nil {
		log.Fatal(err)
	}
	for _, k := range kinds {
		s := of(reflect.TypeOf(k.obj), map[reflect.Type]bool{})
		props := s["properties"].(schema)
		apiVersion := k.version
		suffix := "-" + k.version
		if k.group != "" {
			apiVersion = k.group + "/" + k.version
			suffix = "-" + strings.Split(k.group, ".")[0] + "-" + k.version
		}
		props["apiVersion"] = schema{"type": "string", "enum": []string{apiVersion}}
		props["kind"] = schema{"type": "string", "enum": []string{k.kind}}
		s["required"] = union(s["required"], "apiVersion", "kind")
		s["x-kubernetes-group-version-kind"] = []schema{{"group": k.group, "version": k.version, "kind": k.kind}}
		b, err := json.MarshalIndent(s, "", "  ")
		if err != nil {
			log.Fatal(err)
		}
		name := filepath.Join(*out, strings.ToLower(k.kind)+suffix+".json")
		if err := os.WriteFile(name, append(b, '\n'), 0o644); err != nil {
			log.Fatal(err)
		}
	}
}

func union(v any, more ...string) []string {
	have, _ := v.([]string)
	for _, m := range more {
		found := false
		for _, h := range have {
			found = found || h == m
		}
		if !found {
			have = append(have, m)
		}
	}
	sort.Strings(have)
	return have
}

func nullable(t string) []string { return []string{t, "null"} }

// of returns the schema of t; seen breaks recursion (a recursive type
// below itself accepts anything).
func of(t reflect.Type, seen map[reflect.Type]bool) schema {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t {
	case quantityT:
		return schema{"oneOf": []schema{{"type": "string"}, {"type": "number"}}}
	case intstrT:
		return schema{"oneOf": []schema{{"type": "string"}, {"type": "integer"}}}
	case timeT, microT:
		return schema{"type": nullable("string"), "format": "date-time"}
	case durationT:
		return schema{"type": "string"}
	case rawT:
		return schema{}
	}
	switch t.Kind() {
	case reflect.String:
		return schema{"type": nullable("string")}
	case reflect.Bool:
		return schema{"type": nullable("boolean")}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return schema{"type": nullable("integer")}
	case reflect.Float32, reflect.Float64:
		return schema{"type": nullable("number")}
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return schema{"type": nullable("string")} // []byte: base64
		}
		return schema{"type": nullable("array"), "items": of(t.Elem(), seen)}
	case reflect.Map:
		return schema{"type": nullable("object"), "additionalProperties": of(t.Elem(), seen)}
	case reflect.Interface:
		return schema{}
	case reflect.Struct:
		if seen[t] {
			return schema{}
		}
		seen[t] = true
		defer delete(seen, t)
		props := schema{}
		var required []string
		fields(t, seen, props, &required)
		s := schema{"type": nullable("object"), "properties": props, "additionalProperties": false}
		if len(required) > 0 {
			sort.Strings(required)
			s["required"] = required
		}
		return s
	}
	log.Fatalf("unsupported type %s", t)
	return nil
}

// fields adds the JSON fields of struct t (inlined embedded structs
// included) to props.
func fields(t reflect.Type, seen map[reflect.Type]bool, props schema, required *[]string) {
	for f := range t.Fields() {
		tag := f.Tag.Get("json")
		if tag == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && (name == "" || strings.Contains(opts, "inline")) {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				fields(ft, seen, props, required)
				continue
			}
		}
		if name == "" {
			name = f.Name
		}
		props[name] = of(f.Type, seen)
		if !strings.Contains(opts, "omitempty") && !strings.Contains(opts, "omitzero") && f.Type.Kind() != reflect.Pointer {
			*required = append(*required, name)
		}
	}
}
