package e2e

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ociDescriptor, ociIndex, ociManifest and ociConfig are the parts of an
// OCI image layout the test reads (image-spec v1.1).
type ociDescriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Annotations map[string]string `json:"annotations"`
}

type ociIndex struct {
	Manifests []ociDescriptor `json:"manifests"`
}

type ociManifest struct {
	Config ociDescriptor   `json:"config"`
	Layers []ociDescriptor `json:"layers"`
}

type ociConfig struct {
	Architecture string `json:"architecture"`
	OS           string `json:"os"`
	Config       struct {
		User         string              `json:"User"`
		Entrypoint   []string            `json:"Entrypoint"`
		Cmd          []string            `json:"Cmd"`
		WorkingDir   string              `json:"WorkingDir"`
		Env          []string            `json:"Env"`
		ExposedPorts map[string]struct{} `json:"ExposedPorts"`
		Volumes      map[string]struct{} `json:"Volumes"`
	} `json:"config"`
}

type tarFile struct {
	mode     int64
	uid, gid int
	dir      bool
	data     []byte
}

func readBlob(t *testing.T, dir, digest string) []byte {
	t.Helper()
	algo, hexd, ok := strings.Cut(digest, ":")
	require.True(t, ok, digest)
	b, err := os.ReadFile(filepath.Join(dir, "blobs", algo, hexd))
	require.NoError(t, err)
	sum := sha256.Sum256(b)
	require.Equal(t, hexd, hex.EncodeToString(sum[:]), "blob %s matches its digest", digest)
	return b
}

// readTar lists a tar stream: name (without a leading "./" or "/") -> file.
func readTar(t *testing.T, r io.Reader) map[string]tarFile {
	t.Helper()
	out := map[string]tarFile{}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		require.NoError(t, err)
		name := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(h.Name, "./"), "/"), "/")
		f := tarFile{mode: h.Mode & 0o7777, uid: h.Uid, gid: h.Gid, dir: h.Typeflag == tar.TypeDir}
		if h.Typeflag == tar.TypeReg {
			f.data, err = io.ReadAll(tr)
			require.NoError(t, err)
		}
		out[name] = f
	}
}

// buildImage runs tools/ociimage on the collector binary into dir and
// returns the digest it printed.
func buildImage(t *testing.T, dir string) string {
	t.Helper()
	cmd := exec.Command("go", "run", "./ociimage", "-binary", binary, "-out", dir, "-version", "test", "-epoch", "1700000000")
	cmd.Dir = "../tools"
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	fields := strings.Fields(strings.TrimSpace(string(out)))
	require.NotEmpty(t, fields)
	return fields[len(fields)-1]
}

// dockerfile reads the instructions of deploy/docker/Dockerfile's last
// stage: instruction -> arguments (joined lines).
func dockerfile(t *testing.T) map[string][]string {
	t.Helper()
	f, err := os.Open("../deploy/docker/Dockerfile")
	require.NoError(t, err)
	defer f.Close()
	out := map[string][]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		instr, args, _ := strings.Cut(line, " ")
		if strings.EqualFold(instr, "FROM") {
			clear(out) // only the final stage is the image
		}
		out[strings.ToUpper(instr)] = append(out[strings.ToUpper(instr)], args)
	}
	require.NoError(t, sc.Err())
	return out
}

// TestPackageImage builds the container image as an OCI layout with
// tools/ociimage (no container engine: none is installed here, so the
// image is inspected, not run in one) and checks that it is what
// deploy/docker/Dockerfile describes: the static binary as entrypoint,
// a non-root user, the CA bundle, the configuration and data paths, the
// documented ports; and that two builds give the same digest.
func TestPackageImage(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "image")
	digest := buildImage(t, dir)
	again := buildImage(t, filepath.Join(t.TempDir(), "image"))
	assert.Equal(t, digest, again, "the image is reproducible")

	layoutFile, err := os.ReadFile(filepath.Join(dir, "oci-layout"))
	require.NoError(t, err)
	assert.Contains(t, string(layoutFile), `"imageLayoutVersion"`)
	var idx ociIndex
	require.NoError(t, json.Unmarshal(readBlobFile(t, filepath.Join(dir, "index.json")), &idx))
	require.Len(t, idx.Manifests, 1)
	assert.Equal(t, digest, idx.Manifests[0].Digest)
	assert.Equal(t, "test", idx.Manifests[0].Annotations["org.opencontainers.image.ref.name"])
	var m ociManifest
	require.NoError(t, json.Unmarshal(readBlob(t, dir, idx.Manifests[0].Digest), &m))
	var cfg ociConfig
	require.NoError(t, json.Unmarshal(readBlob(t, dir, m.Config.Digest), &cfg))
	require.Len(t, m.Layers, 1)
	gz, err := gzip.NewReader(strings.NewReader(string(readBlob(t, dir, m.Layers[0].Digest))))
	require.NoError(t, err)
	files := readTar(t, gz)

	df := dockerfile(t)
	// Entrypoint and command.
	assert.Equal(t, "linux", cfg.OS)
	assert.Equal(t, []string{"/otelcol-consentry"}, cfg.Config.Entrypoint)
	assert.Equal(t, []string{`["/otelcol-consentry"]`}, df["ENTRYPOINT"])
	assert.Equal(t, []string{"--config", "/etc/consentry/config.yaml"}, cfg.Config.Cmd)
	assert.Equal(t, []string{`["--config", "/etc/consentry/config.yaml"]`}, df["CMD"])
	// A non-root user, the Dockerfile's.
	assert.Equal(t, "10001:10001", cfg.Config.User)
	assert.NotEqual(t, "0", strings.Split(cfg.Config.User, ":")[0], "never root")
	assert.Equal(t, []string{"${USER_UID}:${USER_GID}"}, df["USER"])
	assert.Contains(t, df["ARG"], "USER_UID=10001")
	// Ports: the documented ones, in both.
	var ports []string
	for p := range cfg.Config.ExposedPorts {
		ports = append(ports, strings.TrimSuffix(p, "/tcp"))
	}
	slices.Sort(ports)
	want := strings.Fields(df["EXPOSE"][0])
	slices.Sort(want)
	assert.Equal(t, want, ports)
	assert.Equal(t, []string{"13133", "7401", "7402", "7403", "7404", "7480", "7481", "8888"}, ports)
	packaged := readFile(t, "../deploy/config.yaml")
	for _, p := range []string{"7401", "7402", "7403", "7404", "7480", "7481", "13133"} {
		assert.Regexp(t, `0\.0\.0\.0:`+p+`\b`, packaged, "port %s is the packaged config's", p)
	}
	assert.Contains(t, packaged, "host: 0.0.0.0\n                port: 8888\n", "the metrics' port")
	// Volumes and working directory.
	assert.Equal(t, map[string]struct{}{"/etc/consentry": {}, "/var/lib/consentry": {}}, cfg.Config.Volumes)
	assert.Equal(t, []string{`["/etc/consentry", "/var/lib/consentry"]`}, df["VOLUME"])
	assert.Equal(t, "/var/lib/consentry", cfg.Config.WorkingDir)

	// Files.
	bin := files["otelcol-consentry"]
	require.NotNil(t, bin.data, "the binary is at the entrypoint")
	assert.Equal(t, int64(0o755), bin.mode)
	want0, err := os.ReadFile(binary)
	require.NoError(t, err)
	assert.Equal(t, sha256.Sum256(want0), sha256.Sum256(bin.data), "the collector that was built")
	ef, err := elf.NewFile(strings.NewReader(string(bin.data)))
	require.NoError(t, err)
	for _, p := range ef.Progs {
		assert.NotEqual(t, elf.PT_INTERP, p.Type, "the binary is static: scratch has no loader")
	}
	assert.Contains(t, string(files["etc/ssl/certs/ca-certificates.crt"].data), "BEGIN CERTIFICATE")
	assert.Equal(t, readFile(t, "../deploy/config.yaml"), string(files["etc/consentry/config.yaml"].data))
	assert.Equal(t, readFile(t, "../config/policy.yaml"), string(files["etc/consentry/policy.yaml"].data))
	data := files["var/lib/consentry"]
	assert.True(t, data.dir)
	assert.Equal(t, int64(0o700), data.mode, "the ledger's directory is private")
	assert.Equal(t, 10001, data.uid, "and the user's")
	assert.True(t, files["tmp"].dir)
	for name, f := range files {
		if name != "var/lib/consentry" {
			assert.Zero(t, f.uid, "%s is root's: the user cannot change the image", name)
		}
	}
}

func readBlobFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}

func readFile(t *testing.T, path string) string { return string(readBlobFile(t, path)) }
