package tcf

import (
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"sort"
)

// ErrVendorRange reports a vendor range entry that is inconsistent: a vendor
// ID of 0, an EndVendorId smaller than its StartOrOnlyVendorId, or (in the
// vendor consent, legitimate interest and disclosed vendor sections) an ID
// greater than the section's MaxVendorId.
var ErrVendorRange = errors.New("invalid vendor range")

// Bit widths from the TC string specification.
const (
	maxVendorIDBits = 16
	numEntriesBits  = 12
	vendorIDBits    = 16
	minRangeEntry   = 1 + vendorIDBits // IsARange + StartOrOnlyVendorId
)

// idRange is an inclusive range of vendor IDs.
type idRange struct{ lo, hi int }

// VendorSet is a set of vendor IDs decoded from a TC string section that is
// either a BitField or a Range encoding. The zero value is an empty set.
//
// The set is stored in its encoded shape (bits for a BitField, merged sorted
// ranges for a Range section), so decoding cost is proportional to the
// encoded size, never to the width of the ranges.
type VendorSet struct {
	maxID        int
	rangeEncoded bool
	bits         []uint64  // BitField: bit (id-1)%64 of word (id-1)/64
	ranges       []idRange // Range: sorted by lo, non-overlapping, non-adjacent
}

// MaxVendorID returns the MaxVendorId field of the section (for publisher
// restrictions, which have no such field, the largest ID in the set).
func (v VendorSet) MaxVendorID() int { return v.maxID }

// IsRangeEncoded reports whether the section used Range encoding
// (IsRangeEncoding = 1) rather than a BitField.
func (v VendorSet) IsRangeEncoded() bool { return v.rangeEncoded }

// Contains reports whether vendor id is in the set. IDs outside
// 1..MaxVendorID are never contained.
func (v VendorSet) Contains(id int) bool {
	if id < 1 || id > v.maxID {
		return false
	}
	if !v.rangeEncoded {
		i := id - 1
		return v.bits[i>>6]>>(i&63)&1 == 1
	}
	// First range whose upper bound is >= id.
	k := sort.Search(len(v.ranges), func(k int) bool { return v.ranges[k].hi >= id })
	return k < len(v.ranges) && v.ranges[k].lo <= id
}

// Len returns the number of vendor IDs in the set.
func (v VendorSet) Len() int {
	n := 0
	for _, w := range v.bits {
		n += bits.OnesCount64(w)
	}
	for _, r := range v.ranges {
		n += r.hi - r.lo + 1
	}
	return n
}

// IDs returns the vendor IDs in the set in ascending order.
func (v VendorSet) IDs() []int {
	ids := make([]int, 0, v.Len())
	for wi, w := range v.bits {
		for w != 0 {
			b := bits.TrailingZeros64(w)
			ids = append(ids, wi*64+b+1)
			w &= w - 1
		}
	}
	for _, r := range v.ranges {
		for id := r.lo; id <= r.hi; id++ {
			ids = append(ids, id)
		}
	}
	return ids
}

// readVendorSection decodes MaxVendorId, IsRangeEncoding and the BitField or
// Range section that follows, as used by the core string's Vendor Consent and
// Vendor Legitimate Interest sections and by the Disclosed Vendors segment.
func readVendorSection(r *BitReader) (VendorSet, error) {
	maxID := r.ReadInt(maxVendorIDBits)
	isRange := r.ReadBool()
	if err := r.Err(); err != nil {
		return VendorSet{}, err
	}
	vs := VendorSet{maxID: maxID, rangeEncoded: isRange}
	if !isRange {
		if r.Remaining() < maxID {
			return VendorSet{}, fmt.Errorf("%w: BitField needs MaxVendorId=%d bits, have %d", ErrTruncated, maxID, r.Remaining())
		}
		words := make([]uint64, (maxID+63)/64)
		for i := range words {
			n := min(64, maxID-i*64)
			// The first bit read is vendor 1; reverse so it lands in bit 0.
			words[i] = bits.Reverse64(r.ReadUint(n) << (64 - n))
		}
		vs.bits = words
		return vs, r.Err()
	}
	n := r.ReadInt(numEntriesBits)
	ranges, err := readRangeEntries(r, n, maxID)
	if err != nil {
		return VendorSet{}, err
	}
	vs.ranges = ranges
	return vs, nil
}

// readRangeEntries reads n RangeEntry records (IsARange, StartOrOnlyVendorId,
// optional EndVendorId) and returns them sorted and merged. If maxID >= 0 every
// ID must be <= maxID.
func readRangeEntries(r *BitReader, n, maxID int) ([]idRange, error) {
	if err := r.Err(); err != nil {
		return nil, err
	}
	// Every entry needs at least 17 bits: reject impossible counts before
	// allocating anything.
	if n*minRangeEntry > r.Remaining() {
		return nil, fmt.Errorf("%w: %d range entries need at least %d bits, have %d", ErrTruncated, n, n*minRangeEntry, r.Remaining())
	}
	if n == 0 {
		return nil, nil
	}
	ranges := make([]idRange, 0, n)
	sorted := true
	for i := 0; i < n; i++ {
		isRange := r.ReadBool()
		lo := r.ReadInt(vendorIDBits)
		hi := lo
		if isRange {
			hi = r.ReadInt(vendorIDBits)
		}
		if err := r.Err(); err != nil {
			return nil, err
		}
		switch {
		case lo == 0:
			return nil, fmt.Errorf("%w: vendor ID 0 in range entry %d", ErrVendorRange, i)
		case hi < lo:
			return nil, fmt.Errorf("%w: EndVendorId %d < StartOrOnlyVendorId %d in range entry %d", ErrVendorRange, hi, lo, i)
		case maxID >= 0 && hi > maxID:
			return nil, fmt.Errorf("%w: vendor ID %d exceeds MaxVendorId %d in range entry %d", ErrVendorRange, hi, maxID, i)
		}
		if len(ranges) > 0 && lo < ranges[len(ranges)-1].lo {
			sorted = false
		}
		ranges = append(ranges, idRange{lo, hi})
	}
	if !sorted {
		slices.SortFunc(ranges, func(a, b idRange) int { return a.lo - b.lo })
	}
	// Merge overlapping and adjacent ranges in place.
	out := ranges[:1]
	for _, rg := range ranges[1:] {
		last := &out[len(out)-1]
		if rg.lo <= last.hi+1 {
			last.hi = max(last.hi, rg.hi)
			continue
		}
		out = append(out, rg)
	}
	return out, nil
}
