package sqlite

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
	"time"
)

// checkpointer copies the WAL back into the database file on a connection
// of its own, so that the writer's commits do not. With SQLite's automatic
// checkpoint the commit that crosses wal_autocheckpoint pages copies the
// whole WAL (tens of MiB) and fsyncs the database before it returns, and
// every group commit queued behind it waits: the latency tail of a busy
// ledger (docs/design/ledger-write-path.md, "Checkpoints").
//
// Every tick it runs a PASSIVE checkpoint, which copies what it can without
// blocking the writer or readers. The WAL only starts over from its
// beginning when a write transaction begins with every frame copied, which
// a writer that never pauses does not see, and a checkpoint that would
// make sure of it (RESTART) has to hold the writer out, which SQLite's
// locks do not let a second connection do reliably against a busy writer.
// So the last step is the writer's: once a pass finds the WAL at
// restartPages or more (due), the writer runs a PASSIVE checkpoint itself
// between two transactions (BetweenWrites). It copies what was committed
// since that pass began (a fraction of the WAL: the pass copied the rest)
// and fsyncs the database, and its next transaction starts the WAL over. A
// reader on an old snapshot can keep that from happening (as with any
// SQLite checkpoint); the writer's own automatic checkpoint, at twice
// restartPages, stays as the safety net.
type checkpointer struct {
	db           *sql.DB
	every        time.Duration
	restartPages int64

	stop context.CancelFunc
	wg   sync.WaitGroup

	due atomic.Bool // set by a pass that found a large WAL, cleared by the writer

	passive, restarts, errors atomic.Int64
}

// checkpointStats are the checkpointer's counters (tests).
type checkpointStats struct {
	Passive, Restarts, Errors int64
}

func startCheckpointer(db *sql.DB, every time.Duration, restartPages int64) *checkpointer {
	ctx, cancel := context.WithCancel(context.Background())
	c := &checkpointer{db: db, every: every, restartPages: restartPages, stop: cancel}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		c.run(ctx)
	}()
	return c
}

func (c *checkpointer) run(ctx context.Context) {
	t := time.NewTicker(c.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		_, log, _, err := checkpoint(ctx, c.db)
		if err != nil {
			c.errors.Add(1) // the next tick tries again; Close checkpoints the rest
			continue
		}
		c.passive.Add(1)
		c.due.Store(log >= c.restartPages)
	}
}

// betweenWrites is the writer's part, called between two write
// transactions on the writer's connection w: after a pass over a large
// WAL, it copies what the pass left so that the next transaction starts
// the WAL over.
func (c *checkpointer) betweenWrites(ctx context.Context, w *sql.DB) {
	if !c.due.CompareAndSwap(true, false) {
		return
	}
	busy, log, done, err := checkpoint(ctx, w)
	if err == nil && busy == 0 && log == done {
		c.restarts.Add(1)
	}
}

// checkpoint runs PRAGMA wal_checkpoint(PASSIVE): busy is 1 when it could
// not finish, log the WAL's frames, done those copied into the database.
func checkpoint(ctx context.Context, db *sql.DB) (busy, log, done int64, err error) {
	err = db.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &log, &done)
	return busy, log, done, err
}

func (c *checkpointer) stats() checkpointStats {
	return checkpointStats{Passive: c.passive.Load(), Restarts: c.restarts.Load(), Errors: c.errors.Load()}
}

// close stops the loop and closes the connection.
func (c *checkpointer) close() error {
	c.stop()
	c.wg.Wait()
	return c.db.Close()
}
