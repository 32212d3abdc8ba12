package bench

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	agentclient "github.com/PostHog/hogland/internal/panion/client"
)

// fileSizes are the transfers measured: 1 MiB and 64 MiB.
var fileSizes = []struct {
	label string
	size  int
}{{"1 MiB", 1 << 20}, {"64 MiB", 64 << 20}}

// randomBytes is n bytes of cheap pseudo-random data (incompressible
// enough that no layer gets it for free).
func randomBytes(n int) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{'h', 'o', 'g'})
	_, _ = r.Read(b)
	return b
}

func (x *runner) benchFiles(ctx context.Context) error {
	p := x.plane
	b, err := p.CreateBox(ctx, x.cfg.Image)
	if err != nil {
		return err
	}
	defer func() { _ = p.DeleteBox(context.WithoutCancel(ctx), b.ID) }()
	agent := p.Agent(b.ID)
	defer agent.Close()
	r := x.rep
	const sec = "files"
	for i, fs := range fileSizes {
		reps := x.cfg.FileRepsSmall
		if i > 0 {
			reps = x.cfg.FileRepsLarge
		}
		x.progress("files: %d writes and reads of %s, interleaved with host write+fsync and read", reps, fs.label)
		data := randomBytes(fs.size)
		size := int64(fs.size)
		path := fmt.Sprintf("/root/hogbench-%d.bin", fs.size)
		var hostW, hostR, boxW, boxR, agentW, agentR, hashes []time.Duration
		for range reps {
			w, rd, err := hostWriteRead(x.dataDir, data)
			if err != nil {
				return err
			}
			hostW, hostR = append(hostW, w), append(hostR, rd)
			start := time.Now()
			if err := p.WriteFile(ctx, b.ID, path, data, ""); err != nil {
				return err
			}
			boxW = append(boxW, time.Since(start))
			start = time.Now()
			n, err := p.ReadFile(ctx, b.ID, path)
			if err != nil {
				return err
			}
			if n != int64(fs.size) {
				return fmt.Errorf("read %s: %d bytes, want %d", path, n, fs.size)
			}
			boxR = append(boxR, time.Since(start))
			// As hogplane asks it: hogplane hashes the bytes itself, on the
			// host, as they pass.
			start = time.Now()
			if _, err := agent.WriteFileWith(ctx, path, bytes.NewReader(data), agentclient.WriteOptions{Mode: 0o644, NoHash: true, Size: size}); err != nil {
				return fmt.Errorf("agent write: %w", err)
			}
			agentW = append(agentW, time.Since(start))
			start = time.Now()
			rc, err := agent.ReadFile(ctx, path)
			if err != nil {
				return fmt.Errorf("agent read: %w", err)
			}
			n, err = discard(rc)
			rc.Close()
			if err != nil || n != int64(fs.size) {
				return fmt.Errorf("agent read: %d bytes of %d: %v", n, fs.size, err)
			}
			agentR = append(agentR, time.Since(start))
			start = time.Now()
			sha256.Sum256(data)
			hashes = append(hashes, time.Since(start))
		}
		key := fmt.Sprintf("%dmib", fs.size>>20)
		hw := r.series("host_write_"+key+"_mibps", mibpsAll(size, hostW))
		hr := r.series("host_read_"+key+"_mibps", mibpsAll(size, hostR))
		bw := r.series("write_"+key+"_mibps", mibpsAll(size, boxW))
		br := r.series("read_"+key+"_mibps", mibpsAll(size, boxR))
		aw := r.series("agent_write_"+key+"_mibps", mibpsAll(size, agentW))
		ar := r.series("agent_read_"+key+"_mibps", mibpsAll(size, agentR))
		hash := r.series("host_sha256_"+key+"_mibps", mibpsAll(size, hashes))
		write := newFigure(sec, "write_"+key+"_p50_mibps", fmt.Sprintf("write %s (PUT …/files), p50", fs.label), "MiB/s", float64(bw.P50)).
			vs(fmt.Sprintf("host write+fsync of %s, p50", fs.label), float64(hw.P50))
		if fs.size == 64<<20 {
			write = write.atLeast("≥ 30% of baseline", 0.3*float64(hw.P50))
		}
		r.add(write,
			newFigure(sec, "read_"+key+"_p50_mibps", fmt.Sprintf("read %s (GET …/files), p50", fs.label), "MiB/s", float64(br.P50)).
				vs(fmt.Sprintf("host read of %s, p50", fs.label), float64(hr.P50)),
		)
		r.addBreak(
			newFigure(sec, "agent_write_"+key+"_p50_mibps", fmt.Sprintf("write %s straight to the agent's socket (no hogplane; unhashed, as hogplane asks), p50", fs.label), "MiB/s", float64(aw.P50)).
				vs(fmt.Sprintf("host write+fsync of %s, p50", fs.label), float64(hw.P50)),
			newFigure(sec, "agent_read_"+key+"_p50_mibps", fmt.Sprintf("read %s straight from the agent's socket, p50", fs.label), "MiB/s", float64(ar.P50)).
				vs(fmt.Sprintf("host read of %s, p50", fs.label), float64(hr.P50)),
			newFigure(sec, "host_sha256_"+key+"_p50_mibps", fmt.Sprintf("Go SHA-256 of %s on one host core (hogplane hashes every byte written, beside the transfer), p50", fs.label), "MiB/s", float64(hash.P50)).
				vs(fmt.Sprintf("host write+fsync of %s, p50", fs.label), float64(hw.P50)),
			newFigure(sec, "write_"+key+"_vs_sha256", fmt.Sprintf("write %s (PUT …/files) against its floor, the SHA-256 of the bytes on one core, p50", fs.label), "MiB/s", float64(bw.P50)).
				vs(fmt.Sprintf("Go SHA-256 of %s on one host core, p50", fs.label), float64(hash.P50)),
		)
	}

	// The disk layer alone: dd in the box through the overlay onto its
	// loop-mounted ext4, timed by the agent (ms resolution).
	const ddSize = 64 << 20
	x.progress("files: %d in-box dd writes (+fsync) of 64 MiB", x.cfg.FileRepsLarge)
	var dd []float64
	for range x.cfg.FileRepsLarge {
		res, err := p.Exec(ctx, b.ID, "dd", "if=/dev/zero", "of=/root/hogbench-dd.bin", "bs=1M", "count=64", "conv=fsync")
		if err != nil {
			return err
		}
		dd = append(dd, mibps(ddSize, time.Duration(max(res.DurationMS, 1))*time.Millisecond))
	}
	ddS := r.series("box_dd_64mib_mibps", dd)
	r.addBreak(newFigure(sec, "box_dd_64mib_p50_mibps", "in-box `dd` write+fsync of 64 MiB (overlay on the loop-mounted ext4, no API), p50", "MiB/s", float64(ddS.P50)).
		vs("host write+fsync of 64 MiB, p50", float64(r.Series["host_write_64mib_mibps"].P50)))
	return nil
}

// discard reads r to its end and returns the count.
func discard(r io.Reader) (int64, error) { return io.Copy(io.Discard, r) }
