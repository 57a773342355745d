// Command consentry-loadgen sends realistic, correctly signed contact-center
// webhooks (Genesys Cloud, Twilio, Twilio Segment, Talkdesk) to a running
// Consentry collector, at a fixed rate or flat out, and reports the achieved
// rate, status codes, transport errors and latency percentiles.
//
//	consentry-loadgen [flags]
//
// By default it targets config/local.yaml's listeners (`make run`) and reads
// the secrets as scripts/run-local.sh does: from the environment
// (CONSENTRY_GENESYS_SECRET, CONSENTRY_TWILIO_AUTH_TOKEN,
// CONSENTRY_SEGMENT_SHARED_SECRET, CONSENTRY_SEGMENT_WRITE_KEY,
// CONSENTRY_TALKDESK_TOKEN, the tenant ids), else from data/local.env.
// Secrets are never printed.
//
// What is sent, per vendor (one event per request, every event id unique):
//
//	genesys   POST /genesys/eventbridge, header X-API-Key: conversation customer.start (forwarded)
//	          or a real-time transcription segment (quarantined: Genesys AI, no consent)
//	twilio    POST /twilio/voice/status and /twilio/voice/recording, X-Twilio-Signature over
//	          public URL + sorted form: call completed (forwarded) or recording completed
//	          (quarantined: recording without a consent basis)
//	segment   POST /segment/webhook, X-Signature (hex HMAC-SHA1), or -segment-route tracking:
//	          POST /v1/track with the write key: a track call whose Analytics consent is
//	          granted (forwarded) or refused (quarantined)
//	talkdesk  POST /talkdesk/webhook/<trigger>, header X-Consentry-Token: inbound call starts
//	          (forwarded) or voicemail transcription available (quarantined)
//
// "Forwarded" and "quarantined" are what config/policy.yaml decides for the
// local tenants; -forward sets the share of forwarded events. Subjects are
// Californian phone numbers (and e-mail addresses for Segment), -subjects
// of them.
//
// Scheduling is open-loop: at -rate N, event i is due at start + i/N and its
// latency runs from that due time, so time spent waiting for one of the
// -connections keep-alive connections counts (no coordinated omission).
// With -rate 0 it sends flat out and latency is the service time. The run
// ends after -n events or -duration, whichever comes first; events due
// during -warmup are sent but not measured. Targets must be loopback
// addresses unless -allow-remote is given.
//
// -otlp sends the same events as OTLP/JSON log export requests (one record
// each, exactly as the vendor's receiver would have produced it) to a stock
// OTLP/HTTP receiver at -otlp-url, for a baseline.
//
// Examples:
//
//	consentry-loadgen -rate 5000 -duration 30s -connections 64
//	consentry-loadgen -rate 0 -n 100000 -vendors genesys=3,segment=1 -forward 1 -json
//	consentry-loadgen -otlp -otlp-url http://127.0.0.1:4318 -rate 5000 -duration 30s
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"github.com/consentry/consentry/cmd/consentry-loadgen/loadgen"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// run is the command; it returns the exit code (0 ok, 1 the run failed,
// 2 usage).
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("consentry-loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		rate        = fs.Float64("rate", 1000, "events per second, scheduled open-loop; 0 = flat out")
		conns       = fs.Int("connections", 32, "keep-alive connections (and requests in flight at most)")
		count       = fs.Int64("n", 0, "stop after this many events (0: no bound)")
		duration    = fs.Duration("duration", 10*time.Second, "stop scheduling after this long (0: no bound; -n or -duration required)")
		warmup      = fs.Duration("warmup", 0, "send but do not measure the events due in this first period")
		timeout     = fs.Duration("timeout", 10*time.Second, "per-request timeout")
		vendors     = fs.String("vendors", "genesys,twilio,segment,talkdesk", "vendors to send, optionally weighted: genesys=3,segment=1")
		forward     = fs.Float64("forward", 0.5, "share of events the example policy forwards (the rest it quarantines), 0..1")
		subjects    = fs.Int("subjects", 10000, "distinct subjects (phone numbers / e-mail addresses)")
		dups        = fs.Float64("duplicates", 0, "share of sends that repeat an earlier event byte for byte (vendor retries)")
		segRoute    = fs.String("segment-route", loadgen.SegmentWebhook, "segment: webhook (X-Signature) or tracking (/v1/track with the write key)")
		genesysURL  = fs.String("genesys", loadgen.DefaultTargets.Genesys, "genesys receiver base URL")
		twilioURL   = fs.String("twilio", loadgen.DefaultTargets.Twilio, "twilio receiver base URL")
		segmentURL  = fs.String("segment", loadgen.DefaultTargets.Segment, "segment receiver base URL")
		talkdeskURL = fs.String("talkdesk", loadgen.DefaultTargets.Talkdesk, "talkdesk receiver base URL")
		publicURL   = fs.String("twilio-public-url", "", "the twilio receiver's public_url, which signatures cover (default: $CONSENTRY_TWILIO_PUBLIC_URL, else -twilio)")
		genHeader   = fs.String("genesys-header", "X-API-Key", "genesys receiver's api_key_header")
		tdHeader    = fs.String("talkdesk-header", "X-Consentry-Token", "talkdesk receiver's token_header")
		otlp        = fs.Bool("otlp", false, "send the same events as OTLP/JSON to a stock OTLP/HTTP receiver instead")
		otlpURL     = fs.String("otlp-url", loadgen.DefaultTargets.OTLP, "OTLP/HTTP receiver base URL (events go to /v1/logs)")
		envFile     = fs.String("env-file", "data/local.env", "file of CONSENTRY_* secrets (as run-local.sh writes); the environment wins")
		allowRemote = fs.Bool("allow-remote", false, "allow targets that are not loopback addresses")
		asJSON      = fs.Bool("json", false, "print the result as JSON")
		seed        = fs.Uint64("seed", 0, "random seed (0: random)")
	)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: consentry-loadgen [flags]\n\nSends signed vendor webhooks to a Consentry collector (see the package documentation).\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "consentry-loadgen: unexpected arguments %q\n", fs.Args())
		return 2
	}
	weights, err := parseVendors(*vendors)
	if err != nil {
		fmt.Fprintf(stderr, "consentry-loadgen: -vendors: %v\n", err)
		return 2
	}
	file, err := loadgen.ReadEnvFile(*envFile)
	if err != nil {
		fmt.Fprintf(stderr, "consentry-loadgen: %v\n", err)
		return 2
	}
	pub := *publicURL
	if pub == "" {
		pub = loadgen.TwilioPublicURLFrom(getenv, file)
	}
	g, err := loadgen.NewGenerator(loadgen.GenOptions{
		Secrets:           loadgen.SecretsFrom(getenv, file),
		Targets:           loadgen.Targets{Genesys: *genesysURL, Twilio: *twilioURL, Segment: *segmentURL, Talkdesk: *talkdeskURL, OTLP: *otlpURL},
		TwilioPublicURL:   pub,
		Vendors:           weights,
		ForwardFraction:   *forward,
		Subjects:          *subjects,
		DuplicateFraction: *dups,
		SegmentRoute:      *segRoute,
		GenesysHeader:     *genHeader,
		TalkdeskHeader:    *tdHeader,
		OTLP:              *otlp,
		AllowRemote:       *allowRemote,
		Seed:              *seed,
	})
	if err != nil {
		fmt.Fprintf(stderr, "consentry-loadgen: %v\n", err)
		return 2
	}
	res, err := loadgen.Run(ctx, g, loadgen.RunOptions{
		Rate: *rate, Connections: *conns, Count: *count, Duration: *duration, Warmup: *warmup, Timeout: *timeout,
	})
	if err != nil && res == nil {
		fmt.Fprintf(stderr, "consentry-loadgen: %v\n", err)
		return 2
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			fmt.Fprintf(stderr, "consentry-loadgen: %v\n", err)
			return 1
		}
	} else {
		res.WriteText(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "consentry-loadgen: interrupted: %v\n", err)
		return 1
	}
	return 0
}

// parseVendors reads "genesys,twilio" (equal weights) or "genesys=3,segment=1".
func parseVendors(s string) (map[string]float64, error) {
	out := map[string]float64{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, w, hasW := strings.Cut(part, "=")
		weight := 1.0
		if hasW {
			var err error
			if weight, err = strconv.ParseFloat(w, 64); err != nil || weight < 0 {
				return nil, fmt.Errorf("weight of %s: %q is not a non-negative number", name, w)
			}
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("%s listed twice", name)
		}
		out[name] = weight
	}
	if len(out) == 0 {
		return nil, errors.New("no vendor given")
	}
	return out, nil
}
