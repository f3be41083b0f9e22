package sqlstore_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/store/sqlstore"
	"github.com/grantd/grantd/internal/store/storetest"
)

// increment adds one to c1's FailureCount, retrying on ErrConflict, from a
// snapshot read outside the transaction (the broker's pattern).
func increment(t testing.TB, s store.Store, id string) {
	t.Helper()
	for {
		snap, err := s.GetConnection(t.Context(), id)
		if err != nil {
			t.Errorf("GetConnection = %v", err)
			return
		}
		_, err = s.UpdateConnection(t.Context(), id, func(store.Connection) (store.Connection, error) {
			snap.FailureCount++
			return snap, nil
		})
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			t.Errorf("UpdateConnection = %v", err)
		}
		return
	}
}

// TestTwoHandlesOneFile opens the same SQLite file twice, as two processes
// would: each sees the other's writes, concurrent AcquireLease through both
// gives exactly one owner (RT-02), and concurrent updates through both lose
// nothing and never fail with SQLITE_BUSY.
func TestTwoHandlesOneFile(t *testing.T) {
	path := storetest.NewSQLite(t)
	a, b := open(t, path), open(t, path)
	ctx := t.Context()
	if err := a.CreateConnection(ctx, store.Connection{ID: "c1", TenantID: "t1", Status: store.StatusActive}); err != nil {
		t.Fatalf("CreateConnection via a = %v", err)
	}
	if _, err := b.GetConnection(ctx, "c1"); err != nil {
		t.Fatalf("GetConnection via b = %v", err)
	}
	if err := b.PutMeta(ctx, "k", "from b"); err != nil {
		t.Fatalf("PutMeta via b = %v", err)
	}
	if got, err := a.GetMeta(ctx, "k"); err != nil || got != "from b" {
		t.Errorf("GetMeta via a = %q, %v; want %q", got, err, "from b")
	}

	now := time.Now()
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		owners []string
	)
	start := make(chan struct{})
	for i := range 20 {
		s := []*sqlstore.DB{a, b}[i%2]
		owner := fmt.Sprintf("owner-%d", i)
		wg.Go(func() {
			<-start
			_, ok, err := s.AcquireLease(ctx, "c1", owner, now, now.Add(time.Minute))
			if err != nil {
				t.Errorf("AcquireLease(%q) = %v", owner, err)
			}
			if ok {
				mu.Lock()
				owners = append(owners, owner)
				mu.Unlock()
			}
		})
	}
	close(start)
	wg.Wait()
	if len(owners) != 1 {
		t.Errorf("AcquireLease through two handles: %v won, want exactly one", owners)
	}

	const perHandle = 50
	for i := range 2 * perHandle {
		s := []*sqlstore.DB{a, b}[i%2]
		wg.Go(func() { increment(t, s, "c1") })
	}
	wg.Wait()
	got, err := b.GetConnection(ctx, "c1")
	if err != nil {
		t.Fatalf("GetConnection = %v", err)
	}
	if got.FailureCount != 2*perHandle || got.Version != 2*perHandle+1 {
		t.Errorf("after %d increments through two handles: FailureCount %d, Version %d; want %d, %d",
			2*perHandle, got.FailureCount, got.Version, 2*perHandle, 2*perHandle+1)
	}
}

// helperEnv makes the test binary act as a second grantd process.
const helperEnv = "GRANTD_SQLSTORE_HELPER_DB"

// TestHelperProcess is not a test: run by TestTwoProcesses with helperEnv
// set, it increments c1 from its own process.
func TestHelperProcess(t *testing.T) {
	path := os.Getenv(helperEnv)
	if path == "" {
		t.Skip("helper process for TestTwoProcesses")
	}
	n, _ := strconv.Atoi(os.Getenv(helperEnv + "_N"))
	db := open(t, path)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() { increment(t, db, "c1") })
	}
	wg.Wait()
}

// TestTwoProcesses runs two real processes (this test binary, re-executed)
// that each increment one connection 50 times from 50 goroutines, while
// this process does the same: no increment is lost and no write fails
// with SQLITE_BUSY (RT-02 on SQLite).
func TestTwoProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts subprocesses")
	}
	path := storetest.NewSQLite(t)
	db := open(t, path)
	if err := db.CreateConnection(t.Context(), store.Connection{ID: "c1", TenantID: "t1", Status: store.StatusActive}); err != nil {
		t.Fatalf("CreateConnection = %v", err)
	}
	const n = 50
	var cmds []*exec.Cmd
	for range 2 {
		cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), helperEnv+"="+path, helperEnv+"_N="+strconv.Itoa(n))
		cmd.Stdout, cmd.Stderr = t.Output(), t.Output()
		if err := cmd.Start(); err != nil {
			t.Fatalf("start helper: %v", err)
		}
		cmds = append(cmds, cmd)
	}
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() { increment(t, db, "c1") })
	}
	wg.Wait()
	for _, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("helper process: %v", err)
		}
	}
	got, err := db.GetConnection(t.Context(), "c1")
	if err != nil {
		t.Fatalf("GetConnection = %v", err)
	}
	if got.FailureCount != 3*n || got.Version != 3*n+1 {
		t.Errorf("after %d increments from 3 processes: FailureCount %d, Version %d; want %d, %d",
			3*n, got.FailureCount, got.Version, 3*n, 3*n+1)
	}
}
