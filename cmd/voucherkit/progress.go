package main

import (
	"io"
	"os"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progressAfter is how long a run goes before it shows a progress bar: a short run
// prints none.
const progressAfter = time.Second

// progress is simulate's progress bar on standard error: shown only when standard
// error is a terminal and the run has lasted progressAfter, and cleared when done. It
// counts the input's bytes when the input's size is known, else the items.
type progress struct {
	w       io.Writer
	on      bool
	started time.Time
	size    int64
	read    *countingReader
	bar     *progressbar.ProgressBar
}

func newProgress(stderr io.Writer, auto bool, size int64, read *countingReader) *progress {
	f, isFile := stderr.(*os.File)
	on := auto && isFile && term.IsTerminal(int(f.Fd()))
	return &progress{w: stderr, on: on, started: time.Now(), size: size, read: read}
}

func (p *progress) update(items int64) {
	if !p.on {
		return
	}
	if p.bar == nil {
		if time.Since(p.started) < progressAfter {
			return
		}
		opts := []progressbar.Option{progressbar.OptionSetWriter(p.w), progressbar.OptionSetDescription("simulating"),
			progressbar.OptionThrottle(200 * time.Millisecond), progressbar.OptionClearOnFinish(), progressbar.OptionSetPredictTime(true)}
		if p.size > 0 {
			opts = append(opts, progressbar.OptionShowBytes(true))
		} else {
			opts = append(opts, progressbar.OptionShowCount(), progressbar.OptionSetItsString("items"), progressbar.OptionShowIts())
		}
		max := p.size
		if max <= 0 {
			max = -1
		}
		p.bar = progressbar.NewOptions64(max, opts...)
	}
	if p.size > 0 {
		_ = p.bar.Set64(p.read.n.Load())
	} else {
		_ = p.bar.Set64(items)
	}
}

func (p *progress) done() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n.Add(int64(n))
	return n, err
}

// inputSize is the size of a regular input file, or 0 (standard input, unknown).
func inputSize(path string) int64 {
	if path == "-" {
		return 0
	}
	fi, err := os.Stat(path)
	if err != nil || !fi.Mode().IsRegular() {
		return 0
	}
	return fi.Size()
}
