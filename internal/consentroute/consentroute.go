// Package consentroute is how a consent processor learns that a
// consent_router follows it in the same collector. The router registers
// itself at Start against the collector's component.Host; the processor
// asks at its own Start, which the collector calls after its downstream
// components (connectors included) have started. The collector hands each
// component a wrapper of its one host (a struct embedding *Host and the
// component's instance id): the key is the host it wraps. A processor that finds no
// router applies its `unrouted` behaviour: by default it never passes on the
// body of a record it decided to quarantine (docs/design/unrouted.md).
package consentroute

import (
	"reflect"
	"sync"

	"go.opentelemetry.io/collector/component"
)

var (
	mu      sync.Mutex
	routers = map[any]map[component.ID]int{}
)

// key is what identifies the collector of host: the pointer a host wrapper
// embeds as its field Host (the collector's per-component HostWrapper), or
// host itself; ok is false for a host that cannot key a map (none of the
// collector's), which is never routed: fail closed.
func key(host component.Host) (k any, ok bool) {
	if host == nil {
		return nil, false
	}
	v := reflect.ValueOf(host)
	if v.Kind() == reflect.Pointer && !v.IsNil() && v.Elem().Kind() == reflect.Struct {
		if f, found := v.Elem().Type().FieldByName("Host"); found && f.Anonymous && f.Type.Kind() == reflect.Pointer {
			if inner := v.Elem().FieldByIndex(f.Index); !inner.IsNil() {
				return inner.Interface(), true
			}
		}
	}
	if !v.Type().Comparable() {
		return nil, false
	}
	return host, true
}

// Register records that the consent_router id runs in the collector of
// host, until the returned function is called (the router's Shutdown).
func Register(host component.Host, id component.ID) (unregister func()) {
	k, ok := key(host)
	if !ok {
		return func() {}
	}
	mu.Lock()
	defer mu.Unlock()
	if routers[k] == nil {
		routers[k] = map[component.ID]int{}
	}
	routers[k][id]++
	var once sync.Once
	return func() {
		once.Do(func() {
			mu.Lock()
			defer mu.Unlock()
			if routers[k][id]--; routers[k][id] <= 0 {
				delete(routers[k], id)
			}
			if len(routers[k]) == 0 {
				delete(routers, k)
			}
		})
	}
}

// Routers returns the consent_routers registered in the collector of host.
func Routers(host component.Host) []component.ID {
	k, ok := key(host)
	if !ok {
		return nil
	}
	mu.Lock()
	defer mu.Unlock()
	out := make([]component.ID, 0, len(routers[k]))
	for id := range routers[k] {
		out = append(out, id)
	}
	return out
}
