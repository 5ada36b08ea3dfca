// Command idle measures the CPU that an idle server uses: it starts the
// command given after its flags, lets it settle, then reads the process's
// user and system CPU time (utime + stime in /proc/PID/stat) at the start
// and at the end of a window in which nothing is sent to it, and prints the
// share of one core it used. It stops the server with SIGTERM. Linux only.
//
// Usage:
//
//	idle [-settle 5s] [-duration 60s] -- hfhooks serve --queue sqlite:/tmp/idle.db
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	settle := flag.Duration("settle", 5*time.Second, "time to let the server start before measuring")
	duration := flag.Duration("duration", time.Minute, "length of the idle window measured")
	flag.Parse()
	if flag.NArg() == 0 {
		log.Fatal("usage: idle [-settle D] [-duration D] -- COMMAND [ARG...]")
	}
	cmd := exec.Command(flag.Arg(0), flag.Args()[1:]...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		log.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	time.Sleep(*settle) // no request is sent: there is nothing to wait for but start-up
	start, err := cpuTime(cmd.Process.Pid)
	if err != nil {
		log.Fatal(err)
	}
	began := time.Now()
	time.Sleep(*duration)
	end, err := cpuTime(cmd.Process.Pid)
	if err != nil {
		log.Fatal(err)
	}
	used, wall := end-start, time.Since(began)
	fmt.Printf("%s: %v of CPU in %v idle: %.3f%% of one core\n", strings.Join(flag.Args(), " "), used, wall.Round(time.Millisecond), 100*used.Seconds()/wall.Seconds())
}

// clockTick is the unit of utime and stime: USER_HZ, 100 on Linux.
const clockTick = 10 * time.Millisecond

// cpuTime returns the user and system CPU time of process pid so far.
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name (field 2) is in parentheses and may hold spaces:
	// the fields after it start at the last ')'.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: bad utime or stime", pid)
	}
	return time.Duration(utime+stime) * clockTick, nil
}
