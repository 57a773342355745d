package tenant

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"go.opentelemetry.io/collector/config/configopaque"
	"go.yaml.in/yaml/v3"

	"github.com/consentry/consentry/internal/subject"
)

// A tenants file declares each tenant once, for the receiver of its vendor
// (credentials, subject salt) and for the consent policy (consent scope,
// notice, disclosed processors, ...):
//
//	tenants:
//	  - vendor: twilio
//	    id: AC0123...
//	    name: Acme
//	    subject_salt: ${file:/run/secrets/acme-salt}
//	    credentials:                  # the receiver's tenant keys
//	      auth_tokens: [${env:ACME_TWILIO_TOKEN}]
//	    consent_scope: acme           # the policy's tenant keys
//	    notice: {id: acme-privacy, version: "3", processors: [twilio]}
//
// The path may be a directory: its *.yaml and *.yml files, in name order,
// are read as one file.

// Vendors are the vendors a tenants file may name, one per receiver.
var Vendors = []string{"genesys", "segment", "talkdesk", "twilio"}

// FileTenant is one tenant of a tenants file.
type FileTenant struct {
	// Vendor (genesys, segment, talkdesk, twilio) and ID (ccaas.tenant.id).
	Vendor, ID string
	// SubjectSalt is the tenant's own subject salt ("" for the receiver's).
	SubjectSalt configopaque.String
	// Credentials are the receiver's tenant keys, without its id key and
	// subject_salt (Decode adds them).
	Credentials map[string]any
	// Policy are the policy's tenant keys, vendor and id included.
	Policy map[string]any
	// secrets are every string under credentials and subject_salt, to be
	// kept out of error messages (Redact).
	secrets []string
}

// File is a parsed tenants file: every reference resolved, every tenant
// checked for what the file alone can say.
type File struct {
	Path    string
	Tenants []FileTenant
	// Digest is of the file's bytes and of the secret files it names: the
	// version in force.
	Digest [sha256.Size]byte
	// refs are the secret files it names, read again by Watcher to see a
	// rotated secret.
	refs []string
}

// OfVendor returns the tenants of one vendor, in file order.
func (f *File) OfVendor(vendor string) []FileTenant {
	if f == nil {
		return nil
	}
	var out []FileTenant
	for _, t := range f.Tenants {
		if t.Vendor == vendor {
			out = append(out, t)
		}
	}
	return out
}

// maxSecretFile bounds a ${file:..} reference: a secret, not a document.
const maxSecretFile = 64 << 10

// Env looks up an environment variable (os.LookupEnv in production).
type Env func(name string) (string, bool)

// LoadFile reads and parses the tenants file or directory at path,
// resolving ${env:NAME} with env (os.LookupEnv when nil).
func LoadFile(path string, env Env) (*File, error) {
	srcs, err := readSources(path)
	if err != nil {
		return nil, err
	}
	f, err := parse(path, srcs, env)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// source is one file of a tenants file or directory.
type source struct {
	name string
	b    []byte
}

func readSources(path string) ([]source, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("tenants file: %w", err)
	}
	if !fi.IsDir() {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("tenants file: %w", err)
		}
		return []source{{path, b}}, nil
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, fmt.Errorf("tenants directory: %w", err)
	}
	var out []source
	for _, e := range entries {
		ext := filepath.Ext(e.Name())
		if e.IsDir() || (ext != ".yaml" && ext != ".yml") || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		name := filepath.Join(path, e.Name())
		b, err := os.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("tenants directory: %w", err)
		}
		out = append(out, source{name, b})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("tenants directory %s holds no .yaml or .yml file", path)
	}
	return out, nil
}

// digestOf hashes the sources and the secret files they name (a file that
// could not be read, nil, counts as missing).
func digestOf(srcs []source, secrets map[string][]byte) [sha256.Size]byte {
	h := sha256.New()
	for _, s := range srcs {
		fmt.Fprintf(h, "%d:%s\x00%d:", len(s.name), s.name, len(s.b))
		h.Write(s.b)
	}
	names := make([]string, 0, len(secrets))
	for name := range secrets {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		b := secrets[name]
		if b == nil {
			fmt.Fprintf(h, "\xff%d:%s\x00missing", len(name), name)
			continue
		}
		fmt.Fprintf(h, "\xff%d:%s\x00%d:", len(name), name, len(b))
		h.Write(b)
	}
	var d [sha256.Size]byte
	h.Sum(d[:0])
	return d
}

// readSecrets reads the secret files a previous parse named, for the digest.
func readSecrets(names []string) map[string][]byte {
	out := make(map[string][]byte, len(names))
	for _, name := range names {
		b, err := readSecretFile(name)
		if err != nil {
			b = nil
		}
		out[name] = b
	}
	return out
}

var (
	refPattern = regexp.MustCompile(`^\$\{([a-z]+):([^}]*)\}$`)
	envName    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	topKeys    = []string{"tenants"}
)

// parse decodes and checks the sources. It returns the digest of what it
// read (the sources and the secret files they name) and those files' names,
// also when the file is broken: a broken file is fixed by a change to
// either.
func parse(path string, srcs []source, env Env) (*File, error) {
	if env == nil {
		env = os.LookupEnv
	}
	f := &File{Path: path}
	r := &resolver{env: env, read: map[string][]byte{}}
	var errs []error
	seen := map[[2]string]string{}
	for _, src := range srcs {
		var doc map[string]any
		dec := yaml.NewDecoder(bytes.NewReader(src.b))
		if err := dec.Decode(&doc); err != nil {
			if errors.Is(err, io.EOF) {
				// Taken as no tenants, a truncated file would drop them all.
				errs = append(errs, fmt.Errorf("%s: the file is empty (a tenants file holds tenants: [..])", src.name))
				continue
			}
			errs = append(errs, fmt.Errorf("%s: %s", src.name, yamlError(err)))
			continue
		}
		for k := range doc {
			if !slices.Contains(topKeys, k) {
				errs = append(errs, fmt.Errorf("%s: unknown key %q (a tenants file holds only tenants)", src.name, k))
			}
		}
		list, ok := doc["tenants"].([]any)
		if doc["tenants"] != nil && !ok {
			errs = append(errs, fmt.Errorf("%s: tenants must be a list", src.name))
			continue
		}
		for i, item := range list {
			where := fmt.Sprintf("%s: tenants[%d]", src.name, i)
			t, err := r.tenant(where, item)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			key := [2]string{t.Vendor, t.ID}
			if first, dup := seen[key]; dup {
				errs = append(errs, fmt.Errorf("%s: tenant %s/%s is declared twice (also %s)", where, t.Vendor, t.ID, first))
				continue
			}
			seen[key] = where
			f.Tenants = append(f.Tenants, t)
		}
	}
	errs = append(errs, r.errs...)
	for name := range r.read {
		f.refs = append(f.refs, name)
	}
	sort.Strings(f.refs)
	f.Digest = digestOf(srcs, r.read)
	return f, errors.Join(errs...)
}

// yamlError keeps a YAML error's position and drops the value it quotes,
// which may be a secret.
func yamlError(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "`"); i >= 0 {
		msg = msg[:i] + "(value withheld)"
	}
	return msg
}

// resolver resolves the references of one parse.
type resolver struct {
	env  Env
	read map[string][]byte // secret files read, by path
	errs []error
}

// tenant checks and resolves one entry of a tenants list.
func (r *resolver) tenant(where string, item any) (FileTenant, error) {
	m, ok := item.(map[string]any)
	if !ok {
		return FileTenant{}, fmt.Errorf("%s: a tenant is a mapping (vendor, id, credentials, ...)", where)
	}
	var t FileTenant
	var errs []error
	t.Vendor, _ = m["vendor"].(string)
	t.ID, _ = m["id"].(string)
	if !slices.Contains(Vendors, t.Vendor) {
		errs = append(errs, fmt.Errorf("%s: vendor must be one of %s", where, strings.Join(Vendors, ", ")))
	}
	if t.ID == "" {
		errs = append(errs, fmt.Errorf("%s: id must be set (a string: the ccaas.tenant.id)", where))
	} else {
		where += " (" + t.Vendor + "/" + t.ID + ")"
	}
	t.Policy = map[string]any{}
	for k, v := range m {
		switch k {
		case "credentials":
			c, ok := v.(map[string]any)
			if !ok {
				errs = append(errs, fmt.Errorf("%s.credentials must be a mapping of the %s receiver's tenant keys", where, t.Vendor))
				continue
			}
			t.Credentials = r.resolve(where+".credentials", c, &t.secrets).(map[string]any)
		case "subject_salt":
			s, ok := r.resolve(where+".subject_salt", v, &t.secrets).(string)
			if !ok {
				errs = append(errs, fmt.Errorf("%s.subject_salt must be a string", where))
				continue
			}
			if len(s) < subject.MinSaltLen {
				errs = append(errs, fmt.Errorf("%s.subject_salt must be at least %d bytes", where, subject.MinSaltLen))
			}
			t.SubjectSalt = configopaque.String(s)
		default:
			t.Policy[k] = r.resolve(where+"."+k, v, nil)
		}
	}
	if t.Credentials == nil && len(errs) == 0 {
		errs = append(errs, fmt.Errorf("%s: credentials must be set (the %s receiver's tenant keys, e.g. its secrets)", where, t.Vendor))
	}
	return t, errors.Join(errs...)
}

// resolve replaces every string that is a ${file:..} or ${env:..}
// reference with what it names, recording the strings in secrets when it
// is not nil. Problems are collected in r.errs; they name the reference,
// never what it resolves to.
func (r *resolver) resolve(where string, v any, secrets *[]string) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = r.resolve(where+"."+k, e, secrets)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = r.resolve(fmt.Sprintf("%s[%d]", where, i), e, secrets)
		}
		return out
	case string:
		s, err := r.reference(v)
		if err != nil {
			r.errs = append(r.errs, fmt.Errorf("%s: %w", where, err))
			return ""
		}
		if secrets != nil && s != "" {
			*secrets = append(*secrets, s)
		}
		return s
	default:
		return v
	}
}

// reference resolves s if it is a reference. Only a whole value may be
// one: "${env:A}${env:B}" or "prefix-${env:A}" are refused, so that what a
// value means never depends on how its parts happen to concatenate.
func (r *resolver) reference(s string) (string, error) {
	if !strings.Contains(s, "${") {
		return s, nil
	}
	m := refPattern.FindStringSubmatch(s)
	if m == nil {
		return "", errors.New("a reference must be the whole value, ${file:PATH} or ${env:NAME}")
	}
	scheme, arg := m[1], m[2]
	switch scheme {
	case "env":
		if !envName.MatchString(arg) {
			return "", fmt.Errorf("${env:%s}: not a variable name (no defaults: an unset secret is an error)", arg)
		}
		v, ok := r.env(arg)
		if !ok || v == "" {
			return "", fmt.Errorf("${env:%s}: the environment variable is not set or empty", arg)
		}
		return v, nil
	case "file":
		if !filepath.IsAbs(arg) {
			return "", fmt.Errorf("${file:%s}: the path must be absolute", arg)
		}
		b, ok := r.read[arg]
		if !ok {
			var err error
			b, err = readSecretFile(arg)
			r.read[arg] = b // nil when it cannot be read: its appearance is a change
			if err != nil {
				return "", err
			}
		}
		if b == nil {
			return "", fmt.Errorf("${file:%s}: cannot be read", arg)
		}
		v := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
		if v == "" {
			return "", fmt.Errorf("${file:%s}: the file is empty", arg)
		}
		return v, nil
	default:
		return "", fmt.Errorf("${%s:..}: unsupported reference (tenants files resolve ${file:PATH} and ${env:NAME})", scheme)
	}
}

// readSecretFile reads a ${file:..} reference's file; its errors name the
// file only.
func readSecretFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("${file:%s}: %w", path, pathCause(err))
	}
	if !fi.Mode().IsRegular() || fi.Size() > maxSecretFile {
		return nil, fmt.Errorf("${file:%s}: not a regular file of at most %d bytes", path, maxSecretFile)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("${file:%s}: %w", path, pathCause(err))
	}
	return b, nil
}

// pathCause is a file error without the path the caller already names.
func pathCause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Redact replaces the tenant's secrets in msg: the receivers' own error
// messages, or a decoder's, may quote a value.
func (t FileTenant) Redact(msg string) string {
	for _, s := range t.secrets {
		if len(s) >= 4 {
			msg = strings.ReplaceAll(msg, s, "[redacted]")
		}
	}
	return msg
}
