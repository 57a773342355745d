package tcf

import (
	"errors"
	"fmt"
)

// ErrInvalidBase64 reports a character outside the base64url alphabet
// (RFC 4648 §5: A-Z a-z 0-9 '-' '_'), or misplaced '=' padding.
var ErrInvalidBase64 = errors.New("invalid base64url")

// ErrTruncated reports that a field extends past the end of the encoded bits.
var ErrTruncated = errors.New("bit string truncated")

// base64url reverse lookup; 0xFF marks characters outside the alphabet.
var b64Index = func() (t [256]byte) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := range t {
		t[i] = 0xFF
	}
	for i := 0; i < len(alphabet); i++ {
		t[alphabet[i]] = byte(i)
	}
	return t
}()

// BitReader reads big-endian, left-to-right bit fields out of a base64url
// string in which every character carries 6 bits, which is how both TC
// strings and GPP header/section strings are encoded.
//
// Errors are sticky: once a read runs past the end, that read and every
// later one returns zero and Err reports ErrTruncated. Callers can therefore
// read a group of fields and check Err once.
type BitReader struct {
	buf []byte // bits packed MSB-first
	n   int    // number of valid bits (6 per input character)
	pos int
	err error
}

// NewBitReader decodes s, a base64url string without or with trailing '='
// padding (at most two characters), into a bit stream. It fails with
// ErrInvalidBase64 if s contains any other character. An empty s yields a
// reader with no bits.
func NewBitReader(s string) (*BitReader, error) {
	r := &BitReader{}
	if err := r.Reset(s); err != nil {
		return nil, err
	}
	return r, nil
}

// Reset makes r read the bits of s, reusing r's buffer. See NewBitReader.
func (r *BitReader) Reset(s string) error {
	for pad := 0; pad < 2 && len(s) > 0 && s[len(s)-1] == '='; pad++ {
		s = s[:len(s)-1]
	}
	nbits := 6 * len(s)
	nbytes := (nbits + 7) / 8
	if cap(r.buf) >= nbytes {
		r.buf = r.buf[:nbytes]
	} else {
		r.buf = make([]byte, nbytes)
	}
	r.n, r.pos, r.err = 0, 0, nil

	var acc uint32
	accBits := 0
	out := 0
	for i := 0; i < len(s); i++ {
		v := b64Index[s[i]]
		if v == 0xFF {
			r.buf = r.buf[:0]
			return fmt.Errorf("%w: character %q at offset %d", ErrInvalidBase64, s[i], i)
		}
		acc = acc<<6 | uint32(v)
		accBits += 6
		if accBits >= 8 {
			accBits -= 8
			r.buf[out] = byte(acc >> accBits)
			out++
			acc &= 1<<accBits - 1
		}
	}
	if accBits > 0 {
		r.buf[out] = byte(acc << (8 - accBits))
	}
	r.n = nbits
	return nil
}

// Len returns the total number of bits in the stream.
func (r *BitReader) Len() int { return r.n }

// Pos returns the number of bits consumed so far.
func (r *BitReader) Pos() int { return r.pos }

// Remaining returns the number of bits not yet consumed.
func (r *BitReader) Remaining() int { return r.n - r.pos }

// Err returns the first error encountered by a read, or nil.
func (r *BitReader) Err() error { return r.err }

// fail records ErrTruncated for a read of n bits and exhausts the reader.
func (r *BitReader) fail(n int) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: need %d bits at bit %d, have %d", ErrTruncated, n, r.pos, r.n-r.pos)
	}
	r.pos = r.n
}

// ReadUint reads an n-bit unsigned big-endian integer, 0 <= n <= 64.
func (r *BitReader) ReadUint(n int) uint64 {
	if r.err != nil {
		return 0
	}
	if n < 0 || n > 64 {
		r.err = fmt.Errorf("tcf: BitReader.ReadUint: invalid width %d", n)
		return 0
	}
	if n > r.n-r.pos {
		r.fail(n)
		return 0
	}
	var v uint64
	pos := r.pos
	for n > 0 {
		off := pos & 7
		avail := 8 - off
		take := avail
		if n < take {
			take = n
		}
		b := uint64(r.buf[pos>>3]) >> (avail - take) & (1<<take - 1)
		v = v<<take | b
		pos += take
		n -= take
	}
	r.pos = pos
	return v
}

// ReadInt reads an n-bit unsigned integer, 0 <= n <= 31, as an int.
func (r *BitReader) ReadInt(n int) int {
	if n > 31 {
		if r.err == nil {
			r.err = fmt.Errorf("tcf: BitReader.ReadInt: invalid width %d", n)
		}
		return 0
	}
	return int(r.ReadUint(n))
}

// ReadBool reads one bit; 1 is true.
func (r *BitReader) ReadBool() bool {
	if r.err != nil {
		return false
	}
	if r.pos >= r.n {
		r.fail(1)
		return false
	}
	b := r.buf[r.pos>>3]>>(7-r.pos&7)&1 == 1
	r.pos++
	return b
}

// Skip discards n bits.
func (r *BitReader) Skip(n int) {
	if r.err != nil {
		return
	}
	if n < 0 || n > r.n-r.pos {
		r.fail(n)
		return
	}
	r.pos += n
}
