package ledger_test

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkSegmentLogProto is the prototype of candidate (b) in
// docs/design/ledger-write-path.md: the durability point as an append-only
// segment file, group-committed (the same 1000 rows / 2 ms bounds as the
// ledger's writer), one write and one fdatasync per commit, callers
// released after it; the records sealed and hashed in the callers as the
// ledger does. It measures the write path alone: indexing the log into
// SQLite afterwards is not included.
//
//	go test -run '^$' -bench 'BenchmarkSegmentLogProto' -benchtime 30000x ./internal/ledger/
func BenchmarkSegmentLogProto(b *testing.B) {
	f, err := os.OpenFile(filepath.Join(b.TempDir(), "segment-000001.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	type req struct {
		buf  []byte
		done chan struct{}
	}
	reqs := make(chan *req, 4096)
	var commits atomic.Int64
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		var head [32]byte
		for r := range reqs {
			batch := []*req{r}
			timer := time.NewTimer(2 * time.Millisecond)
		collect:
			for len(batch) < 1000 {
				select {
				case r, ok := <-reqs:
					if !ok {
						break collect
					}
					batch = append(batch, r)
				case <-timer.C:
					break collect
				}
			}
			timer.Stop()
			var out []byte
			for _, r := range batch {
				head = sha256.Sum256(append(head[:], r.buf[:32]...)) // chain link over the record digest
				out = binary.BigEndian.AppendUint32(out, uint32(len(r.buf)))
				out = append(out, r.buf...)
			}
			if _, err := f.Write(out); err != nil {
				b.Error(err)
			}
			if err := f.Sync(); err != nil {
				b.Error(err)
			}
			commits.Add(1)
			for _, r := range batch {
				close(r.done)
			}
		}
	}()
	key := make([]byte, 32)
	rand.Read(key)
	blk, _ := aes.NewCipher(key)
	aead, _ := cipher.NewGCM(blk)
	pl := make([]byte, 1582)
	rand.Read(pl)
	b.SetParallelism(benchPar())
	b.SetBytes(1582)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			nonce := make([]byte, 12)
			rand.Read(nonce)
			ct := aead.Seal(nil, nonce, pl, nil)
			d := sha256.Sum256(ct)
			buf := append(append(d[:], nonce...), ct...)
			buf = append(buf, make([]byte, 300)...) // the metadata columns
			r := &req{buf: buf, done: make(chan struct{})}
			reqs <- r
			<-r.done
		}
	})
	b.StopTimer()
	close(reqs)
	<-stopped
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(b.N)/float64(commits.Load()), "rows/commit")
}
