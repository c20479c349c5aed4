// bboltgen: the Go (bbolt 1.3.6) side of boltpp's compatibility suite.
//
// Build (GOPATH mode, no network):
//
//	cd tests/compat/go/bboltgen
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o bboltgen .
//
// Commands:
//
//	bboltgen gen     -db F -seed S [workload flags] -dump D -checkout C
//	    Creates F, runs the seeded workload (stream 0), closes, reopens
//	    read-only, writes Go's tx.Check() errors to C and the canonical dump to D.
//	bboltgen mutate  -db F -seed S -round R [workload flags] -dump D -checkout C
//	    Opens the existing F read-write and runs the workload with stream R+1
//	    (ping-pong); then checks and dumps as gen does.
//	bboltgen dump    -db F -dump D -checkout C
//	    Opens F read-only, checks and dumps.
//	bboltgen summary -db F
//	    Prints "<hex bucket name> <number of non-bucket keys>" for every
//	    top-level bucket, in order.
//
// The workload, the PRNG and the dump format are specified in
// docs/compatibility.md and mirrored exactly in tests/compat/workload.cc: the
// same seed and flags must produce the same content on both sides.
package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ---------------------------------------------------------------- PRNG ----

type rng struct{ s uint64 }

func newRng(seed, stream uint64) *rng {
	return &rng{s: seed ^ (stream * 0xD1B54A32D192ED03)}
}

// next is splitmix64.
func (r *rng) next() uint64 {
	r.s += 0x9E3779B97F4A7C15
	z := r.s
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

func (r *rng) uniform(n uint64) uint64 {
	if n == 0 {
		return 0
	}
	return r.next() % n
}

// between returns a number in [lo, hi]; lo when hi <= lo.
func (r *rng) between(lo, hi int) int {
	if hi <= lo {
		return lo
	}
	return lo + int(r.uniform(uint64(hi-lo+1)))
}

func (r *rng) chance(pct int) bool { return int(r.uniform(100)) < pct }

func (r *rng) bytes(n int) []byte {
	out := make([]byte, n)
	for i := 0; i < n; i += 8 {
		v := r.next()
		for j := 0; j < 8 && i+j < n; j++ {
			out[i+j] = byte(v >> (8 * uint(j)))
		}
	}
	return out
}

func (r *rng) alpha(n int, base byte, span uint64) []byte {
	out := make([]byte, n)
	for i := range out {
		out[i] = base + byte(r.uniform(span))
	}
	return out
}

// -------------------------------------------------------------- config ----

type config struct {
	pageSize       int
	freelist       string
	noFreelistSync bool
	noSync         bool
	txs            int
	ops            int
	maxKey         int
	maxValue       int
	bulkMax        int
	maxDepth       int
	rollbackPct    int
	reopenPct      int
	bigFreelist    int // pages in the one huge value that is freed (0 = off)
	hugeValues     int // values over 1 MiB put first (0 = off)
}

func (c *config) register(fs *flag.FlagSet) {
	fs.IntVar(&c.pageSize, "pagesize", 4096, "page size of a new file")
	fs.StringVar(&c.freelist, "freelist", "array", "freelist type: array or hashmap")
	fs.BoolVar(&c.noFreelistSync, "nofreelistsync", false, "NoFreelistSync")
	fs.BoolVar(&c.noSync, "nosync", true, "NoSync (no fdatasync per commit)")
	fs.IntVar(&c.txs, "txs", 10, "transactions")
	fs.IntVar(&c.ops, "ops", 20, "maximum operations per transaction")
	fs.IntVar(&c.maxKey, "maxkey", 32768, "maximum key size")
	fs.IntVar(&c.maxValue, "maxvalue", 65536, "maximum value size")
	fs.IntVar(&c.bulkMax, "bulkmax", 300, "maximum keys in one bulk put")
	fs.IntVar(&c.maxDepth, "maxdepth", 6, "maximum bucket nesting depth")
	fs.IntVar(&c.rollbackPct, "rollback", 10, "percentage of transactions rolled back")
	fs.IntVar(&c.reopenPct, "reopen", 10, "percentage of transactions preceded by close+reopen")
	fs.IntVar(&c.bigFreelist, "bigfreelist", 0, "pages of one huge value put then deleted first (0 = off)")
	fs.IntVar(&c.hugeValues, "hugevalues", 0, "values over 1 MiB put in the first transaction (0 = off)")
}

// ------------------------------------------------------------ workload ----

type path []string

func comparePaths(a, b path) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if c := strings.Compare(a[i], b[i]); c != 0 {
			return c
		}
	}
	return len(a) - len(b)
}

func isPrefix(prefix, p path) bool {
	if len(prefix) > len(p) {
		return false
	}
	for i := range prefix {
		if prefix[i] != p[i] {
			return false
		}
	}
	return true
}

type workload struct {
	cfg     config
	r       *rng
	dbPath  string
	db      *bolt.DB
	buckets []path // every bucket, sorted (depth-first order)
	seed    uint64
	stream  uint64
	txNum   int
	opNum   int
}

func fatalf(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "bboltgen: "+format+"\n", args...)
	os.Exit(2)
}

func (w *workload) fail(what string, err error) {
	fatalf("seed %d stream %d tx %d op %d: %s: %v", w.seed, w.stream, w.txNum, w.opNum, what, err)
}

func (w *workload) options() *bolt.Options {
	return &bolt.Options{
		Timeout:        10 * time.Second,
		PageSize:       w.cfg.pageSize,
		FreelistType:   bolt.FreelistType(w.cfg.freelist),
		NoFreelistSync: w.cfg.noFreelistSync,
		NoSync:         w.cfg.noSync,
	}
}

func (w *workload) open() {
	db, err := bolt.Open(w.dbPath, 0600, w.options())
	if err != nil {
		w.fail("open", err)
	}
	db.NoSync = w.cfg.noSync
	w.db = db
}

func (w *workload) close() {
	if err := w.db.Close(); err != nil {
		w.fail("close", err)
	}
	w.db = nil
}

func (w *workload) insertBucket(p path) {
	i := sort.Search(len(w.buckets), func(i int) bool { return comparePaths(w.buckets[i], p) >= 0 })
	w.buckets = append(w.buckets, nil)
	copy(w.buckets[i+1:], w.buckets[i:])
	w.buckets[i] = p
}

func (w *workload) removeBucketTree(p path) {
	out := w.buckets[:0]
	for _, q := range w.buckets {
		if !isPrefix(p, q) {
			out = append(out, q)
		}
	}
	w.buckets = out
}

// loadBuckets rebuilds the bucket list from the file (for mutate).
func (w *workload) loadBuckets() {
	w.buckets = nil
	err := w.db.View(func(tx *bolt.Tx) error {
		var walk func(b *bolt.Bucket, p path)
		walk = func(b *bolt.Bucket, p path) {
			w.buckets = append(w.buckets, p)
			c := b.Cursor()
			for k, v := c.First(); k != nil; k, v = c.Next() {
				if v == nil {
					if child := b.Bucket(k); child != nil {
						q := append(append(path{}, p...), string(k))
						walk(child, q)
					}
				}
			}
		}
		c := tx.Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			walk(tx.Bucket(k), path{string(k)})
		}
		return nil
	})
	if err != nil {
		w.fail("load buckets", err)
	}
}

func (w *workload) bucketAt(tx *bolt.Tx, p path) *bolt.Bucket {
	b := tx.Bucket([]byte(p[0]))
	for _, n := range p[1:] {
		if b == nil {
			break
		}
		b = b.Bucket([]byte(n))
	}
	if b == nil {
		fatalf("seed %d stream %d tx %d op %d: bucket %s is missing", w.seed, w.stream, w.txNum, w.opNum, hexPath(p))
	}
	return b
}

func (w *workload) pick() path { return w.buckets[w.r.uniform(uint64(len(w.buckets)))] }

func isBucket(b *bolt.Bucket, k, v []byte) bool { return v == nil && b.Bucket(k) != nil }

// kind: 0 missing, 1 plain key, 2 bucket.
func kind(b *bolt.Bucket, k []byte) int {
	ck, cv := b.Cursor().Seek(k)
	if ck == nil || !bytes.Equal(ck, k) {
		return 0
	}
	if isBucket(b, ck, cv) {
		return 2
	}
	return 1
}

func (w *workload) genKey() []byte {
	r := w.r.uniform(100)
	var n int
	switch {
	case r < 45:
		n = w.r.between(1, 6)
		if n > w.cfg.maxKey {
			n = w.cfg.maxKey
		}
		return w.r.alpha(n, 'a', 6)
	case r < 85:
		n = w.r.between(1, 24)
	case r < 97:
		n = w.r.between(25, 512)
	default:
		n = w.r.between(513, w.cfg.maxKey)
	}
	if n > w.cfg.maxKey {
		n = w.cfg.maxKey
	}
	return w.r.bytes(n)
}

func (w *workload) genName() []byte {
	n := w.r.between(1, 10)
	if w.r.chance(70) {
		return w.r.alpha(n, 'A', 26)
	}
	return w.r.bytes(n)
}

func (w *workload) genValue() []byte {
	r := w.r.uniform(1000)
	ps := w.cfg.pageSize
	var n int
	switch {
	case r < 80:
		n = 0
	case r < 600:
		n = w.r.between(1, 64)
	case r < 850:
		n = w.r.between(65, ps)
	case r < 970:
		n = w.r.between(ps+1, 4*ps)
	default:
		n = w.r.between(4*ps+1, w.cfg.maxValue)
	}
	if n > w.cfg.maxValue {
		n = w.cfg.maxValue
	}
	return w.r.bytes(n)
}

func clone(b []byte) []byte { return append([]byte{}, b...) }

func (w *workload) op(tx *bolt.Tx) {
	if len(w.buckets) == 0 {
		w.createBucket(tx, true)
		return
	}
	r := w.r.uniform(100)
	switch {
	case r < 38:
		p := w.pick()
		k := w.genKey()
		v := w.genValue()
		b := w.bucketAt(tx, p)
		if kind(b, k) != 2 {
			if err := b.Put(k, v); err != nil {
				w.fail("put", err)
			}
		}
	case r < 50:
		p := w.pick()
		probe := w.genKey()
		b := w.bucketAt(tx, p)
		c := b.Cursor()
		k, v := c.Seek(probe)
		if k == nil {
			k, v = c.First()
		}
		if k != nil && !isBucket(b, k, v) {
			if err := b.Delete(clone(k)); err != nil {
				w.fail("delete", err)
			}
		}
	case r < 60:
		w.createBucket(tx, false)
	case r < 64:
		p := w.buckets[w.r.uniform(uint64(len(w.buckets)))]
		var err error
		if len(p) == 1 {
			err = tx.DeleteBucket([]byte(p[0]))
		} else {
			err = w.bucketAt(tx, p[:len(p)-1]).DeleteBucket([]byte(p[len(p)-1]))
		}
		if err != nil {
			w.fail("delete bucket "+hexPath(p), err)
		}
		w.removeBucketTree(p)
	case r < 70:
		p := w.pick()
		b := w.bucketAt(tx, p)
		if w.r.chance(50) {
			v := w.r.next()
			if w.r.chance(50) {
				v = w.r.uniform(1000)
			}
			if err := b.SetSequence(v); err != nil {
				w.fail("set sequence", err)
			}
		} else {
			prev := b.Sequence()
			n, err := b.NextSequence()
			if err != nil {
				w.fail("next sequence", err)
			}
			if n != prev+1 {
				fatalf("seed %d: NextSequence returned %d after %d", w.seed, n, prev)
			}
		}
	case r < 78:
		p := w.pick()
		n := w.r.between(10, w.cfg.bulkMax)
		prefix := w.r.alpha(w.r.between(1, 4), 'a', 6)
		vmaxes := []int{16, 100, w.cfg.pageSize / 2, w.cfg.pageSize * 2}
		vmax := vmaxes[w.r.uniform(4)]
		if vmax > 16384 {
			vmax = 16384
		}
		if vmax > w.cfg.maxValue {
			vmax = w.cfg.maxValue
		}
		stride := w.r.between(1, 3)
		fills := []float64{0.1, 0.5, 0.9, 1.0}
		fill := fills[w.r.uniform(4)]
		b := w.bucketAt(tx, p)
		b.FillPercent = fill
		for i := 0; i < n; i++ {
			k := make([]byte, len(prefix)+4)
			copy(k, prefix)
			binary.BigEndian.PutUint32(k[len(prefix):], uint32(i*stride))
			v := w.r.bytes(w.r.between(0, vmax))
			if kind(b, k) != 2 {
				if err := b.Put(k, v); err != nil {
					w.fail("bulk put", err)
				}
			}
		}
	case r < 83:
		p := w.pick()
		probe := w.genKey()
		n := w.r.between(1, 200)
		b := w.bucketAt(tx, p)
		var keys [][]byte
		c := b.Cursor()
		for k, v := c.Seek(probe); k != nil && len(keys) < n; k, v = c.Next() {
			if !isBucket(b, k, v) {
				keys = append(keys, clone(k))
			}
		}
		for _, k := range keys {
			if err := b.Delete(k); err != nil {
				w.fail("bulk delete", err)
			}
		}
	case r < 88:
		p := w.pick()
		probe := w.genKey()
		b := w.bucketAt(tx, p)
		c := b.Cursor()
		k, v := c.Seek(probe)
		if k != nil && !isBucket(b, k, v) {
			if err := c.Delete(); err != nil {
				w.fail("cursor delete", err)
			}
		}
	default:
		p := w.pick()
		probe := w.genKey()
		b := w.bucketAt(tx, p)
		c := b.Cursor()
		k, v := c.Seek(probe)
		if k == nil {
			k, v = c.First()
		}
		if k != nil && !isBucket(b, k, v) {
			kk := clone(k)
			nv := w.genValue()
			if err := b.Put(kk, nv); err != nil {
				w.fail("overwrite", err)
			}
		}
	}
}

func (w *workload) createBucket(tx *bolt.Tx, top bool) {
	parentTop := top || w.r.chance(25)
	var p path
	if !parentTop {
		p = w.pick()
		if len(p) >= w.cfg.maxDepth {
			parentTop = true
		}
	}
	name := w.genName()
	var nb *bolt.Bucket
	var np path
	var err error
	if parentTop {
		if tx.Bucket(name) != nil {
			return
		}
		nb, err = tx.CreateBucket(name)
		np = path{string(name)}
	} else {
		b := w.bucketAt(tx, p)
		if kind(b, name) != 0 {
			return
		}
		nb, err = b.CreateBucket(name)
		np = append(append(path{}, p...), string(name))
	}
	if err != nil {
		w.fail("create bucket", err)
	}
	w.insertBucket(np)
	if w.r.chance(50) {
		n := w.r.between(0, 8)
		for i := 0; i < n; i++ {
			k := w.genKey()
			v := w.r.bytes(w.r.between(0, 40))
			if err := nb.Put(k, v); err != nil {
				w.fail("populate", err)
			}
		}
	}
}

func (w *workload) bigFreelist() {
	name := []byte("\x00bigfreelist")
	err := w.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(name)
		if err != nil {
			return err
		}
		return b.Put([]byte("huge"), bytes.Repeat([]byte{0x5a}, w.cfg.bigFreelist*w.cfg.pageSize-64))
	})
	if err != nil {
		w.fail("big freelist put", err)
	}
	err = w.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(name).Delete([]byte("huge")) })
	if err != nil {
		w.fail("big freelist delete", err)
	}
	w.close()
	w.open()
	w.loadBuckets()
}

func (w *workload) putHugeValues() {
	name := []byte("\x00hugevalues")
	err := w.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(name)
		if err != nil {
			return err
		}
		for i := 0; i < w.cfg.hugeValues; i++ {
			k := w.genKey()
			lo := 1<<20 + 1
			hi := w.cfg.maxValue
			if hi < lo {
				hi = lo
			}
			if err := b.Put(k, w.r.bytes(w.r.between(lo, hi))); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		w.fail("huge values", err)
	}
	// The bucket stays out of w.buckets, so the random operations never
	// delete these values: the reader must see them.
}

func (w *workload) run() {
	for t := 0; t < w.cfg.txs; t++ {
		w.txNum = t
		w.opNum = -1
		if t > 0 && w.r.chance(w.cfg.reopenPct) {
			w.close()
			w.open()
		}
		nops := w.r.between(1, w.cfg.ops)
		rollback := w.r.chance(w.cfg.rollbackPct)
		snap := append([]path{}, w.buckets...)
		tx, err := w.db.Begin(true)
		if err != nil {
			w.fail("begin", err)
		}
		for i := 0; i < nops; i++ {
			w.opNum = i
			w.op(tx)
		}
		if rollback {
			if err := tx.Rollback(); err != nil {
				w.fail("rollback", err)
			}
			w.buckets = snap
		} else if err := tx.Commit(); err != nil {
			w.fail("commit", err)
		}
	}
}

// ---------------------------------------------------------------- dump ----

func hexPath(p path) string {
	parts := make([]string, len(p))
	for i, n := range p {
		parts[i] = hex.EncodeToString([]byte(n))
	}
	return strings.Join(parts, "/")
}

func hexValue(v []byte) string {
	if len(v) == 0 {
		return "-"
	}
	return hex.EncodeToString(v)
}

// writeDump writes the canonical dump (see docs/compatibility.md).
func writeDump(tx *bolt.Tx, out *bufio.Writer) {
	nb, nk := 0, 0
	var walk func(b *bolt.Bucket, hp string)
	walk = func(b *bolt.Bucket, hp string) {
		nb++
		fmt.Fprintf(out, "B %s %d\n", hp, b.Sequence())
		c := b.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if isBucket(b, k, v) {
				walk(b.Bucket(k), hp+"/"+hex.EncodeToString(k))
			} else {
				nk++
				out.WriteString("K ")
				out.WriteString(hp)
				out.WriteByte(' ')
				out.WriteString(hex.EncodeToString(k))
				out.WriteByte(' ')
				out.WriteString(hexValue(v))
				out.WriteByte('\n')
			}
		}
	}
	c := tx.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		walk(tx.Bucket(k), hex.EncodeToString(k))
	}
	fmt.Fprintf(out, "T %d %d\n", nb, nk)
}

func checkAndDump(dbPath, dumpPath, checkPath string) {
	db, err := bolt.Open(dbPath, 0600, &bolt.Options{ReadOnly: true, Timeout: 10 * time.Second})
	if err != nil {
		fatalf("open read-only %s: %v", dbPath, err)
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		if checkPath != "" {
			f, err := os.Create(checkPath)
			if err != nil {
				return err
			}
			for cerr := range tx.Check() {
				fmt.Fprintln(f, cerr.Error())
			}
			if err := f.Close(); err != nil {
				return err
			}
		}
		if dumpPath != "" {
			f, err := os.Create(dumpPath)
			if err != nil {
				return err
			}
			out := bufio.NewWriterSize(f, 1<<20)
			writeDump(tx, out)
			if err := out.Flush(); err != nil {
				return err
			}
			return f.Close()
		}
		return nil
	})
	if err != nil {
		fatalf("check/dump %s: %v", dbPath, err)
	}
}

func summary(dbPath string) {
	db, err := bolt.Open(dbPath, 0600, &bolt.Options{ReadOnly: true, Timeout: 10 * time.Second})
	if err != nil {
		fatalf("open read-only %s: %v", dbPath, err)
	}
	defer db.Close()
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	_ = db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			n := 0
			c := b.Cursor()
			for k, v := c.First(); k != nil; k, v = c.Next() {
				if !isBucket(b, k, v) {
					n++
				}
			}
			fmt.Fprintf(out, "%s %d\n", hex.EncodeToString(name), n)
			return nil
		})
	})
}

// ---------------------------------------------------------------- main ----

func main() {
	if len(os.Args) < 2 {
		fatalf("usage: bboltgen gen|mutate|dump|summary [flags]")
	}
	cmd := os.Args[1]
	fs := flag.NewFlagSet(cmd, flag.ExitOnError)
	var cfg config
	cfg.register(fs)
	dbPath := fs.String("db", "", "database file")
	seedStr := fs.String("seed", "1", "workload seed (uint64)")
	round := fs.Int("round", 0, "ping-pong round (mutate)")
	dumpPath := fs.String("dump", "", "write the canonical dump here")
	checkPath := fs.String("checkout", "", "write Go's tx.Check() errors here, one per line")
	_ = fs.Parse(os.Args[2:])
	if *dbPath == "" {
		fatalf("-db is required")
	}
	seed, err := strconv.ParseUint(*seedStr, 0, 64)
	if err != nil {
		fatalf("bad -seed: %v", err)
	}
	switch cmd {
	case "gen", "mutate":
		w := &workload{cfg: cfg, dbPath: *dbPath, seed: seed}
		if cmd == "gen" {
			if _, err := os.Stat(*dbPath); err == nil {
				fatalf("gen: %s already exists", *dbPath)
			}
			w.stream = 0
		} else {
			if _, err := os.Stat(*dbPath); err != nil {
				fatalf("mutate: %v", err)
			}
			w.stream = uint64(*round) + 1
		}
		w.r = newRng(seed, w.stream)
		w.open()
		w.loadBuckets()
		if cfg.bigFreelist > 0 {
			w.bigFreelist()
		}
		if cfg.hugeValues > 0 {
			w.putHugeValues()
		}
		w.run()
		w.close()
		checkAndDump(*dbPath, *dumpPath, *checkPath)
	case "dump":
		checkAndDump(*dbPath, *dumpPath, *checkPath)
	case "summary":
		summary(*dbPath)
	default:
		fatalf("unknown command %q", cmd)
	}
}
