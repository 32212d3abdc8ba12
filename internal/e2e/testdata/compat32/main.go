//go:build amd64

// Command compat32 makes one system call through the i386 compat ABI
// (int $0x80 with getpid's i386 number, 20) on a thread of its own and
// prints what it returned, or "no answer" (exit 3) when that thread got
// none within 2 seconds (a seccomp filter killed the thread). The test
// that boxes refuse compat system calls runs it in a box.
package main

import (
	"fmt"
	"os"
	"runtime"
	"time"
)

// int80 makes i386 system call nr with no arguments.
func int80(nr uintptr) uintptr

func main() {
	answer := make(chan int64, 1)
	go func() {
		runtime.LockOSThread()
		answer <- int64(int32(int80(20)))
	}()
	select {
	case n := <-answer:
		fmt.Println(n)
	case <-time.After(2 * time.Second):
		fmt.Println("no answer")
		os.Exit(3)
	}
}
