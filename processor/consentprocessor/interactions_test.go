package consentprocessor

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestInteractionSlots: entries live in a ring of slots found by their
// key's hash; a full shard overwrites its oldest slot; two keys with the
// same hash never return each other's entry, and evicting the older does
// not unindex the newer.
func TestInteractionSlots(t *testing.T) {
	s := &interactionShard{index: map[uint64]int32{}, max: 2}
	a, b, c := interactionKey{"v", "t", "a"}, interactionKey{"v", "t", "b"}, interactionKey{"v", "t", "c"}
	s.insert(a, 1).subject = "sa"
	s.insert(b, 42).subject = "sb"
	require.Equal(t, "sa", s.get(a, 1).subject)
	require.Equal(t, "sb", s.get(b, 42).subject)

	// c collides with b: it takes the index entry, b is forgotten, and c
	// goes into the oldest slot (a's), evicting a.
	s.insert(c, 42).subject = "sc"
	assert.Nil(t, s.get(a, 1), "the oldest was evicted")
	assert.Nil(t, s.get(b, 42), "a colliding key never returns another's entry")
	require.NotNil(t, s.get(c, 42))
	assert.Equal(t, "sc", s.get(c, 42).subject)
	assert.Len(t, s.index, 1)

	// Evicting b's slot (the oldest now) must leave c indexed.
	s.insert(a, 1)
	require.NotNil(t, s.get(c, 42), "evicting the older of two colliding keys keeps the newer")
	assert.Equal(t, "sc", s.get(c, 42).subject)
	assert.Len(t, s.slots, 2, "the ring never grows past max")
}

// TestInteractionMemoryBounded: the memory keeps at most its maximum and
// forgets the oldest interactions first.
func TestInteractionMemoryBounded(t *testing.T) {
	m := newInteractionMemory(64, 1<<62)
	for i := range 1000 {
		subject := "s"
		var country, region, source string
		var hints []string
		m.observe(interactionKey{"v", "t", string(rune('A'+i%26)) + string(rune(i))}, &subject,
			place{&country, &region, &source, &hints}, int64(i+1), true)
	}
	assert.LessOrEqual(t, m.len(), 64)
	assert.Positive(t, m.len())
}
