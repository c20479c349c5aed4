// bench/go/main.go: the Go bbolt side of boltpp's benchmark. It runs the same
// suites as bench/src/workloads.cc (same phase names, counts, key and value
// streams, checks) against go.etcd.io/bbolt with its default options, and
// speaks the same line protocol on stdout. boltpp_bench starts it as a child
// process, one suite per process.
//
// Build (Debian golang-github-coreos-bbolt-dev):
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o boltbench-go ./bench/go
package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ------------------------------------------------------------ RNG and data

type rng struct{ s uint64 }

func (r *rng) next() uint64 {
	r.s += 0x9E3779B97F4A7C15
	z := r.s
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}
func (r *rng) below(n uint64) uint64 { return r.next() % n }

const (
	keySize   = 24
	valueSize = 150
	golden    = 0x9E3779B97F4A7C15
)

func elementRng(seed, i uint64) rng { return rng{seed*0xD1B54A32D192ED03 + i*64*golden} }

func makeKey(seed, i uint64, key []byte) {
	r := elementRng(seed, i)
	for w := 0; w < 3; w++ {
		binary.LittleEndian.PutUint64(key[8*w:], r.next())
	}
}

// valueWord: the key of element i, and the expected first 8 value bytes.
func valueWord(seed, i uint64, key []byte) uint64 {
	r := elementRng(seed, i)
	for w := 0; w < 3; w++ {
		binary.LittleEndian.PutUint64(key[8*w:], r.next())
	}
	return r.next()
}

func makeKeyValue(seed, i uint64, key, value []byte) {
	r := elementRng(seed, i)
	for w := 0; w < 3; w++ {
		binary.LittleEndian.PutUint64(key[8*w:], r.next())
	}
	var buf [152]byte
	for w := 0; w < 19; w++ {
		binary.LittleEndian.PutUint64(buf[8*w:], r.next())
	}
	copy(value, buf[:valueSize])
}

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func makeJSON(r *rng, job uint64, kind string) []byte {
	target := 300 + int(r.below(301))
	out := []byte(fmt.Sprintf("{\"id\":\"job-%012d\",\"kind\":\"%s\",\"attempt\":1,\"worker\":\"w-%02d\",\"payload\":\"", job, kind, job%16))
	fill := 0
	if target > len(out)+2 {
		fill = target - len(out) - 2
	}
	for fill > 0 {
		x := r.next()
		for j := 0; j < 8 && fill > 0; j, fill = j+1, fill-1 {
			out = append(out, alnum[((x>>(8*uint(j)))&0xFF)%62])
		}
	}
	return append(out, '"', '}')
}

func jobID(job uint64) string { return fmt.Sprintf("job-%012d", job) }

// ------------------------------------------------------------ protocol

func emit(m map[string]interface{}) {
	b, _ := json.Marshal(m)
	os.Stdout.Write(append(b, '\n'))
}
func emitBegin(phase string) { emit(map[string]interface{}{"ev": "begin", "phase": phase}) }
func emitResult(phase string, ops float64, d time.Duration, unit string) {
	emit(map[string]interface{}{"ev": "result", "phase": phase, "ops": ops, "seconds": d.Seconds(), "unit": unit})
}
// emitStartRss reports VmRSS before the database is opened (the Go runtime's
// baseline, which the memory table subtracts).
func emitStartRss() {
	var kb int64
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "VmRSS:") {
				fmt.Sscan(strings.TrimSpace(strings.TrimPrefix(line, "VmRSS:")), &kb)
			}
		}
	}
	emit(map[string]interface{}{"ev": "start", "rss_kb": kb})
}
func emitBytes(phase string, n int64) {
	emit(map[string]interface{}{"ev": "bytes", "phase": phase, "bytes": n})
}

func dirBytes(dir string) int64 {
	var total int64
	filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() {
			total += info.Size()
		}
		return nil
	})
	return total
}

// ------------------------------------------------------------ config

type config struct {
	suite, mode, dir                               string
	n, seed, individual, batches, batchKeys, scans uint64
	bboltBatch, jobs                               uint64
	readSeconds                                    float64
	bulkFallback                                   bool
}

func (c *config) scanCount() uint64 {
	if c.scans != 0 {
		return c.scans
	}
	if c.n/2 != 0 {
		return c.n / 2
	}
	return 1
}
func (c *config) jobCount() uint64 {
	if c.jobs != 0 {
		return c.jobs
	}
	j := c.n / 500
	if j < 20 {
		j = 20
	}
	return j
}
func (c *config) bboltBatchSize() uint64 {
	if c.bboltBatch < c.n {
		return c.bboltBatch
	}
	return c.n
}

var table = []byte("kv")

func openDB(path string) *bolt.DB {
	db, err := bolt.Open(path, 0600, nil) // bbolt defaults
	check(err)
	return db
}

type failure struct{ msg string }

func die(format string, a ...interface{}) { panic(failure{fmt.Sprintf(format, a...)}) }
func check(err error) {
	if err != nil {
		panic(failure{err.Error()})
	}
}

// ------------------------------------------------------------ redb suite

func insert(db *bolt.DB, c *config, from, count uint64) {
	check(db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(table)
		if err != nil {
			return err
		}
		for i := from; i < from+count; i++ {
			// bbolt keeps the slices given to Put until commit: fresh ones each time.
			k := make([]byte, keySize)
			v := make([]byte, valueSize)
			makeKeyValue(c.seed, i, k, v)
			if err := b.Put(k, v); err != nil {
				return err
			}
		}
		return nil
	}))
}

func randomGets(db *bolt.DB, c *config, n, count, stream uint64) uint64 {
	var found uint64
	check(db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(table)
		if b == nil {
			return errors.New("table missing")
		}
		pick := rng{c.seed*golden + stream}
		k := make([]byte, keySize)
		for q := uint64(0); q < count; q++ {
			i := pick.below(n)
			want := valueWord(c.seed, i, k)
			v := b.Get(k)
			if v == nil {
				return fmt.Errorf("random read: key %d missing", i)
			}
			if len(v) != valueSize || binary.LittleEndian.Uint64(v) != want {
				return fmt.Errorf("random read: wrong value for key %d", i)
			}
			found++
		}
		return nil
	}))
	return found
}

// phase times fn (which returns the operation count) as one phase.
func phase(name, unit string, fn func() uint64) {
	emitBegin(name)
	t0 := time.Now()
	ops := fn()
	emitResult(name, float64(ops), time.Since(t0), unit)
}

// fallbackLoad: the random-order load timed out in an earlier attempt; load
// the same n elements in key order (one transaction). The sort is not timed.
func fallbackLoad(db *bolt.DB, c *config) {
	emitBegin("bulk_load_fallback_sorted")
	type kv struct {
		k []byte
		i uint64
	}
	order := make([]kv, c.n)
	for i := uint64(0); i < c.n; i++ {
		order[i].k = make([]byte, keySize)
		makeKey(c.seed, i, order[i].k)
		order[i].i = i
	}
	sort.Slice(order, func(a, b int) bool { return bytes.Compare(order[a].k, order[b].k) < 0 })
	t0 := time.Now()
	check(db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(table)
		if err != nil {
			return err
		}
		for _, e := range order {
			k := make([]byte, keySize)
			v := make([]byte, valueSize)
			makeKeyValue(c.seed, e.i, k, v)
			if err := b.Put(k, v); err != nil {
				return err
			}
		}
		return nil
	}))
	emitResult("bulk_load_fallback_sorted", float64(c.n), time.Since(t0), "keys")
}

// rangeScans: scans of 10 entries from random keys of [0, total), one read txn.
func rangeScans(db *bolt.DB, c *config, total uint64) uint64 {
	scans := c.scanCount()
	var entries, nbytes uint64
	check(db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(table)
		pick := rng{c.seed*golden + 2}
		k := make([]byte, keySize)
		for q := uint64(0); q < scans; q++ {
			makeKey(c.seed, pick.below(total), k)
			cur := b.Cursor()
			m := 0
			for ck, cv := cur.Seek(k); ck != nil && m < 10; ck, cv = cur.Next() {
				nbytes += uint64(len(ck) + len(cv))
				m++
			}
			entries += uint64(m)
		}
		return nil
	}))
	if entries < scans || nbytes == 0 {
		die("range reads: too few entries")
	}
	return scans
}

// threadedGets: n random gets split over goroutines, each with its own read txn.
func threadedGets(db *bolt.DB, c *config, total uint64, threads int) uint64 {
	var wg sync.WaitGroup
	sums := make([]uint64, threads)
	errs := make([]interface{}, threads)
	for t := 0; t < threads; t++ {
		share := c.n / uint64(threads)
		if uint64(t) < c.n%uint64(threads) {
			share++
		}
		wg.Add(1)
		go func(t int, share uint64) {
			defer wg.Done()
			defer func() { errs[t] = recover() }()
			sums[t] = randomGets(db, c, total, share, uint64(100+10*threads+t))
		}(t, share)
	}
	wg.Wait()
	var sum uint64
	for t := 0; t < threads; t++ {
		if errs[t] != nil {
			panic(errs[t])
		}
		sum += sums[t]
	}
	return sum
}

// removeHalf deletes elements [0, half) in one transaction.
func removeHalf(db *bolt.DB, c *config, half uint64) uint64 {
	check(db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(table)
		k := make([]byte, keySize)
		for i := uint64(0); i < half; i++ {
			makeKey(c.seed, i, k)
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return nil
	}))
	return half
}

// sizesAndCompaction reports the closed file's size, compacts into a new
// file (bolt.Compact, as `bbolt compact`) and reports the time and size.
func sizesAndCompaction(c *config, path string) {
	emitBytes("size_uncompacted", dirBytes(c.dir))
	cdir := filepath.Join(c.dir, "compacted")
	check(os.MkdirAll(cdir, 0755))
	src := openDB(path)
	dst := openDB(filepath.Join(cdir, "bolt.db"))
	phase("compaction", "compactions", func() uint64 {
		check(bolt.Compact(dst, src, 65536))
		return 1
	})
	check(dst.Close())
	check(src.Close())
	emitBytes("size_compacted", dirBytes(cdir))
}

func runRedb(c *config) {
	path := filepath.Join(c.dir, "bolt.db")
	db := openDB(path)
	n := c.n
	if c.bulkFallback {
		fallbackLoad(db, c)
	} else {
		phase("bulk_load", "keys", func() uint64 { insert(db, c, 0, n); return n })
	}
	phase("individual_writes", "txns", func() uint64 {
		for j := uint64(0); j < c.individual; j++ {
			insert(db, c, n+j, 1)
		}
		return c.individual
	})
	base := n + c.individual
	phase("batch_writes", "keys", func() uint64 {
		for j := uint64(0); j < c.batches; j++ {
			insert(db, c, base+j*c.batchKeys, c.batchKeys)
		}
		return c.batches * c.batchKeys
	})
	total := base + c.batches*c.batchKeys
	phase("random_reads", "keys", func() uint64 { return randomGets(db, c, total, n, 1) })
	phase("range_reads", "scans", func() uint64 { return rangeScans(db, c, total) })
	phase("reads_1t", "keys", func() uint64 { return threadedGets(db, c, total, 1) })
	phase("reads_2t", "keys", func() uint64 { return threadedGets(db, c, total, 2) })
	phase("removals", "keys", func() uint64 { return removeHalf(db, c, total/2) })
	check(db.Close())
	sizesAndCompaction(c, path)
}

// ------------------------------------------------------------ sorted load

func runSorted(c *config) {
	db := openDB(filepath.Join(c.dir, "bolt.db"))
	emitBegin("bulk_load_sorted")
	t0 := time.Now()
	check(db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(table)
		if err != nil {
			return err
		}
		for i := uint64(0); i < c.n; i++ {
			k := make([]byte, keySize)
			v := make([]byte, valueSize)
			makeKeyValue(c.seed, i, k, v)
			binary.BigEndian.PutUint64(k, i)
			if err := b.Put(k, v); err != nil {
				return err
			}
		}
		return nil
	}))
	emitResult("bulk_load_sorted", float64(c.n), time.Since(t0), "keys")
	check(db.Close())
	emitBytes("size_sorted", dirBytes(c.dir))
}

// ------------------------------------------------------------ bbolt modes

type keySource struct {
	rnd bool
	i   uint32
	r   rng
}

func newKeySource(rnd bool, seed uint64) *keySource {
	return &keySource{rnd: rnd, r: rng{seed*golden + 7}}
}
func (s *keySource) next() uint32 {
	if s.rnd {
		return uint32(s.r.next() >> 32)
	}
	v := s.i
	s.i++
	return v
}

// bboltWrites: one bbolt-bench write pass, n keys in transactions of batch.
func bboltWrites(db *bolt.DB, c *config, rnd, nest bool) {
	n, batch := c.n, c.bboltBatchSize()
	src := newKeySource(rnd, c.seed)
	for i := uint64(0); i < n; i += batch {
		check(db.Update(func(tx *bolt.Tx) error {
			b, err := tx.CreateBucketIfNotExists([]byte("bench"))
			if err != nil {
				return err
			}
			if nest {
				name := make([]byte, 8)
				binary.BigEndian.PutUint32(name, src.next())
				if b, err = b.CreateBucketIfNotExists(name); err != nil {
					return err
				}
			}
			for j := uint64(0); j < batch && i+j < n; j++ {
				key := make([]byte, 8)
				value := make([]byte, 32)
				binary.BigEndian.PutUint32(key, src.next())
				if err := b.Put(key, value); err != nil {
					return err
				}
			}
			return nil
		}))
	}
}

// bboltSeqRead: cursor scans of the whole bucket, repeated for readSeconds.
func bboltSeqRead(db *bolt.DB, c *config) {
	var ops uint64
	var d time.Duration
	check(db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("bench"))
		t0 := time.Now()
		for {
			var got uint64
			cur := b.Cursor()
			for k, v := cur.First(); k != nil; k, v = cur.Next() {
				if v == nil {
					return errors.New("invalid value")
				}
				got++
			}
			if got != c.n {
				return fmt.Errorf("read seq: iter mismatch: expected %d, got %d", c.n, got)
			}
			ops += got
			if d = time.Since(t0); d.Seconds() >= c.readSeconds {
				return nil
			}
		}
	}))
	emitResult("bbolt_read_seq", float64(ops), d, "keys")
}

// bboltRndRead: gets over a seeded shuffle of the written random keys,
// repeated for readSeconds.
func bboltRndRead(db *bolt.DB, c *config) {
	n := c.n
	replay := newKeySource(true, c.seed)
	keys := make([]uint32, n)
	for i := range keys {
		keys[i] = replay.next()
	}
	sh := rng{c.seed*golden + 11}
	for i := n - 1; i > 0; i-- {
		j := sh.below(i + 1)
		keys[i], keys[j] = keys[j], keys[i]
	}
	var ops uint64
	var d time.Duration
	check(db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("bench"))
		key := make([]byte, 8)
		t0 := time.Now()
		for {
			for _, kk := range keys {
				binary.BigEndian.PutUint32(key, kk)
				if b.Get(key) == nil {
					return errors.New("invalid value")
				}
			}
			ops += n
			if d = time.Since(t0); d.Seconds() >= c.readSeconds {
				return nil
			}
		}
	}))
	emitResult("bbolt_read_rnd", float64(ops), d, "keys")
}

func runBbolt(c *config) {
	rnd := c.mode == "rnd" || c.mode == "rnd-nest"
	nest := c.mode == "seq-nest" || c.mode == "rnd-nest"
	if !rnd && c.mode != "seq" && c.mode != "seq-nest" {
		die("bad bbolt mode %s", c.mode)
	}
	db := openDB(filepath.Join(c.dir, "bolt.db"))
	defer db.Close()
	phase("bbolt_write_"+strings.ReplaceAll(c.mode, "-", "_"), "keys", func() uint64 {
		bboltWrites(db, c, rnd, nest)
		return c.n
	})
	if nest {
		return
	}
	if rnd {
		emitBegin("bbolt_read_rnd")
		bboltRndRead(db, c)
	} else {
		emitBegin("bbolt_read_seq")
		bboltSeqRead(db, c)
	}
}

// ------------------------------------------------------------ job store
//
// jobstore/jobs/<job-id>/{spec,state,result}: JSON documents of 300-600
// bytes; jobstore/queue/<be64 job> and jobstore/done/<be64 job> -> job id.

func jobBuckets(tx *bolt.Tx, create bool) (jobs, queue, done *bolt.Bucket) {
	if create {
		top, err := tx.CreateBucketIfNotExists([]byte("jobstore"))
		check(err)
		jobs, err = top.CreateBucketIfNotExists([]byte("jobs"))
		check(err)
		queue, err = top.CreateBucketIfNotExists([]byte("queue"))
		check(err)
		done, err = top.CreateBucketIfNotExists([]byte("done"))
		check(err)
		return
	}
	top := tx.Bucket([]byte("jobstore"))
	if top == nil {
		die("jobstore bucket missing")
	}
	jobs, queue, done = top.Bucket([]byte("jobs")), top.Bucket([]byte("queue")), top.Bucket([]byte("done"))
	if jobs == nil || queue == nil || done == nil {
		die("jobstore sub-bucket missing")
	}
	return
}

func be64(v uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, v)
	return b
}

type jobStore struct {
	db   *bolt.DB
	c    *config
	jobs uint64
	r    rng
}

// submit: one durable txn: create the job bucket, write spec and state, enqueue.
func (js *jobStore) submit(j uint64) {
	check(js.db.Update(func(tx *bolt.Tx) error {
		jb, queue, _ := jobBuckets(tx, true)
		id := []byte(jobID(j))
		b, err := jb.CreateBucketIfNotExists(id)
		if err != nil {
			return err
		}
		if err := b.Put([]byte("spec"), makeJSON(&js.r, j, "spec")); err != nil {
			return err
		}
		if err := b.Put([]byte("state"), makeJSON(&js.r, j, "queued")); err != nil {
			return err
		}
		return queue.Put(be64(j), id)
	}))
}

// claimComplete: durable txn 1 pops the queue head, reads the spec and sets
// the state; durable txn 2 writes the result and the state and marks it done.
func (js *jobStore) claimComplete(j uint64) {
	var id, qkey []byte
	check(js.db.Update(func(tx *bolt.Tx) error {
		jb, queue, _ := jobBuckets(tx, false)
		k, v := queue.Cursor().First()
		if k == nil {
			return errors.New("claim: queue empty")
		}
		qkey = append([]byte(nil), k...)
		id = append([]byte(nil), v...)
		if err := queue.Delete(qkey); err != nil {
			return err
		}
		b := jb.Bucket(id)
		if b == nil {
			return fmt.Errorf("claim: job bucket missing: %s", id)
		}
		if spec := b.Get([]byte("spec")); len(spec) < 300 {
			return errors.New("claim: spec missing")
		}
		return b.Put([]byte("state"), makeJSON(&js.r, j, "running"))
	}))
	check(js.db.Update(func(tx *bolt.Tx) error {
		jb, _, done := jobBuckets(tx, false)
		b := jb.Bucket(id)
		if b == nil {
			return errors.New("complete: job bucket missing")
		}
		if err := b.Put([]byte("result"), makeJSON(&js.r, j, "result")); err != nil {
			return err
		}
		if err := b.Put([]byte("state"), makeJSON(&js.r, j, "done")); err != nil {
			return err
		}
		return done.Put(qkey, id)
	}))
}

// get: one read txn reading the three documents of a random job.
func (js *jobStore) get(pick *rng) {
	check(js.db.View(func(tx *bolt.Tx) error {
		jb := tx.Bucket([]byte("jobstore")).Bucket([]byte("jobs"))
		b := jb.Bucket([]byte(jobID(pick.below(js.jobs))))
		if b == nil {
			return errors.New("get: job missing")
		}
		total := 0
		for _, f := range []string{"spec", "state", "result"} {
			v := b.Get([]byte(f))
			if v == nil {
				return fmt.Errorf("get: field missing: %s", f)
			}
			total += len(v)
		}
		if total < 900 {
			return errors.New("get: short documents")
		}
		return nil
	}))
}

// list: one read txn, every done job with its state.
func (js *jobStore) list() uint64 {
	var got uint64
	check(js.db.View(func(tx *bolt.Tx) error {
		jb, _, done := jobBuckets(tx, false)
		cur := done.Cursor()
		for k, v := cur.First(); k != nil; k, v = cur.Next() {
			b := jb.Bucket(v)
			if b == nil || b.Get([]byte("state")) == nil {
				return errors.New("list: job state missing")
			}
			got++
		}
		if got != js.jobs {
			return fmt.Errorf("list: expected %d jobs, got %d", js.jobs, got)
		}
		return nil
	}))
	return got
}

// purge: one durable txn deleting the buckets of jobs [from, from+10).
func (js *jobStore) purge(from uint64) {
	check(js.db.Update(func(tx *bolt.Tx) error {
		jb, _, done := jobBuckets(tx, false)
		for k := from; k < from+10 && k < js.jobs; k++ {
			if err := jb.DeleteBucket([]byte(jobID(k))); err != nil {
				return err
			}
			if err := done.Delete(be64(k)); err != nil {
				return err
			}
		}
		return nil
	}))
}

func runJobstore(c *config) {
	js := &jobStore{db: openDB(filepath.Join(c.dir, "bolt.db")), c: c, jobs: c.jobCount(), r: rng{c.seed*golden + 21}}
	jobs := js.jobs
	phase("job_submit", "txns", func() uint64 {
		for j := uint64(0); j < jobs; j++ {
			js.submit(j)
		}
		return jobs
	})
	phase("job_claim_complete", "txns", func() uint64 {
		for j := uint64(0); j < jobs; j++ {
			js.claimComplete(j)
		}
		return 2 * jobs
	})
	// Rounds of 10 x jobs gets, repeated for the read time.
	emitBegin("job_get")
	pick := rng{c.seed*golden + 22}
	var gets uint64
	var d time.Duration
	t0 := time.Now()
	for {
		for q := uint64(0); q < 10*jobs; q++ {
			js.get(&pick)
		}
		gets += 10 * jobs
		if d = time.Since(t0); d.Seconds() >= c.readSeconds {
			break
		}
	}
	emitResult("job_get", float64(gets), d, "txns")
	emitBegin("job_list")
	var listed uint64
	t0 = time.Now()
	for {
		listed += js.list()
		if d = time.Since(t0); d.Seconds() >= c.readSeconds {
			break
		}
	}
	emitResult("job_list", float64(listed), d, "jobs")
	phase("job_purge", "txns", func() uint64 {
		var txns uint64
		for j := uint64(0); j < jobs; j, txns = j+10, txns+1 {
			js.purge(j)
		}
		return txns
	})
	check(js.db.Close())
	emitBytes("size_jobstore", dirBytes(c.dir))
}

// ------------------------------------------------------------ main

func main() {
	var c config
	var engine string
	fs := flag.NewFlagSet("boltbench-go", flag.ExitOnError)
	fs.StringVar(&engine, "engine", "bbolt-go", "ignored (always Go bbolt)")
	fs.StringVar(&c.suite, "suite", "redb", "redb | sorted | bbolt | jobstore")
	fs.StringVar(&c.mode, "mode", "seq", "bbolt suite: seq | rnd | seq-nest | rnd-nest")
	fs.StringVar(&c.dir, "dir", "", "fresh directory")
	fs.Uint64Var(&c.n, "n", 1000000, "elements")
	fs.Uint64Var(&c.seed, "seed", 3, "seed")
	fs.Uint64Var(&c.individual, "individual", 1000, "durable one-key transactions")
	fs.Uint64Var(&c.batches, "batches", 100, "batch transactions")
	fs.Uint64Var(&c.batchKeys, "batch-keys", 1000, "keys per batch transaction")
	fs.Uint64Var(&c.scans, "scans", 0, "range scans (0 = n/2)")
	fs.Uint64Var(&c.bboltBatch, "bbolt-batch", 10000, "bbolt suite batch size")
	fs.Uint64Var(&c.jobs, "jobs", 0, "jobstore jobs (0 = max(20, n/500))")
	fs.Float64Var(&c.readSeconds, "read-seconds", 1.0, "minimum read time")
	fs.BoolVar(&c.bulkFallback, "bulk-fallback", false, "load sorted instead of the random bulk load")
	version := fs.Bool("version", false, "print the Go version and exit")
	fs.Parse(os.Args[1:])
	_ = engine
	if *version {
		fmt.Println(runtime.Version())
		return
	}
	if c.dir == "" {
		fmt.Fprintln(os.Stderr, "--dir is required")
		os.Exit(2)
	}
	defer func() {
		if r := recover(); r != nil {
			msg := fmt.Sprint(r)
			if f, ok := r.(failure); ok {
				msg = f.msg
			}
			emit(map[string]interface{}{"ev": "error", "phase": "", "msg": msg})
			os.Exit(1)
		}
	}()
	emitStartRss()
	switch c.suite {
	case "redb":
		runRedb(&c)
	case "sorted":
		runSorted(&c)
	case "bbolt":
		runBbolt(&c)
	case "jobstore":
		runJobstore(&c)
	default:
		die("unknown suite %s", c.suite)
	}
	emit(map[string]interface{}{"ev": "done"})
}
