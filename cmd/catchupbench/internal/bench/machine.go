package bench

import (
	"fmt"
	"os"
	"runtime"
	"strings"
)

// Machine describes where figures were measured.
type Machine struct {
	CPUs     int    // runtime.NumCPU: what this process may use (nproc)
	Model    string // "model name" of /proc/cpuinfo
	MemTotal string // MemTotal of /proc/meminfo
	Go       string
}

// ThisMachine reads /proc; fields it cannot read stay empty.
func ThisMachine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), Go: runtime.Version()}
	m.Model = procField("/proc/cpuinfo", "model name")
	m.MemTotal = procField("/proc/meminfo", "MemTotal")
	return m
}

// LoadAverage is the first three fields of /proc/loadavg ("" when unknown):
// how busy the machine was with other work.
func LoadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// procField returns the value of the first "name: value" line of file.
func procField(file, name string) string {
	b, err := os.ReadFile(file)
	if err != nil {
		return ""
	}
	for line := range strings.Lines(string(b)) {
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.TrimSpace(k) == name {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func (m Machine) String() string {
	return fmt.Sprintf("%d CPUs (nproc), %s, %s memory, %s", m.CPUs, m.Model, m.MemTotal, m.Go)
}
