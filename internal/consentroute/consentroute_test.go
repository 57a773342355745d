package consentroute

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/collector/component"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type host struct {
	component.Host
	n int // not zero-sized: two hosts are two keys
}

type uncomparable struct {
	component.Host
	f []int
}

func TestRegister(t *testing.T) {
	a, b := &host{n: 1}, &host{n: 2}
	r := component.MustNewID("consent_router")
	assert.Empty(t, Routers(a))
	un := Register(a, r)
	un2 := Register(a, r) // the same router in two pipelines' graphs
	assert.Equal(t, []component.ID{r}, Routers(a))
	assert.Empty(t, Routers(b), "a router of another collector does not count")
	un()
	un() // idempotent
	assert.Equal(t, []component.ID{r}, Routers(a))
	un2()
	assert.Empty(t, Routers(a))
	assert.Empty(t, routers, "nothing left behind")
}

func TestUncomparableHostIsNeverRouted(t *testing.T) {
	h := uncomparable{f: []int{1}}
	un := Register(h, component.MustNewID("consent_router"))
	defer un()
	assert.Empty(t, Routers(h))
	assert.Empty(t, Routers(nil))
}

// Host names the embedded field as the collector's does.
type Host = host

// wrapper is the shape of the collector's per-component HostWrapper.
type wrapper struct {
	*Host
	InstanceID int
}

func TestWrappersOfOneHostAreOneCollector(t *testing.T) {
	h := &host{n: 7}
	r := component.MustNewID("consent_router")
	un := Register(&wrapper{Host: h, InstanceID: 1}, r)
	defer un()
	assert.Equal(t, []component.ID{r}, Routers(&wrapper{Host: h, InstanceID: 2}), "another component's wrapper of the same host")
	assert.Equal(t, []component.ID{r}, Routers(h))
	assert.Empty(t, Routers(&wrapper{Host: &host{n: 8}}), "a wrapper of another host")
}
