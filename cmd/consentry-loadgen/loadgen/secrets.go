package loadgen

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"strings"
)

var envName = regexp.MustCompile(`^CONSENTRY_[A-Z0-9_]+$`)

// ReadEnvFile reads NAME=value lines of CONSENTRY_* variables, as
// scripts/run-local.sh writes data/local.env. Other lines are ignored. A
// missing file is not an error (nil map).
func ReadEnvFile(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), "=")
		if !ok || !envName.MatchString(name) {
			continue
		}
		out[name] = value
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return out, nil
}

// Local tenant ids that scripts/run-local.sh uses when none is set.
const (
	DefaultGenesysOrgID      = "00000000-0000-4000-8000-000000000000"
	DefaultTwilioAccountSID  = "AC00000000000000000000000000000000"
	DefaultTalkdeskAccountID = "local-talkdesk-account"
)

// SecretsFrom resolves the secrets the way scripts/run-local.sh does: the
// environment first, then the env file's values, then run-local.sh's
// placeholder tenant ids. getenv is os.Getenv in the command.
func SecretsFrom(getenv func(string) string, file map[string]string) Secrets {
	get := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		if v := file[name]; v != "" {
			return v
		}
		return def
	}
	return Secrets{
		GenesysAPIKey:       get("CONSENTRY_GENESYS_SECRET", ""),
		GenesysOrgID:        get("CONSENTRY_GENESYS_ORG_ID", DefaultGenesysOrgID),
		TwilioAuthToken:     get("CONSENTRY_TWILIO_AUTH_TOKEN", ""),
		TwilioAccountSID:    get("CONSENTRY_TWILIO_ACCOUNT_SID", DefaultTwilioAccountSID),
		SegmentSharedSecret: get("CONSENTRY_SEGMENT_SHARED_SECRET", ""),
		SegmentWriteKey:     get("CONSENTRY_SEGMENT_WRITE_KEY", ""),
		TalkdeskToken:       get("CONSENTRY_TALKDESK_TOKEN", ""),
		TalkdeskAccountID:   get("CONSENTRY_TALKDESK_ACCOUNT_ID", DefaultTalkdeskAccountID),
		SubjectSalt:         get("CONSENTRY_SUBJECT_SALT", ""),
	}
}

// TwilioPublicURLFrom returns CONSENTRY_TWILIO_PUBLIC_URL from the
// environment or the env file ("" if neither has it).
func TwilioPublicURLFrom(getenv func(string) string, file map[string]string) string {
	if v := getenv("CONSENTRY_TWILIO_PUBLIC_URL"); v != "" {
		return v
	}
	return file["CONSENTRY_TWILIO_PUBLIC_URL"]
}
