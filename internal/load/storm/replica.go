package storm

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/grantd/grantd/internal/load/fleet"
)

// clockTicks is the kernel's USER_HZ, the unit of utime and stime in
// /proc/<pid>/stat; it is 100 on every Linux architecture Go supports.
const clockTicks = 100

// replica is one `grantd serve` process.
type replica struct {
	name    string
	addr    string
	cmd     *exec.Cmd
	log     string
	done    chan struct{}
	started time.Time // when the process was started
	ready   time.Time // when /healthz first answered 200
}

// ReplicaStats are one replica's resource use, read from /proc just
// before it is stopped.
type ReplicaStats struct {
	// PeakRSSKB is VmHWM, the peak resident set.
	PeakRSSKB int64 `json:"peak_rss_kb"`
	// RSSKB is VmRSS at the time of reading.
	RSSKB int64 `json:"rss_kb"`
	// CPUSeconds is user plus system time since the process started.
	CPUSeconds float64 `json:"cpu_seconds"`
	// StartMs is from process start to the first healthy /healthz.
	StartMs float64 `json:"start_ms"`
}

// startReplica starts grantd serve with the rig's config and waits until
// it is healthy.
func (r *rig) startReplica(ctx context.Context, name string) (*replica, error) {
	addr, err := fleet.FreeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	path := filepath.Join(r.dir, name+".yaml")
	if err := os.WriteFile(path, []byte(r.config(addr)), 0o600); err != nil {
		return nil, err
	}
	logPath := filepath.Join(r.dir, name+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := exec.Command(r.opts.Binary, "serve", "--config", path)
	cmd.Env = append(os.Environ(), r.env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	p := &replica{name: name, addr: addr, cmd: cmd, log: logPath, done: make(chan struct{})}
	p.started = time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start replica %s: %w", name, err)
	}
	go func() {
		cmd.Wait()
		close(p.done)
	}()
	if p.ready, err = waitHealthy(ctx, "http://"+addr, p.done); err != nil {
		p.stop()
		return nil, fmt.Errorf("replica %s did not start: %w\n%s", name, err, tail(logPath, 20))
	}
	return p, nil
}

// stats reads the replica's resource use from /proc.
func (p *replica) stats() (ReplicaStats, error) {
	s := ReplicaStats{StartMs: float64(p.ready.Sub(p.started)) / float64(time.Millisecond)}
	pid := p.cmd.Process.Pid
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, err
	}
	for line := range strings.Lines(string(status)) {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		switch k {
		case "VmHWM":
			s.PeakRSSKB = kb(v)
		case "VmRSS":
			s.RSSKB = kb(v)
		}
	}
	cpu, err := cpuSeconds(pid)
	s.CPUSeconds = cpu
	return s, err
}

// cpuSeconds is the process's utime plus stime.
func cpuSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name, field 2, is in parentheses and may hold spaces.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: bad utime or stime", pid)
	}
	return float64(ut+st) / clockTicks, nil
}

func kb(v string) int64 {
	n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
	return n
}

// stop asks the replica to shut down and kills it after 10 s.
func (p *replica) stop() {
	p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
	}
}

// tail is the last n lines of the file at path.
func tail(path string, n int) string {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
