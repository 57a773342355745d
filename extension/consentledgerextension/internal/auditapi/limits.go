package auditapi

import (
	"fmt"
	"math"
	"sync"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

// RateLimit bounds how often one identity may call a method: Burst calls at
// once, then one more every Every; and one call at a time.
type RateLimit struct {
	Burst int
	Every time.Duration
}

// DefaultVerifyLimit bounds VerifyLedger, which reads the whole ledger
// (about 25 µs a record, minutes on a large ledger): 4 calls, then one a
// minute, per identity.
var DefaultVerifyLimit = RateLimit{Burst: 4, Every: time.Minute}

// identityLimiter is a token bucket per identity, plus a flag for the call
// in flight.
type identityLimiter struct {
	limit RateLimit
	mu    sync.Mutex
	state map[string]*bucket
}

type bucket struct {
	tokens   float64
	at       time.Time
	inFlight bool
}

// maxLimited bounds the identities tracked: identities are configured
// (tokens and certificate mappings), so this is only a safety net.
const maxLimited = 10000

func newIdentityLimiter(l RateLimit) *identityLimiter {
	return &identityLimiter{limit: l, state: map[string]*bucket{}}
}

// acquire takes a token for identity, or says how long to wait. release
// must be called when the call ends.
func (l *identityLimiter) acquire(identity string, now time.Time) (release func(), wait time.Duration, busy bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.state[identity]
	if b == nil {
		if len(l.state) >= maxLimited {
			for k, v := range l.state {
				if !v.inFlight {
					delete(l.state, k)
				}
			}
		}
		b = &bucket{tokens: float64(l.limit.Burst), at: now}
		l.state[identity] = b
	}
	if b.inFlight {
		return nil, 0, true
	}
	b.tokens = math.Min(float64(l.limit.Burst), b.tokens+float64(now.Sub(b.at))/float64(l.limit.Every))
	b.at = now
	if b.tokens < 1 {
		return nil, time.Duration((1 - b.tokens) * float64(l.limit.Every)), false
	}
	b.tokens--
	b.inFlight = true
	return func() {
		l.mu.Lock()
		b.inFlight = false
		l.mu.Unlock()
	}, 0, false
}

// rateLimited is the error of a call over its limit: ResourceExhausted
// (HTTP 429) with a RetryInfo (and Retry-After over REST).
func rateLimited(method string, l RateLimit, wait time.Duration, busy bool) error {
	msg := fmt.Sprintf("%s may be called %d times, then once every %s, by one identity; retry in %s", method, l.Burst, l.Every, wait.Round(time.Second))
	if busy {
		wait = time.Second
		msg = fmt.Sprintf("a %s call of this identity is still running; retry when it has finished", method)
	}
	st := status.New(codes.ResourceExhausted, msg)
	if d, err := st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(wait)}); err == nil {
		return d.Err()
	}
	return st.Err()
}

// retryAfter returns the RetryInfo delay of a status in whole seconds (at
// least 1), or 0.
func retryAfter(st *status.Status) int {
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok && ri.GetRetryDelay() != nil {
			return max(1, int(math.Ceil(ri.GetRetryDelay().AsDuration().Seconds())))
		}
	}
	return 0
}
