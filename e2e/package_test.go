package e2e

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	be "encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// goTool runs a tool pinned in tools/go.mod (go tool caches its build, so
// only the first run of a clean cache compiles it) from the repository's
// root and returns its combined output.
func goTool(t *testing.T, env []string, args ...string) string {
	t.Helper()
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	cmd := exec.Command("go", append([]string{"tool", "-modfile=" + filepath.Join(root, "tools", "go.mod")}, args...)...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go tool %s:\n%s", strings.Join(args, " "), out)
	return string(out)
}

// packagedEnv is every variable deploy/config.yaml reads, with values the
// configuration accepts.
var packagedEnv = []string{
	"CONSENTRY_LEDGER_KEY=" + fmt.Sprintf("%x", sha256.Sum256([]byte("package-test-ledger-key"))),
	"CONSENTRY_SUBJECT_SALT=package-test-salt-0123456789abcdef",
	"CONSENTRY_AUDIT_TOKEN_SHA256=" + fmt.Sprintf("%x", sha256.Sum256([]byte("package-test-token"))),
	"CONSENTRY_FORWARD_OTLP_ENDPOINT=http://127.0.0.1:4318",
	"CONSENTRY_GENESYS_ORG_ID=" + localGenesysOrg,
	"CONSENTRY_GENESYS_SECRET=package-test-genesys-secret",
	"CONSENTRY_TWILIO_PUBLIC_URL=https://consentry.example.com",
	"CONSENTRY_TWILIO_ACCOUNT_SID=AC0123456789abcdef0123456789abcdef",
	"CONSENTRY_TWILIO_AUTH_TOKEN=package-test-twilio-token",
	"CONSENTRY_SEGMENT_SOURCE_ID=src_package_test",
	"CONSENTRY_SEGMENT_SHARED_SECRET=package-test-segment-secret",
	"CONSENTRY_TALKDESK_ACCOUNT_ID=package-test-talkdesk",
	"CONSENTRY_TALKDESK_TOKEN=package-test-talkdesk-token",
}

// TestPackageConfigValidates: the configuration the image and the packages
// install is one the collector accepts, once its environment is filled in,
// and one it refuses without (no silent defaults for secrets).
func TestPackageConfigValidates(t *testing.T) {
	policy, err := filepath.Abs("../config/policy.yaml")
	require.NoError(t, err)
	cmd := exec.Command(binary, "validate", "--config", "../deploy/config.yaml")
	cmd.Env = append(append(os.Environ(), packagedEnv...), "CONSENTRY_POLICY_FILE="+policy, "CONSENTRY_DATA_DIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)

	cmd = exec.Command(binary, "validate", "--config", "../deploy/config.yaml")
	cmd.Env = append(os.Environ(), "CONSENTRY_POLICY_FILE="+policy)
	out, err = cmd.CombinedOutput()
	require.Error(t, err, "unset secrets are refused: %s", out)
}

// --- Helm chart -------------------------------------------------------------

// TestPackageHelmChart renders the chart in both modes with the pinned helm
// and validates every manifest with the pinned kubeconform against the
// schemas in deploy/helm/schemas (offline, strict: unknown fields fail),
// then checks what each mode promises.
func TestPackageHelmChart(t *testing.T) {
	example, err := os.ReadFile("../config/policy.yaml")
	require.NoError(t, err)
	chartPolicy, err := os.ReadFile("../deploy/helm/consentry/files/policy.yaml")
	require.NoError(t, err)
	assert.Equal(t, string(example), string(chartPolicy), "the chart's default policy is config/policy.yaml (copy it after changing it)")

	dir := t.TempDir()
	render := func(name string, set ...string) string {
		args := []string{"helm", "template", "consentry", "deploy/helm/consentry", "--namespace", "consentry"}
		for _, s := range set {
			args = append(args, "--set", s)
		}
		out := goTool(t, nil, args...)
		path := filepath.Join(dir, name+".yaml")
		require.NoError(t, os.WriteFile(path, []byte(out), 0o600))
		return path
	}
	sqlite := render("sqlite", "serviceMonitor.enabled=true")
	postgres := render("postgres", "mode=postgres", "replicas=3", "vendors.talkdesk.enabled=false")

	schemas, err := filepath.Abs("../deploy/helm/schemas")
	require.NoError(t, err)
	out := goTool(t, nil, "kubeconform", "-strict", "-summary", "-output", "text",
		"-schema-location", schemas+"/{{ .ResourceKind }}{{ .KindSuffix }}.json", sqlite, postgres)
	t.Log(strings.TrimSpace(out))
	assert.Contains(t, out, "Invalid: 0, Errors: 0, Skipped: 0", "every manifest was validated and is valid")

	// A broken manifest must fail: the validation can fail.
	bad := strings.Replace(readFile(t, sqlite), "containerPort:", "containerPortt:", 1)
	badPath := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(badPath, []byte(bad), 0o600))
	cmd := exec.Command("go", "tool", "-modfile=tools/go.mod", "kubeconform", "-strict", "-schema-location", schemas+"/{{ .ResourceKind }}{{ .KindSuffix }}.json", filepath.Join(dir, "bad.yaml"))
	cmd.Dir = ".."
	badOut, err := cmd.CombinedOutput()
	require.Error(t, err, "a misspelt field is refused: %s", badOut)

	docs := func(path string) map[string]string { // "Kind/name" -> document
		out := map[string]string{}
		for _, d := range strings.Split(readFile(t, path), "\n---") {
			kind, name := field(d, "kind"), field(d, "  name")
			if kind != "" {
				out[kind+"/"+name] = d
			}
		}
		return out
	}
	s, p := docs(sqlite), docs(postgres)

	// sqlite: one replica, a StatefulSet with a volume claim; no Deployment.
	sts := s["StatefulSet/consentry"]
	require.NotEmpty(t, sts, "sqlite mode is a StatefulSet")
	assert.Contains(t, sts, "replicas: 1")
	assert.Contains(t, sts, "volumeClaimTemplates:")
	assert.NotContains(t, s, "Deployment/consentry")
	assert.Contains(t, s["ConfigMap/consentry"], "path: /var/lib/consentry/ledger.db")
	assert.Contains(t, s, "ServiceMonitor/consentry")
	// postgres: a Deployment of N, the DSN from a Secret, no volume claim.
	dep := p["Deployment/consentry"]
	require.NotEmpty(t, dep, "postgres mode is a Deployment")
	assert.Contains(t, dep, "replicas: 3")
	assert.Contains(t, dep, "name: CONSENTRY_LEDGER_DSN\n              valueFrom:\n                secretKeyRef:\n                  name: consentry-postgres")
	assert.NotContains(t, p, "StatefulSet/consentry")
	assert.Contains(t, p["ConfigMap/consentry"], "backend: postgres")
	assert.Contains(t, p["ConfigMap/consentry"], "writer_id: ${env:POD_NAME}")
	assert.NotContains(t, p, "ServiceMonitor/consentry", "optional, off by default")

	for mode, m := range map[string]map[string]string{"sqlite": s, "postgres": p} {
		pod := m["StatefulSet/consentry"] + m["Deployment/consentry"]
		// Secrets only from Secrets; never a literal in the ConfigMap.
		assert.Contains(t, pod, "secretRef:\n                name: consentry", mode)
		assert.NotContains(t, m, "Secret/consentry", "%s: the chart creates no Secret from values", mode)
		// Probes on the health check's /status.
		for _, probe := range []string{"startupProbe", "readinessProbe", "livenessProbe"} {
			assert.Contains(t, pod, probe+":\n            httpGet: {path: /status, port: health}", mode)
		}
		// Non-root, read-only root filesystem.
		assert.Contains(t, pod, "runAsNonRoot: true")
		assert.Contains(t, pod, "runAsUser: 10001")
		assert.Contains(t, pod, "readOnlyRootFilesystem: true")
		// Resource requests from docs/benchmarks.md.
		assert.Contains(t, pod, "requests:\n              cpu: \"1\"\n              memory: 640Mi", mode)
		// A Service per vendor port, the auditor API's and the metrics'.
		for vendor, port := range map[string]string{"genesys": "7401", "twilio": "7402", "segment": "7403", "talkdesk": "7404"} {
			svc := m["Service/consentry-"+vendor]
			if mode == "postgres" && vendor == "talkdesk" {
				assert.Empty(t, svc, "a disabled vendor has no Service")
				assert.Contains(t, m["ConfigMap/consentry"], "receivers: [genesys, segment, twilio]", "nor a receiver")
				continue
			}
			assert.Contains(t, svc, "port: "+port, "%s %s", mode, vendor)
			assert.Contains(t, pod, "containerPort: "+port)
		}
		assert.Contains(t, m["Service/consentry-audit"], "port: 7480")
		assert.Contains(t, m["Service/consentry-audit"], "port: 7481")
		assert.Contains(t, m["Service/consentry-metrics"], "port: 8888")
	}
}

// field returns the value of the first line "<key>: value" of a YAML
// document (key with its indentation).
func field(doc, key string) string {
	sc := bufio.NewScanner(strings.NewReader(doc))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), key+": "); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// --- .deb and .rpm -------------------------------------------------------------

// pkgFile is one file of a package.
type pkgFile struct {
	mode int64
	data []byte
}

// buildPackages builds the .deb and .rpm of the e2e binary and of a CLI
// built here, in dir: "deb", "rpm" and "cli" -> path.
func buildPackages(dir string) (map[string]string, error) {
	cli := filepath.Join(dir, "consentry")
	build := exec.Command("go", "build", "-trimpath", "-ldflags", "-X main.version=9.8.7", "-o", cli, "./cmd/consentry")
	build.Dir = ".."
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("building the CLI: %v\n%s", err, out)
	}
	tmpl, err := os.ReadFile("../deploy/packaging/nfpm.yaml")
	if err != nil {
		return nil, err
	}
	rendered := strings.NewReplacer("${CONSENTRY_VERSION}", "9.8.7", "${CONSENTRY_PKG_ARCH}", "amd64",
		"${CONSENTRY_BINARY}", binary, "${CONSENTRY_CLI}", cli).Replace(string(tmpl))
	if strings.Contains(rendered, "${") {
		return nil, fmt.Errorf("a placeholder of nfpm.yaml is left: %s", rendered)
	}
	config := filepath.Join(dir, "nfpm.yaml")
	if err := os.WriteFile(config, []byte(rendered), 0o600); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, p := range []string{"deb", "rpm"} {
		cmd := exec.Command("go", "tool", "-modfile=tools/go.mod", "nfpm", "package", "--config", config, "--packager", p, "--target", dir+"/")
		cmd.Dir = ".."
		if b, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("nfpm %s: %v\n%s", p, err, b)
		}
		m, _ := filepath.Glob(filepath.Join(dir, "*."+p))
		if len(m) != 1 {
			return nil, fmt.Errorf("nfpm %s wrote %v", p, m)
		}
		out[p] = m[0]
	}
	out["cli"] = cli
	return out, nil
}

// readAr reads an ar archive (a .deb): member name -> content.
func readAr(t *testing.T, b []byte) map[string][]byte {
	t.Helper()
	require.True(t, bytes.HasPrefix(b, []byte("!<arch>\n")), "an ar archive")
	out := map[string][]byte{}
	off := 8
	for off+60 <= len(b) {
		h := b[off : off+60]
		name := strings.TrimSuffix(strings.TrimSpace(string(h[0:16])), "/")
		size, err := strconv.Atoi(strings.TrimSpace(string(h[48:58])))
		require.NoError(t, err)
		off += 60
		out[name] = b[off : off+size]
		off += size + size%2
	}
	return out
}

func gunzipTar(t *testing.T, b []byte) map[string]tarFile {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(b))
	require.NoError(t, err)
	return readTar(t, gz)
}

// rpmHeader reads one RPM header structure at b[off:]: tag -> raw value
// (strings and string arrays as []string, int16/int32 arrays as []int64),
// and the offset after it.
func rpmHeader(t *testing.T, b []byte, off int) (map[int][]any, int) {
	t.Helper()
	require.Equal(t, []byte{0x8e, 0xad, 0xe8, 0x01}, b[off:off+4], "an RPM header")
	n := int(be.BigEndian.Uint32(b[off+8:]))
	size := int(be.BigEndian.Uint32(b[off+12:]))
	index := b[off+16 : off+16+16*n]
	store := b[off+16+16*n : off+16+16*n+size]
	out := map[int][]any{}
	for i := range n {
		e := index[16*i:]
		tag, typ := int(be.BigEndian.Uint32(e)), be.BigEndian.Uint32(e[4:])
		at, count := int(be.BigEndian.Uint32(e[8:])), int(be.BigEndian.Uint32(e[12:]))
		var vals []any
		switch typ {
		case 3: // int16
			for j := range count {
				vals = append(vals, int64(be.BigEndian.Uint16(store[at+2*j:])))
			}
		case 4: // int32
			for j := range count {
				vals = append(vals, int64(be.BigEndian.Uint32(store[at+4*j:])))
			}
		case 6, 8, 9: // string, string array, i18n string
			p := at
			for range count {
				end := bytes.IndexByte(store[p:], 0)
				vals = append(vals, string(store[p:p+end]))
				p += end + 1
			}
		}
		out[tag] = vals
	}
	return out, off + 16 + 16*n + size
}

// readRPM reads an .rpm: its main header's tags and its payload's files
// (a gzip-compressed cpio "newc" archive).
func readRPM(t *testing.T, b []byte) (map[int][]any, map[string]pkgFile) {
	t.Helper()
	require.Equal(t, []byte{0xed, 0xab, 0xee, 0xdb}, b[:4], "an RPM lead")
	_, off := rpmHeader(t, b, 96) // the signature
	off += (8 - off%8) % 8
	hdr, off := rpmHeader(t, b, off)
	gz, err := gzip.NewReader(bytes.NewReader(b[off:]))
	require.NoError(t, err)
	payload, err := io.ReadAll(gz)
	require.NoError(t, err)
	files := map[string]pkgFile{}
	for p := 0; p+110 <= len(payload); {
		h := payload[p : p+110]
		require.Equal(t, "070701", string(h[:6]), "cpio newc")
		hex := func(i int) int64 {
			v, err := strconv.ParseInt(string(h[6+8*i:14+8*i]), 16, 64)
			require.NoError(t, err)
			return v
		}
		mode, size, nameSize := hex(1), hex(6), hex(11)
		name := string(payload[p+110 : p+110+int(nameSize)-1])
		p += 110 + int(nameSize)
		p += (4 - p%4) % 4
		data := payload[p : p+int(size)]
		p += int(size)
		p += (4 - p%4) % 4
		if name == "TRAILER!!!" {
			break
		}
		files["/"+strings.TrimPrefix(strings.TrimPrefix(name, "."), "/")] = pkgFile{mode: mode, data: data}
	}
	return hdr, files
}

// checkInstalledFiles checks what both packages install, and where.
func checkInstalledFiles(t *testing.T, kind string, files map[string]pkgFile, cli string) {
	t.Helper()
	want, err := os.ReadFile(binary)
	require.NoError(t, err)
	bin := files["/usr/bin/otelcol-consentry"]
	assert.Equal(t, sha256.Sum256(want), sha256.Sum256(bin.data), "%s: the collector at /usr/bin/otelcol-consentry", kind)
	assert.Equal(t, int64(0o755), bin.mode&0o7777, kind)
	wantCLI, err := os.ReadFile(cli)
	require.NoError(t, err)
	assert.Equal(t, sha256.Sum256(wantCLI), sha256.Sum256(files["/usr/bin/consentry"].data), "%s: the auditors' CLI", kind)
	assert.Equal(t, readFile(t, "../deploy/config.yaml"), string(files["/etc/consentry/config.yaml"].data), kind)
	assert.Equal(t, readFile(t, "../config/policy.yaml"), string(files["/etc/consentry/policy.yaml"].data), kind)
	assert.Equal(t, int64(0o640), files["/etc/consentry/consentry.env"].mode&0o7777, "%s: the secrets file is not world-readable", kind)

	unit := string(files["/usr/lib/systemd/system/consentry.service"].data)
	require.NotEmpty(t, unit, "%s: the systemd unit", kind)
	for _, line := range []string{
		"ExecStart=/usr/bin/otelcol-consentry --config /etc/consentry/config.yaml",
		"EnvironmentFile=/etc/consentry/consentry.env",
		"DynamicUser=yes", "StateDirectory=consentry", "StateDirectoryMode=0700",
		"ProtectSystem=strict", "ProtectHome=yes", "NoNewPrivileges=yes", "PrivateTmp=yes",
		"CapabilityBoundingSet=", "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX", "UMask=0077",
	} {
		assert.Contains(t, strings.Split(unit, "\n"), line, "%s: the unit says %s", kind, line)
	}
	// The data directory belongs to systemd (StateDirectory), not the package.
	for name := range files {
		assert.False(t, strings.HasPrefix(name, "/var/lib/consentry"), "%s installs %s", kind, name)
	}
}

// TestPackageDebRpm builds the .deb and .rpm with the pinned nfpm and reads
// them (in Go: no dpkg or rpm tools needed): the binary, the CLI, the
// hardened unit and the configuration at the documented paths, the
// configuration files marked as such.
func TestPackageDebRpm(t *testing.T) {
	pk, err := buildPackages(t.TempDir())
	require.NoError(t, err)
	out, err := exec.Command(pk["cli"], "version").CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Equal(t, fmt.Sprintf("consentry 9.8.7 %s/%s\n", runtime.GOOS, runtime.GOARCH), string(out), "the version is stamped")

	t.Run("deb", func(t *testing.T) {
		b, err := os.ReadFile(pk["deb"])
		require.NoError(t, err)
		ar := readAr(t, b)
		assert.Equal(t, "2.0\n", string(ar["debian-binary"]))
		control := gunzipTar(t, ar["control.tar.gz"])
		ctl := string(control["control"].data)
		assert.Contains(t, ctl, "Package: consentry\n")
		assert.Contains(t, ctl, "Version: 9.8.7\n")
		assert.Contains(t, ctl, "Architecture: amd64\n")
		conffiles := strings.Fields(string(control["conffiles"].data))
		assert.ElementsMatch(t, []string{"/etc/consentry/config.yaml", "/etc/consentry/policy.yaml", "/etc/consentry/consentry.env"}, conffiles,
			"configuration survives upgrades")
		assert.Contains(t, string(control["postinst"].data), "daemon-reload")
		files := map[string]pkgFile{}
		for name, f := range gunzipTar(t, ar["data.tar.gz"]) {
			if !f.dir {
				files["/"+name] = pkgFile{mode: f.mode, data: f.data}
			}
		}
		checkInstalledFiles(t, "deb", files, pk["cli"])
		if _, err := exec.LookPath("dpkg-deb"); err == nil {
			out, err := exec.Command("dpkg-deb", "-c", pk["deb"]).CombinedOutput()
			require.NoError(t, err, "dpkg-deb reads it: %s", out)
			assert.Contains(t, string(out), "./usr/lib/systemd/system/consentry.service")
		}
	})
	t.Run("rpm", func(t *testing.T) {
		b, err := os.ReadFile(pk["rpm"])
		require.NoError(t, err)
		hdr, files := readRPM(t, b)
		assert.Equal(t, []any{"consentry"}, hdr[1000], "NAME")
		assert.Equal(t, []any{"9.8.7"}, hdr[1001], "VERSION")
		assert.Equal(t, []any{"x86_64"}, hdr[1022], "ARCH")
		// FILEFLAGS: the /etc files are %config(noreplace).
		names := hdr[1117] // BASENAMES
		dirs, dirIndexes, flags := hdr[1118], hdr[1116], hdr[1037]
		require.Len(t, flags, len(names))
		configs := 0
		defer func() { assert.Equal(t, 3, configs, "three configuration files") }()
		for i, n := range names {
			path := dirs[dirIndexes[i].(int64)].(string) + n.(string)
			const config, noreplace = 1 << 0, 1 << 4
			if strings.HasPrefix(path, "/etc/consentry/") {
				configs++
				assert.Equal(t, int64(config|noreplace), flags[i].(int64)&(config|noreplace), "%s is %%config(noreplace)", path)
			}
		}
		checkInstalledFiles(t, "rpm", files, pk["cli"])
	})
}

// TestPackageCLITargets: the consentry CLI's packages resolve for every
// platform make dist ships (no build constraint leaves a package empty, no
// import is missing), with cgo off. Compiling all six is make dist's work:
// cross-compiling two of them from a cold cache took minutes here, too
// much for make test.
func TestPackageCLITargets(t *testing.T) {
	mk := readFile(t, "../Makefile")
	plats := ""
	for _, line := range strings.Split(mk, "\n") {
		if v, ok := strings.CutPrefix(line, "CLI_PLATFORMS := "); ok {
			plats = v
		}
	}
	require.Equal(t, "linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64", plats)
	for _, p := range strings.Fields(plats) {
		goos, goarch, _ := strings.Cut(p, "/")
		cmd := exec.Command("go", "list", "-e", "-deps", "-f", "{{with .Error}}{{$.ImportPath}}: {{.}}{{end}}{{range .DepsErrors}}{{$.ImportPath}}: {{.}}{{end}}", "./cmd/consentry")
		cmd.Dir = ".."
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+goarch)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s: %s", p, out)
		assert.Empty(t, strings.TrimSpace(string(out)), "%s: the CLI's packages resolve", p)
	}
}
