package gpp

import (
	"errors"
	"fmt"
)

// USPrivacy is a US Privacy string ("1YNN"): the IAB CCPA Compliance
// Framework's signal, GPP section 6 (uspv1), and the value CMPs still send
// standalone as us_privacy. It is four characters: the specification
// version (1), then Notice, OptOutSale and LspaCovered, each 'Y' (yes), 'N'
// (no) or '-' (not applicable).
type USPrivacy struct {
	Version     int
	Notice      byte // explicit notice / opportunity to opt out was given
	OptOutSale  byte // the consumer opted out of the sale of personal information
	LspaCovered byte // the publisher is a signatory to the IAB LSPA and the transaction is covered
}

// ErrUSPrivacy reports a US Privacy string that is not "1" followed by
// three of 'Y', 'N', '-'.
var ErrUSPrivacy = errors.New("invalid US Privacy string")

// DecodeUSPrivacy parses a US Privacy string. Letters are accepted in
// either case (and reported in upper case); anything else than version 1
// and Y/N/- fails with ErrUSPrivacy.
func DecodeUSPrivacy(s string) (*USPrivacy, error) {
	if len(s) != 4 {
		return nil, fmt.Errorf("%w: %q is not 4 characters", ErrUSPrivacy, limit(s))
	}
	if s[0] != '1' {
		return nil, fmt.Errorf("%w: version %q (only 1 is defined)", ErrUSPrivacy, s[:1])
	}
	u := &USPrivacy{Version: 1}
	for i, dst := range []*byte{&u.Notice, &u.OptOutSale, &u.LspaCovered} {
		c := s[i+1]
		switch c {
		case 'Y', 'N', '-':
		case 'y', 'n':
			c -= 'a' - 'A'
		default:
			return nil, fmt.Errorf("%w: character %q at offset %d is not Y, N or -", ErrUSPrivacy, c, i+1)
		}
		*dst = c
	}
	return u, nil
}

// OptedOutOfSale reports whether OptOutSale is 'Y'.
func (u *USPrivacy) OptedOutOfSale() bool { return u.OptOutSale == 'Y' }

// String returns the string form ("1YNN").
func (u *USPrivacy) String() string {
	return fmt.Sprintf("%d%c%c%c", u.Version, u.Notice, u.OptOutSale, u.LspaCovered)
}

func limit(s string) string {
	if len(s) > 16 {
		return s[:16] + "..."
	}
	return s
}
