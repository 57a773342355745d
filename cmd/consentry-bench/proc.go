package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat: 100
// on every Linux architecture Go supports.
const clockTicks = 100

// procSample is one reading of a process's CPU time and memory.
type procSample struct {
	at    time.Time
	cpu   float64 // utime + stime, seconds
	rss   int64   // VmRSS, bytes
	hwm   int64   // VmHWM (peak RSS so far), bytes
	valid bool
}

// readProc reads /proc/<pid>/stat and /proc/<pid>/status.
func readProc(pid int) (procSample, error) {
	s := procSample{at: time.Now()}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, err
	}
	if s.cpu, err = parseStatCPU(stat); err != nil {
		return s, err
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, err
	}
	s.rss, s.hwm = parseStatusMem(status)
	s.valid = true
	return s, nil
}

// parseStatCPU returns utime+stime in seconds from /proc/PID/stat. The
// command name (field 2) is in parentheses and may hold spaces, so fields
// are counted from the last ')'.
func parseStatCPU(stat []byte) (float64, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("malformed /proc stat")
	}
	f := strings.Fields(string(stat[i+1:]))
	// f[0] is field 3 (state); utime is field 14, stime field 15.
	if len(f) < 13 {
		return 0, errors.New("short /proc stat")
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("malformed utime/stime %q %q", f[11], f[12])
	}
	return float64(ut+st) / clockTicks, nil
}

// parseStatusMem returns VmRSS and VmHWM in bytes from /proc/PID/status.
func parseStatusMem(status []byte) (rss, hwm int64) {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		line := sc.Text()
		var dst *int64
		switch {
		case strings.HasPrefix(line, "VmRSS:"):
			dst = &rss
		case strings.HasPrefix(line, "VmHWM:"):
			dst = &hwm
		default:
			continue
		}
		f := strings.Fields(line)
		if len(f) >= 2 {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			*dst = kb * 1024
		}
	}
	return rss, hwm
}

// sampler reads a process's /proc entries periodically.
type sampler struct {
	pid     int
	mu      sync.Mutex
	samples []procSample
	stop    chan struct{}
	done    chan struct{}
}

func startSampler(pid int, every time.Duration) *sampler {
	s := &sampler{pid: pid, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			if p, err := readProc(pid); err == nil {
				s.mu.Lock()
				s.samples = append(s.samples, p)
				s.mu.Unlock()
			}
			select {
			case <-t.C:
			case <-s.stop:
				return
			}
		}
	}()
	return s
}

func (s *sampler) close() {
	close(s.stop)
	<-s.done
}

// now takes a sample at once (phase boundaries).
func (s *sampler) now() procSample {
	p, err := readProc(s.pid)
	if err == nil {
		s.mu.Lock()
		s.samples = append(s.samples, p)
		s.mu.Unlock()
	}
	return p
}

// window summarises the samples between from and to: cores used (CPU
// seconds per second) and the largest RSS seen.
func (s *sampler) window(from, to procSample) (cores float64, maxRSS int64) {
	if !from.valid || !to.valid {
		return 0, 0
	}
	if dt := to.at.Sub(from.at).Seconds(); dt > 0 {
		cores = (to.cpu - from.cpu) / dt
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.samples {
		if !p.at.Before(from.at) && !p.at.After(to.at) && p.rss > maxRSS {
			maxRSS = p.rss
		}
	}
	return cores, maxRSS
}

// collector is a running distribution.
type collector struct {
	cmd    *exec.Cmd
	done   chan error
	logf   *os.File
	logPth string
}

func freePorts(names ...string) (map[string]int, error) {
	out := map[string]int{}
	var lns []net.Listener
	defer func() {
		for _, l := range lns {
			l.Close()
		}
	}()
	for _, n := range names {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		lns = append(lns, ln)
		out[n] = ln.Addr().(*net.TCPAddr).Port
	}
	return out, nil
}

// startCollector starts binary with the config in dir and waits until its
// health check answers.
func startCollector(ctx context.Context, binary, dir string, config []byte, env []string, healthPort int, wait time.Duration) (*collector, error) {
	cfgPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgPath, config, 0o600); err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, "collector.log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(binary, "--config", cfgPath)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Dir = dir
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	c := &collector{cmd: cmd, done: make(chan error, 1), logf: logf, logPth: logPath}
	go func() { c.done <- cmd.Wait() }()
	health := fmt.Sprintf("http://127.0.0.1:%d/status", healthPort)
	deadline := time.Now().Add(wait)
	for {
		select {
		case err := <-c.done:
			c.done <- err
			return nil, fmt.Errorf("the collector exited while starting (%v); its log:\n%s", err, c.tail(4000))
		case <-ctx.Done():
			c.stop()
			return nil, ctx.Err()
		default:
		}
		if resp, err := http.Get(health); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return c, nil
			}
		}
		if time.Now().After(deadline) {
			c.stop()
			return nil, fmt.Errorf("the collector was not healthy within %s; its log:\n%s", wait, c.tail(4000))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (c *collector) pid() int { return c.cmd.Process.Pid }

// tail returns the end of the collector's log.
func (c *collector) tail(n int64) string {
	f, err := os.Open(c.logPth)
	if err != nil {
		return ""
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > n {
		_, _ = f.Seek(st.Size()-n, io.SeekStart)
	}
	b, _ := io.ReadAll(f)
	return string(b)
}

// stop interrupts the collector and waits for it (killing it after 60 s).
func (c *collector) stop() error {
	defer c.logf.Close()
	_ = c.cmd.Process.Signal(syscall.SIGINT)
	select {
	case err := <-c.done:
		c.done <- err
		return nil
	case <-time.After(60 * time.Second):
		_ = c.cmd.Process.Kill()
		err := <-c.done
		c.done <- err
		return errors.New("the collector did not stop within 60 s of SIGINT and was killed")
	}
}
