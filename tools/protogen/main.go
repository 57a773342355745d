// Command protogen compiles Consentry's .proto files with the pure-Go
// compiler github.com/bufbuild/protocompile and runs protoc plugins on them,
// speaking the protoc plugin protocol (a CodeGeneratorRequest on the
// plugin's stdin, a CodeGeneratorResponse on its stdout). It replaces protoc
// and buf, neither of which can be installed offline; the plugins are Go
// tools pinned in tools/go.mod. scripts/generate.sh builds and runs it.
//
//	protogen -I api -I api/third_party -out api \
//	  -plugin go=BIN/protoc-gen-go:paths=source_relative \
//	  consentry/v1/audit.proto
//
// Output is deterministic: the same inputs and plugin versions give the same
// bytes (no compiler version is reported to the plugins).
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/bufbuild/protocompile"
	"github.com/bufbuild/protocompile/linker"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/pluginpb"
)

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(s string) error { *m = append(*m, s); return nil }

func main() {
	var includes, plugins multi
	out := flag.String("out", "", "output root directory (required)")
	flag.Var(&includes, "I", "import path (repeatable)")
	flag.Var(&plugins, "plugin", "NAME=PATH[:PARAMETER] (repeatable)")
	flag.Parse()
	if *out == "" || len(includes) == 0 || len(plugins) == 0 || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: protogen -I DIR... -out DIR -plugin NAME=PATH[:PARAM]... FILE.proto...")
		os.Exit(2)
	}
	if err := run(context.Background(), includes, plugins, *out, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "protogen:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, includes, plugins []string, out string, files []string) error {
	comp := protocompile.Compiler{
		Resolver:       protocompile.WithStandardImports(&protocompile.SourceResolver{ImportPaths: includes}),
		SourceInfoMode: protocompile.SourceInfoStandard,
	}
	res, err := comp.Compile(ctx, files...)
	if err != nil {
		return fmt.Errorf("compile: %w", err)
	}
	req := &pluginpb.CodeGeneratorRequest{FileToGenerate: files}
	seen := map[string]bool{}
	var add func(fd protoreflect.FileDescriptor)
	add = func(fd protoreflect.FileDescriptor) {
		if seen[fd.Path()] {
			return
		}
		seen[fd.Path()] = true
		imps := fd.Imports()
		for i := range imps.Len() {
			add(imps.Get(i).FileDescriptor)
		}
		var fdp *descriptorpb.FileDescriptorProto
		if r, ok := fd.(linker.Result); ok {
			fdp = r.FileDescriptorProto()
		} else {
			fdp = protodesc.ToFileDescriptorProto(fd)
		}
		req.ProtoFile = append(req.ProtoFile, fdp)
	}
	for _, f := range res {
		add(f)
	}
	for _, p := range plugins {
		name, rest, ok := strings.Cut(p, "=")
		if !ok {
			return fmt.Errorf("plugin %q: want NAME=PATH[:PARAMETER]", p)
		}
		path, param, _ := strings.Cut(rest, ":")
		r := proto.Clone(req).(*pluginpb.CodeGeneratorRequest)
		if param != "" {
			r.Parameter = proto.String(param)
		}
		if err := runPlugin(ctx, name, path, r, out); err != nil {
			return err
		}
	}
	return nil
}

func runPlugin(ctx context.Context, name, path string, req *pluginpb.CodeGeneratorRequest, out string) error {
	in, err := proto.MarshalOptions{Deterministic: true}.Marshal(req)
	if err != nil {
		return err
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, path)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = bytes.NewReader(in), &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("plugin %s (%s): %w: %s", name, path, err, stderr.String())
	}
	var resp pluginpb.CodeGeneratorResponse
	if err := proto.Unmarshal(stdout.Bytes(), &resp); err != nil {
		return fmt.Errorf("plugin %s: bad response: %w", name, err)
	}
	if resp.Error != nil {
		return fmt.Errorf("plugin %s: %s", name, resp.GetError())
	}
	for _, f := range resp.File {
		if f.InsertionPoint != nil || f.GetName() == "" {
			return fmt.Errorf("plugin %s: unsupported output %q (insertion point or no name)", name, f.GetName())
		}
		rel := filepath.Clean(filepath.FromSlash(f.GetName()))
		if filepath.IsAbs(rel) || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return errors.New("plugin " + name + ": output outside the output directory: " + f.GetName())
		}
		dst := filepath.Join(out, rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(dst, []byte(f.GetContent()), 0o644); err != nil {
			return err
		}
	}
	return nil
}
