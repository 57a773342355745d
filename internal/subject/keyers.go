package subject

// Keyers holds the Keyer of every tenant of a receiver: a tenant's own salt
// when it has one, else the receiver-wide default. Receivers build it once
// at start; it is read-only afterwards and safe for concurrent use.
type Keyers struct {
	def      *Keyer
	byTenant map[string]*Keyer
}

// NewKeyers starts a set whose default is keyed by defaultSalt; an empty
// defaultSalt means there is no default.
func NewKeyers(defaultSalt []byte) (*Keyers, error) {
	ks := &Keyers{byTenant: map[string]*Keyer{}}
	if len(defaultSalt) > 0 {
		k, err := NewKeyer(defaultSalt)
		if err != nil {
			return nil, err
		}
		ks.def = k
	}
	return ks, nil
}

// Add registers a tenant, with its own salt or (empty salt) the default,
// and returns the tenant's Keyer (nil when neither exists).
func (ks *Keyers) Add(tenant string, salt []byte) (*Keyer, error) {
	k := ks.def
	if len(salt) > 0 {
		var err error
		if k, err = NewKeyer(salt); err != nil {
			return nil, err
		}
	}
	ks.byTenant[tenant] = k
	return k, nil
}

// Alias makes another tenant id (a Twilio subaccount, say) use keyer.
func (ks *Keyers) Alias(tenant string, keyer *Keyer) { ks.byTenant[tenant] = keyer }

// Resolve returns the tenant's Keyer. A tenant that was never added gets
// the default only when allowDefault is set (unauthenticated local testing),
// otherwise nil: no subject key rather than a key under the wrong salt.
func (ks *Keyers) Resolve(tenant string, allowDefault bool) *Keyer {
	if k := ks.byTenant[tenant]; k != nil {
		return k
	}
	if allowDefault {
		return ks.def
	}
	return nil
}
