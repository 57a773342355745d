// Command ociimage assembles Consentry's container image from a static
// otelcol-consentry binary, without a container engine: the same image as
// deploy/docker/Dockerfile (scratch, CA bundle, non-root UID 10001,
// /etc/consentry and /var/lib/consentry), written as an OCI image layout
// directory. Reproducible: every timestamp is -epoch (default: the
// SOURCE_DATE_EPOCH environment variable, else 0), entries are sorted and
// owned by fixed ids, so the same inputs give the same digest.
//
//	go run ./ociimage -binary ../_build/otelcol-consentry -out ../_build/image
//
// `make image` runs it; e2e TestPackageImage inspects the result. Load it
// into an engine with e.g. `skopeo copy oci:_build/image:VERSION
// docker-daemon:consentry:VERSION` or `podman load -i` of an oci-archive.
package main

import (
	"archive/tar"
	"bytes"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"sort"
	"strconv"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// What the image is; deploy/docker/Dockerfile says the same, and
// TestPackageImage checks that both agree.
const (
	uid        = 10001
	gid        = 10001
	entrypoint = "/otelcol-consentry"
	configPath = "/etc/consentry/config.yaml"
	policyPath = "/etc/consentry/policy.yaml"
	dataDir    = "/var/lib/consentry"
)

// exposed are the ports of deploy/config.yaml: the four vendor receivers,
// the auditor API (REST, gRPC), the health check and the metrics.
var exposed = []string{"7401/tcp", "7402/tcp", "7403/tcp", "7404/tcp", "7480/tcp", "7481/tcp", "13133/tcp", "8888/tcp"}

type entry struct {
	name string
	mode int64
	uid  int
	data []byte // nil: a directory
}

func main() {
	binary := flag.String("binary", "", "the static linux otelcol-consentry binary (CGO_ENABLED=0)")
	config := flag.String("config", "../deploy/config.yaml", "installed as "+configPath)
	policy := flag.String("policy", "../config/policy.yaml", "installed as "+policyPath)
	caBundle := flag.String("ca-bundle", "/etc/ssl/certs/ca-certificates.crt", "CA certificates installed as /etc/ssl/certs/ca-certificates.crt")
	out := flag.String("out", "../_build/image", "OCI image layout directory to write (replaced)")
	arch := flag.String("arch", "amd64", "the binary's architecture")
	version := flag.String("version", "0.0.0-dev", "image version (label and ref name)")
	revision := flag.String("revision", "", "source revision (label)")
	epoch := flag.Int64("epoch", sourceDateEpoch(), "timestamp of every file and of the image (seconds since 1970)")
	flag.Parse()
	if *binary == "" {
		log.Fatal("-binary is required")
	}
	at := time.Unix(*epoch, 0).UTC()

	read := func(p string) []byte {
		b, err := os.ReadFile(p)
		if err != nil {
			log.Fatal(err)
		}
		return b
	}
	files := []entry{
		{name: "etc/", mode: 0o755},
		{name: "etc/consentry/", mode: 0o755},
		{name: "etc/consentry/config.yaml", mode: 0o644, data: read(*config)},
		{name: "etc/consentry/policy.yaml", mode: 0o644, data: read(*policy)},
		{name: "etc/ssl/", mode: 0o755},
		{name: "etc/ssl/certs/", mode: 0o755},
		{name: "etc/ssl/certs/ca-certificates.crt", mode: 0o644, data: read(*caBundle)},
		{name: "otelcol-consentry", mode: 0o755, data: read(*binary)},
		{name: "tmp/", mode: 0o1777},
		{name: "var/", mode: 0o755},
		{name: "var/lib/", mode: 0o755},
		{name: "var/lib/consentry/", mode: 0o700, uid: uid},
	}
	layerTar, err := tarOf(files, at)
	if err != nil {
		log.Fatal(err)
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		log.Fatal(err)
	}
	img, err := mutate.AppendLayers(mutate.MediaType(empty.Image, types.OCIManifestSchema1), layer)
	if err != nil {
		log.Fatal(err)
	}
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	ports := map[string]struct{}{}
	for _, p := range exposed {
		ports[p] = struct{}{}
	}
	labels := map[string]string{
		"org.opencontainers.image.title":       "otelcol-consentry",
		"org.opencontainers.image.description": "Consentry - a consent gate for contact-center telemetry",
		"org.opencontainers.image.version":     *version,
		"org.opencontainers.image.licenses":    "Apache-2.0",
	}
	if *revision != "" {
		labels["org.opencontainers.image.revision"] = *revision
	}
	img, err = mutate.ConfigFile(img, &v1.ConfigFile{
		Architecture: *arch,
		OS:           "linux",
		Created:      v1.Time{Time: at},
		Config: v1.Config{
			User:         strconv.Itoa(uid) + ":" + strconv.Itoa(gid),
			Entrypoint:   []string{entrypoint},
			Cmd:          []string{"--config", configPath},
			WorkingDir:   dataDir,
			Env:          []string{"CONSENTRY_DATA_DIR=" + dataDir},
			ExposedPorts: ports,
			Volumes:      map[string]struct{}{"/etc/consentry": {}, dataDir: {}},
			Labels:       labels,
		},
		RootFS: mustRootFS(img),
		History: []v1.History{{
			Created:   v1.Time{Time: at},
			CreatedBy: "tools/ociimage (deploy/docker/Dockerfile)",
		}},
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := os.RemoveAll(*out); err != nil {
		log.Fatal(err)
	}
	p, err := layout.Write(*out, empty.Index)
	if err != nil {
		log.Fatal(err)
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{
		"org.opencontainers.image.ref.name": *version,
	}), layout.WithPlatform(v1.Platform{OS: "linux", Architecture: *arch})); err != nil {
		log.Fatal(err)
	}
	d, err := img.Digest()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s %s\n", *out, d)
}

func mustRootFS(img v1.Image) v1.RootFS {
	cf, err := img.ConfigFile()
	if err != nil {
		log.Fatal(err)
	}
	return cf.RootFS
}

func sourceDateEpoch() int64 {
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n
		}
	}
	return 0
}

// tarOf writes files, sorted by name, with fixed times and owners.
func tarOf(files []entry, at time.Time) ([]byte, error) {
	sort.Slice(files, func(i, j int) bool { return files[i].name < files[j].name })
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		h := &tar.Header{Name: f.name, Mode: f.mode, ModTime: at, Uid: f.uid, Gid: f.uid, Format: tar.FormatPAX}
		if f.uid != 0 {
			h.Gid = gid
		}
		if f.data == nil {
			h.Typeflag = tar.TypeDir
		} else {
			h.Typeflag = tar.TypeReg
			h.Size = int64(len(f.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, err
		}
	}
	return buf.Bytes(), tw.Close()
}
