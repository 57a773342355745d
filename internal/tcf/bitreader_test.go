package tcf

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBitReader(t *testing.T) {
	// "DBACNY" is GPP header example 2 from the GPP Consent String
	// Specification: 000011 000001 000000 000010 001101 011000.
	r, err := NewBitReader("DBACNY")
	require.NoError(t, err)
	assert.Equal(t, 36, r.Len())
	assert.Equal(t, 3, r.ReadInt(6))
	assert.Equal(t, 1, r.ReadInt(6))
	assert.Equal(t, 2, r.ReadInt(12))
	assert.False(t, r.ReadBool())
	assert.Equal(t, uint64(0b011), r.ReadUint(3))
	assert.Equal(t, 28, r.Pos())
	assert.Equal(t, 8, r.Remaining())
	r.Skip(1)
	assert.Equal(t, uint64(0b1011), r.ReadUint(4))
	assert.Equal(t, uint64(0), r.ReadUint(0))
	assert.Equal(t, uint64(0), r.ReadUint(3)) // padding
	require.NoError(t, r.Err())
	assert.Equal(t, 0, r.Remaining())

	// Sticky truncation.
	assert.False(t, r.ReadBool())
	assert.ErrorIs(t, r.Err(), ErrTruncated)
	assert.Equal(t, uint64(0), r.ReadUint(1))
	assert.ErrorIs(t, r.Err(), ErrTruncated)
}

func TestBitReaderWideReads(t *testing.T) {
	// 11 characters = 66 bits of all ones.
	r, err := NewBitReader("___________")
	require.NoError(t, err)
	assert.Equal(t, ^uint64(0), r.ReadUint(64))
	assert.Equal(t, uint64(3), r.ReadUint(2))
	require.NoError(t, r.Err())

	r, err = NewBitReader("___________")
	require.NoError(t, err)
	r.Skip(3)
	assert.Equal(t, uint64(1)<<36-1, r.ReadUint(36))
	assert.Equal(t, uint64(1)<<27-1, r.ReadUint(27))
	assert.Equal(t, uint64(0), r.ReadUint(1))
	assert.ErrorIs(t, r.Err(), ErrTruncated)

	r, _ = NewBitReader("AAAA")
	r.ReadUint(65)
	assert.Error(t, r.Err())
	r, _ = NewBitReader("AAAAAAAA")
	r.ReadInt(32)
	assert.Error(t, r.Err())
	r, _ = NewBitReader("AAAA")
	r.Skip(-1)
	assert.ErrorIs(t, r.Err(), ErrTruncated)
}

func TestBitReaderBase64(t *testing.T) {
	for _, s := range []string{"", "A", "AB=", "AB==", "-_", "Zz09"} {
		_, err := NewBitReader(s)
		assert.NoError(t, err, s)
	}
	for _, s := range []string{"=", "A===", "A=B", "+", "/", " ", "A\n", "\x00", "é"} {
		_, err := NewBitReader(s)
		if s == "=" {
			// A lone pad strips to the empty string.
			assert.NoError(t, err)
			continue
		}
		assert.ErrorIs(t, err, ErrInvalidBase64, "%q", s)
	}
	r, err := NewBitReader("AB==")
	require.NoError(t, err)
	assert.Equal(t, 12, r.Len())

	// Reset reuses the reader.
	require.NoError(t, r.Reset("_"))
	assert.Equal(t, 63, r.ReadInt(6))
	assert.Error(t, r.Reset("*"))
	assert.Equal(t, 0, r.Len())
}
