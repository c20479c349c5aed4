// jobstwin: the Go twin of apps/jobstore/bench/jobs_bench.cc on Go bbolt
// 1.3.6 (what the real stores run on), with the same layout as boltpp's
// stores (8-byte big-endian history keys, the v1_events log on the requester
// side), the same documents and the same operations per workload. Guard
// failures inside Batch are reported through a captured variable and commit
// nothing, as on the C++ side. Every commit is durable unless -no-sync.
//
//	jobstwin j1|j2|j3|j4|j5|j6|j7 -file F [-n N] [-jobs N] [-clients C] [-no-sync]
//
// j3 counts per state the way the real compute store does at restart: one
// read transaction, a cursor over `execution`, a JSON decode of every value.
// Build: GO111MODULE=off GOPATH=/usr/share/gocode go build
package main

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"
)

type StateMsg struct {
	StateType interface{}
	Message   string
}

type Execution struct {
	ID                 string
	Namespace          string
	EvalID             string
	Name               string
	NodeID             string
	JobID              string
	Job                interface{}
	AllocatedResources map[string]interface{}
	DesiredState       StateMsg
	ComputeState       StateMsg
	PublishedResult    map[string]interface{}
	RunOutput          map[string]interface{}
	PreviousExecution  string
	NextExecution      string
	FollowupEvalID     string
	Revision           uint64
	CreateTime         int64
	ModifyTime         int64
}

type LocalExecutionState struct {
	Execution       *Execution
	RequesterNodeID string
	State           int
	Version         uint64
	CreateTime      time.Time
	UpdateTime      time.Time
	LatestComment   string
}

type LocalStateHistory struct {
	ExecutionID   string
	PreviousState int
	NewState      int
	NewVersion    uint64
	Comment       string
	Time          time.Time
}

var (
	errGuard = errors.New("guard")
	file     = flag.String("file", "", "database file")
	n        = flag.Int64("n", 10000, "executions")
	jobs     = flag.Int64("jobs", 1000, "jobs (j1)")
	clients  = flag.Int("clients", 1, "concurrent clients")
	noSync   = flag.Bool("no-sync", false, "skip fdatasync")
	only     = flag.String("only", "", "j4: run only this query (J4-list, J4-shortid, J4-history)")
)

func die(err error) {
	fmt.Fprintln(os.Stderr, "jobstwin:", err)
	os.Exit(1)
}

func execID(i int64) string {
	return fmt.Sprintf("e-%08x-0000-4000-8000-%012x", uint64(i)*2654435761%4294967296, i)
}
func jobID(i int64) string {
	return fmt.Sprintf("j-%08x-0000-4000-8000-%012x", uint64(i)*40503%4294967296, i)
}

func executionDoc(id, job string) *Execution {
	return &Execution{ID: id, Namespace: "default", EvalID: "v-00000000-0000-4000-8000-000000000000", Name: "main",
		NodeID: "node-1", JobID: job,
		AllocatedResources: map[string]interface{}{"Tasks": map[string]interface{}{"main": map[string]interface{}{"CPU": 1, "Memory": 1073741824, "Disk": 0, "GPU": 0}}},
		DesiredState:       StateMsg{1, ""}, ComputeState: StateMsg{5, ""},
		PublishedResult: map[string]interface{}{"Type": "ipfs", "Params": map[string]interface{}{"CID": "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG"}},
		RunOutput:       map[string]interface{}{"Stdout": string(make512('o')), "Stderr": "", "ExitCode": 0},
		Revision:        1, CreateTime: 1700000000000000000, ModifyTime: 1700000000000000000}
}

func make512(c byte) []byte {
	b := make([]byte, 512)
	for i := range b {
		b[i] = c
	}
	return b
}

func seqKey(seq uint64) []byte {
	k := make([]byte, 8)
	binary.BigEndian.PutUint64(k, seq)
	return k
}

func open() *bolt.DB {
	db, err := bolt.Open(*file, 0600, &bolt.Options{Timeout: 2 * time.Second, NoSync: *noSync})
	if err != nil {
		die(err)
	}
	db.MaxBatchDelay = time.Millisecond // as boltpp::jobstore's StoreOptions::batch_delay
	return db
}

// write runs fn in Batch when clients are concurrent, in Update otherwise.
func write(db *bolt.DB, fn func(tx *bolt.Tx) error) error {
	if *clients > 1 {
		return db.Batch(fn)
	}
	return db.Update(fn)
}

// guarded runs a store operation whose guard failures must commit nothing:
// the guard result travels in a variable, the transaction itself succeeds.
func guarded(db *bolt.DB, fn func(tx *bolt.Tx) error) error {
	var result error
	err := write(db, func(tx *bolt.Tx) error {
		result = fn(tx)
		if result == errGuard {
			return nil
		}
		return result
	})
	if result != nil {
		return result
	}
	return err
}

func appendSeq(b *bolt.Bucket, v interface{}) error {
	seq, err := b.NextSequence()
	if err != nil {
		return err
	}
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(seqKey(seq), data)
}

// ---- compute store ----

func computeBuckets(db *bolt.DB) {
	if err := db.Update(func(tx *bolt.Tx) error {
		for _, name := range []string{"execution", "execution-history", "execution-index"} {
			if _, err := tx.CreateBucketIfNotExists([]byte(name)); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		die(err)
	}
}

func createExecution(db *bolt.DB, st *LocalExecutionState) error {
	return guarded(db, func(tx *bolt.Tx) error {
		ex := tx.Bucket([]byte("execution"))
		id := []byte(st.Execution.ID)
		if ex.Get(id) != nil {
			return errGuard
		}
		data, err := json.Marshal(st)
		if err != nil {
			return err
		}
		if err := ex.Put(id, data); err != nil {
			return err
		}
		jb, err := tx.Bucket([]byte("execution-index")).CreateBucketIfNotExists([]byte(st.Execution.JobID))
		if err != nil {
			return err
		}
		if err := jb.Put(id, nil); err != nil {
			return err
		}
		hb, err := tx.Bucket([]byte("execution-history")).CreateBucketIfNotExists(id)
		if err != nil {
			return err
		}
		return appendSeq(hb, LocalStateHistory{st.Execution.ID, 0, st.State, 1, "LocalExecutionState created", time.Now()})
	})
}

func isTerminal(s int) bool { return s == 7 || s == 8 || s == 9 }

func updateState(db *bolt.DB, id string, to int, expected []int, version uint64) error {
	return guarded(db, func(tx *bolt.Tx) error {
		ex := tx.Bucket([]byte("execution"))
		v := ex.Get([]byte(id))
		if v == nil {
			return errGuard
		}
		var st LocalExecutionState
		if err := json.Unmarshal(v, &st); err != nil {
			return err
		}
		ok := len(expected) == 0
		for _, e := range expected {
			ok = ok || e == st.State
		}
		if !ok || (version != 0 && version != st.Version) || isTerminal(st.State) {
			return errGuard
		}
		prev := st.State
		st.State, st.Version, st.UpdateTime, st.LatestComment = to, st.Version+1, time.Now(), "step"
		data, err := json.Marshal(&st)
		if err != nil {
			return err
		}
		if err := ex.Put([]byte(id), data); err != nil {
			return err
		}
		hb, err := tx.Bucket([]byte("execution-history")).CreateBucketIfNotExists([]byte(id))
		if err != nil {
			return err
		}
		return appendSeq(hb, LocalStateHistory{id, prev, to, st.Version, "step", st.UpdateTime})
	})
}

func parallel(work func()) float64 {
	start := time.Now()
	var wg sync.WaitGroup
	for c := 0; c < *clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			work()
		}()
	}
	wg.Wait()
	return time.Since(start).Seconds()
}

func report(workload string, secs float64, ops int64, unit string, extra map[string]float64) {
	fmt.Printf(`{"impl":"bbolt-go","workload":"%s","clients":%d,"ops":%d,"unit":"%s","seconds":%.4f,"per_sec":%.1f`,
		workload, *clients, ops, unit, secs, float64(ops)/secs)
	for k, v := range extra {
		fmt.Printf(`,"%s":%.4f`, k, v)
	}
	var size int64
	if fi, err := os.Stat(*file); err == nil {
		size = fi.Size()
	}
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	fmt.Printf(`,"file_bytes":%d,"peak_rss_kb":%d}`+"\n", size, ru.Maxrss)
}

func j2() {
	db := open()
	defer db.Close()
	computeBuckets(db)
	var next int64 = -1
	secs := parallel(func() {
		for i := atomic.AddInt64(&next, 1); i < *n; i = atomic.AddInt64(&next, 1) {
			id := execID(i)
			now := time.Now()
			st := &LocalExecutionState{Execution: executionDoc(id, jobID(i/2)), RequesterNodeID: "requester-0",
				State: 1, Version: 1, CreateTime: now, UpdateTime: now}
			if err := createExecution(db, st); err != nil {
				die(err)
			}
			from, version := 1, uint64(1)
			for _, to := range []int{2, 3, 6, 7} {
				if err := updateState(db, id, to, []int{from}, version); err != nil {
					die(err)
				}
				from, version = to, version+1
			}
		}
	})
	report("J2", secs, *n*5, "transitions", map[string]float64{"executions_per_sec": float64(*n) / secs})
}

func j3() {
	start := time.Now()
	db, err := bolt.Open(*file, 0600, &bolt.Options{Timeout: 2 * time.Second, ReadOnly: true})
	if err != nil {
		die(err)
	}
	defer db.Close()
	counts := make([]int64, 10)
	var total int64
	err = db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket([]byte("execution")).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			var st LocalExecutionState
			if err := json.Unmarshal(v, &st); err != nil {
				return err
			}
			counts[st.State]++
			total++
		}
		return nil
	})
	if err != nil {
		die(err)
	}
	report("J3", time.Since(start).Seconds(), total, "executions counted", map[string]float64{"completed": float64(counts[7])})
}

func j7() {
	db := open()
	defer db.Close()
	computeBuckets(db)
	for i := int64(0); i < *n; i++ {
		now := time.Now()
		st := &LocalExecutionState{Execution: executionDoc(execID(i), jobID(i)), State: 2, Version: 1, CreateTime: now, UpdateTime: now}
		if err := createExecution(db, st); err != nil {
			die(err)
		}
	}
	const rounds = 4
	var wins, losses int64
	secs := parallel(func() {
		for i := int64(0); i < *n; i++ {
			for r := 0; r < rounds; r++ {
				err := updateState(db, execID(i), 3, []int{2, 3}, uint64(1+r))
				if err == nil {
					atomic.AddInt64(&wins, 1)
				} else if err == errGuard {
					atomic.AddInt64(&losses, 1)
				} else {
					die(err)
				}
			}
		}
	})
	if wins != *n*rounds {
		die(fmt.Errorf("J7: %d winners, want %d", wins, *n*rounds))
	}
	report("J7", secs, wins+losses, "attempts", map[string]float64{"wins": float64(wins), "losses": float64(losses)})
}

// ---- requester store (J1) ----

type Job struct {
	ID          string
	Name        string
	Namespace   string
	Type        string
	Priority    int
	Count       int
	Constraints []interface{}
	Meta        map[string]string
	Labels      map[string]string
	Tasks       []map[string]interface{}
	State       StateMsg
	Revision    uint64
	CreateTime  int64
	ModifyTime  int64
}

type StatePair struct {
	Previous interface{}
	New      interface{}
}

type JobHistory struct {
	Type           string
	JobID          string
	NodeID         string     `json:",omitempty"`
	ExecutionID    string     `json:",omitempty"`
	JobState       *StatePair `json:",omitempty"`
	ExecutionState *StatePair `json:",omitempty"`
	NewRevision    uint64
	Comment        string
	Time           time.Time
}

type Event struct {
	SeqNum     uint64
	Operation  string
	ObjectType string
	Object     interface{}
	Timestamp  time.Time
}

func event(tx *bolt.Tx, op, typ string, obj interface{}) error {
	b := tx.Bucket([]byte("v1_events"))
	seq, err := b.NextSequence()
	if err != nil {
		return err
	}
	now := time.Now()
	data, err := json.Marshal(Event{seq, op, typ, obj, now})
	if err != nil {
		return err
	}
	key := append(seqKey(seq), seqKey(uint64(now.UnixNano()))...)
	return b.Put(key, data)
}

func index(tx *bolt.Tx, idx, group, key string) error {
	b, err := tx.Bucket([]byte(idx)).CreateBucketIfNotExists([]byte(group))
	if err != nil {
		return err
	}
	return b.Put([]byte(key), nil)
}

func putJSON(b *bolt.Bucket, key string, v interface{}) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put([]byte(key), data)
}

func requesterBuckets(db *bolt.DB) {
	if err := db.Update(func(tx *bolt.Tx) error {
		for _, name := range []string{"jobs", "idx_inprogress", "idx_namespaces", "idx_tags", "idx_executions", "idx_evaluations", "v1_events", "v1_checkpoints"} {
			if _, err := tx.CreateBucketIfNotExists([]byte(name)); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		die(err)
	}
}

func must(err error) {
	if err != nil {
		die(err)
	}
}

// createJob as boltpp's JobStore::CreateJob (created 0: now).
func createJob(db *bolt.DB, id, ns string, labels map[string]string, created int64) error {
	now := time.Now().UnixNano()
	job := Job{ID: id, Name: "bench", Namespace: ns, Type: "batch", Count: 1, Constraints: []interface{}{},
		Meta: map[string]string{}, Labels: labels,
		Tasks: []map[string]interface{}{{"Name": "main", "Engine": map[string]interface{}{"Type": "docker", "Params": map[string]interface{}{"Image": "ubuntu:22.04"}}}},
		State: StateMsg{"Pending", ""}, Revision: 1, CreateTime: created, ModifyTime: now}
	if created == 0 {
		job.CreateTime = now
	}
	return guarded(db, func(tx *bolt.Tx) error {
		jobsB := tx.Bucket([]byte("jobs"))
		if jb := jobsB.Bucket([]byte(id)); jb != nil && jb.Get([]byte("spec")) != nil {
			return errGuard
		}
		jb, err := jobsB.CreateBucketIfNotExists([]byte(id))
		if err != nil {
			return err
		}
		for _, sub := range []string{"executions", "evaluations", "job_history", "execution_history"} {
			if _, err := jb.CreateBucketIfNotExists([]byte(sub)); err != nil {
				return err
			}
		}
		if err := putJSON(jb, "spec", job); err != nil {
			return err
		}
		if err := tx.Bucket([]byte("idx_inprogress")).Put([]byte(id), nil); err != nil {
			return err
		}
		if err := index(tx, "idx_namespaces", ns, id); err != nil {
			return err
		}
		for label := range labels {
			if err := index(tx, "idx_tags", strings.ToLower(label), id); err != nil {
				return err
			}
		}
		if err := appendSeq(jb.Bucket([]byte("job_history")), JobHistory{Type: "JobLevel", JobID: id, JobState: &StatePair{"Pending", "Pending"}, NewRevision: 1, Comment: "Job created", Time: time.Now()}); err != nil {
			return err
		}
		return event(tx, "CREATE", "Job", job)
	})
}

// lifecycle: one job as in J1, 9 write transactions.
func lifecycle(db *bolt.DB, i int64) {
	id, exec := jobID(i), execID(i)
	must(createJob(db, id, "default", map[string]string{"env": "bench"}, 0))
	evalID := "v-" + id[2:]
	must(guarded(db, func(tx *bolt.Tx) error {
		jb := tx.Bucket([]byte("jobs")).Bucket([]byte(id))
		eval := map[string]interface{}{"ID": evalID, "JobID": id, "Status": "pending", "CreateTime": time.Now().UnixNano()}
		if err := putJSON(jb.Bucket([]byte("evaluations")), evalID, eval); err != nil {
			return err
		}
		if err := index(tx, "idx_evaluations", evalID, id); err != nil {
			return err
		}
		return event(tx, "CREATE", "Evaluation", eval)
	}))
	ex := executionDoc(exec, id)
	ex.ComputeState = StateMsg{1, ""}
	must(guarded(db, func(tx *bolt.Tx) error {
		jb := tx.Bucket([]byte("jobs")).Bucket([]byte(id))
		eb := jb.Bucket([]byte("executions"))
		if eb.Get([]byte(exec)) != nil {
			return errGuard
		}
		if err := putJSON(eb, exec, ex); err != nil {
			return err
		}
		if err := index(tx, "idx_executions", exec, id); err != nil {
			return err
		}
		if err := appendSeq(jb.Bucket([]byte("execution_history")), JobHistory{Type: "ExecutionLevel", JobID: id, NodeID: "node-1", ExecutionID: exec, ExecutionState: &StatePair{1, 1}, NewRevision: 1, Time: time.Now()}); err != nil {
			return err
		}
		return event(tx, "CREATE", "Execution", ex)
	}))
	from, rev := 1, uint64(1)
	for _, to := range []int{2, 3, 5, 7} {
		must(guarded(db, func(tx *bolt.Tx) error {
			idx := tx.Bucket([]byte("idx_executions")).Bucket([]byte(exec))
			if idx == nil {
				return errGuard
			}
			k, _ := idx.Cursor().First()
			jb := tx.Bucket([]byte("jobs")).Bucket(k)
			eb := jb.Bucket([]byte("executions"))
			var cur Execution
			if err := json.Unmarshal(eb.Get([]byte(exec)), &cur); err != nil {
				return err
			}
			st := int(cur.ComputeState.StateType.(float64))
			if st != from || cur.Revision != rev || st == 7 || st == 8 || st == 9 || st == 4 || st == 6 {
				return errGuard
			}
			cur.ComputeState = StateMsg{to, ""}
			cur.Revision++
			cur.ModifyTime = time.Now().UnixNano()
			if err := putJSON(eb, exec, cur); err != nil {
				return err
			}
			if err := appendSeq(jb.Bucket([]byte("execution_history")), JobHistory{Type: "ExecutionLevel", JobID: id, NodeID: cur.NodeID, ExecutionID: exec, ExecutionState: &StatePair{from, to}, NewRevision: cur.Revision, Time: time.Now()}); err != nil {
				return err
			}
			return event(tx, "UPDATE", "Execution", cur)
		}))
		from, rev = to, rev+1
	}
	for _, step := range [][2]string{{"Pending", "Running"}, {"Running", "Completed"}} {
		must(guarded(db, func(tx *bolt.Tx) error {
			jb := tx.Bucket([]byte("jobs")).Bucket([]byte(id))
			var cur Job
			if err := json.Unmarshal(jb.Get([]byte("spec")), &cur); err != nil {
				return err
			}
			if cur.State.StateType != step[0] {
				return errGuard
			}
			cur.State = StateMsg{step[1], ""}
			cur.Revision++
			cur.ModifyTime = time.Now().UnixNano()
			if err := putJSON(jb, "spec", cur); err != nil {
				return err
			}
			if step[1] == "Completed" {
				if err := tx.Bucket([]byte("idx_inprogress")).Delete([]byte(id)); err != nil {
					return err
				}
			}
			if err := appendSeq(jb.Bucket([]byte("job_history")), JobHistory{Type: "JobLevel", JobID: id, JobState: &StatePair{step[0], step[1]}, NewRevision: cur.Revision, Time: time.Now()}); err != nil {
				return err
			}
			return event(tx, "UPDATE", "Job", cur)
		}))
	}
}

func j1() {
	db := open()
	defer db.Close()
	requesterBuckets(db)
	var next int64 = -1
	secs := parallel(func() {
		for i := atomic.AddInt64(&next, 1); i < *jobs; i = atomic.AddInt64(&next, 1) {
			lifecycle(db, i)
		}
	})
	var size int64
	if fi, err := os.Stat(*file); err == nil {
		size = fi.Size()
	}
	report("J1", secs, *jobs*9, "write tx", map[string]float64{"jobs_per_sec": float64(*jobs) / secs, "bytes_per_job": float64(size) / float64(*jobs)})
}

// ---- J4-J6: queries, mixed readers, churn ----

// resolveJob as the real store: a full id, or a short one resolved by a
// cursor Seek over jobs (ambiguous: error).
func resolveJob(tx *bolt.Tx, id string) ([]byte, error) {
	jobsB := tx.Bucket([]byte("jobs"))
	if jobsB.Bucket([]byte(id)) != nil {
		return []byte(id), nil
	}
	var found [][]byte
	c := jobsB.Cursor()
	for k, _ := c.Seek([]byte(id)); k != nil && strings.HasPrefix(string(k), id); k, _ = c.Next() {
		found = append(found, append([]byte(nil), k...))
	}
	if len(found) != 1 {
		return nil, fmt.Errorf("job %s: %d matches", id, len(found))
	}
	return found[0], nil
}

func getJob(tx *bolt.Tx, id string) (*Job, error) {
	key, err := resolveJob(tx, id)
	if err != nil {
		return nil, err
	}
	var job Job
	if err := json.Unmarshal(tx.Bucket([]byte("jobs")).Bucket(key).Get([]byte("spec")), &job); err != nil {
		return nil, err
	}
	return &job, nil
}

func getExecutions(tx *bolt.Tx, id string) ([]Execution, error) {
	var out []Execution
	err := tx.Bucket([]byte("jobs")).Bucket([]byte(id)).Bucket([]byte("executions")).ForEach(func(k, v []byte) error {
		var e Execution
		if err := json.Unmarshal(v, &e); err != nil {
			return err
		}
		out = append(out, e)
		return nil
	})
	sort.SliceStable(out, func(a, b int) bool { return out[a].CreateTime < out[b].CreateTime })
	return out, err
}

// getHistory as v1.2's GetJobHistory: every row of the chosen levels, decoded, sorted by Time.
func getHistory(tx *bolt.Tx, id string, jobLevel bool) ([]JobHistory, error) {
	jb := tx.Bucket([]byte("jobs")).Bucket([]byte(id))
	var out []JobHistory
	subs := []string{"execution_history"}
	if jobLevel {
		subs = append(subs, "job_history")
	}
	for _, sub := range subs {
		if err := jb.Bucket([]byte(sub)).ForEach(func(k, v []byte) error {
			var h JobHistory
			if err := json.Unmarshal(v, &h); err != nil {
				return err
			}
			out = append(out, h)
			return nil
		}); err != nil {
			return nil, err
		}
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].Time.Before(out[b].Time) })
	return out, nil
}

func keysOf(b *bolt.Bucket) map[string]bool {
	out := map[string]bool{}
	if b != nil {
		_ = b.ForEach(func(k, v []byte) error { out[string(k)] = true; return nil })
	}
	return out
}

// getJobs as v1.2's GetJobs: namespace index, include-tag union, exclude
// tags, load every spec, sort by CreateTime, slice.
func getJobs(tx *bolt.Tx, ns string, include, exclude []string, offset, limit int) ([]Job, error) {
	ids := keysOf(tx.Bucket([]byte("idx_namespaces")).Bucket([]byte(ns)))
	if len(include) > 0 {
		union := map[string]bool{}
		for _, t := range include {
			for k := range keysOf(tx.Bucket([]byte("idx_tags")).Bucket([]byte(t))) {
				union[k] = true
			}
		}
		for k := range ids {
			if !union[k] {
				delete(ids, k)
			}
		}
	}
	for _, t := range exclude {
		for k := range keysOf(tx.Bucket([]byte("idx_tags")).Bucket([]byte(t))) {
			delete(ids, k)
		}
	}
	var out []Job
	for id := range ids {
		job, err := getJob(tx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, *job)
	}
	sort.Slice(out, func(a, b int) bool {
		if out[a].CreateTime != out[b].CreateTime {
			return out[a].CreateTime < out[b].CreateTime
		}
		return out[a].ID < out[b].ID
	})
	if offset > len(out) {
		offset = len(out)
	}
	out = out[offset:]
	if limit > 0 && limit < len(out) {
		out = out[:limit]
	}
	return out, nil
}

type latencies []float64

func (l latencies) pct(p float64) float64 {
	if len(l) == 0 {
		return 0
	}
	sort.Float64s(l)
	i := int(p * float64(len(l)))
	if i >= len(l) {
		i = len(l) - 1
	}
	return l[i]
}

const historyJobs = 20

func j4() {
	db, err := bolt.Open(*file, 0600, &bolt.Options{Timeout: 2 * time.Second, ReadOnly: true})
	must(err)
	defer db.Close()
	rng := uint64(42)
	next := func(n int64) int64 {
		rng = rng*6364136223846793005 + 1442695040888963407
		return int64((rng >> 33) % uint64(n))
	}
	run := func(name string, count int64, op func(tx *bolt.Tx) error) {
		if *only != "" && *only != name {
			return
		}
		var lat latencies
		start := time.Now()
		for k := int64(0); k < count; k++ {
			t := time.Now()
			must(db.View(op))
			lat = append(lat, float64(time.Since(t).Microseconds()))
		}
		report(name, time.Since(start).Seconds(), count, "queries", map[string]float64{"p50_us": lat.pct(0.5), "p99_us": lat.pct(0.99)})
	}
	max1 := func(v int64) int64 {
		if v < 1 {
			return 1
		}
		return v
	}
	run("J4-list", max1(*n/100), func(tx *bolt.Tx) error {
		jobs, err := getJobs(tx, "ns-3", []string{"tier"}, []string{"canary"}, 20, 10)
		if err == nil && len(jobs) != 10 {
			err = fmt.Errorf("J4 list: %d jobs", len(jobs))
		}
		return err
	})
	run("J4-shortid", *n, func(tx *bolt.Tx) error {
		_, err := getJob(tx, jobID(next(*jobs))[:10])
		return err
	})
	run("J4-history", max1(*n/10), func(tx *bolt.Tx) error {
		rows, err := getHistory(tx, jobID(next(historyJobs)), false)
		if err == nil && len(rows) < 100 {
			err = fmt.Errorf("J4 history: %d rows", len(rows))
		}
		rows = rows[:100]
		return err
	})
}

func j5() {
	db := open()
	defer db.Close()
	requesterBuckets(db)
	var done int64
	var stop int32
	lats := make([]latencies, 8)
	var wg sync.WaitGroup
	for r := 0; r < 8; r++ {
		wg.Add(1)
		go func(r int) {
			defer wg.Done()
			rng := uint64(r + 1)
			for atomic.LoadInt32(&stop) == 0 {
				n := atomic.LoadInt64(&done)
				if n == 0 {
					time.Sleep(10 * time.Microsecond)
					continue
				}
				rng = rng*6364136223846793005 + 1442695040888963407
				t := time.Now()
				must(db.View(func(tx *bolt.Tx) error {
					if (rng>>40)%2 == 1 {
						id := jobID(int64((rng >> 20) % uint64(n)))
						if _, err := getJob(tx, id); err != nil {
							return err
						}
						if _, err := getExecutions(tx, id); err != nil {
							return err
						}
						_, err := getHistory(tx, id, true)
						return err
					}
					_, err := getJobs(tx, "default", nil, nil, 0, 10)
					return err
				}))
				lats[r] = append(lats[r], float64(time.Since(t).Microseconds()))
			}
		}(r)
	}
	start := time.Now()
	for i := int64(0); i < *jobs; i++ {
		lifecycle(db, i)
		atomic.StoreInt64(&done, i+1)
	}
	secs := time.Since(start).Seconds()
	atomic.StoreInt32(&stop, 1)
	wg.Wait()
	var all latencies
	for _, l := range lats {
		all = append(all, l...)
	}
	var size int64
	if fi, err := os.Stat(*file); err == nil {
		size = fi.Size()
	}
	report("J5", secs, *jobs*9, "write tx", map[string]float64{"reader_ops_per_sec": float64(len(all)) / secs,
		"reader_p50_us": all.pct(0.5), "reader_p99_us": all.pct(0.99), "bytes_per_job": float64(size) / float64(*jobs)})
}

// deleteJob as boltpp's JobStore::DeleteJob: the job's tree and every index entry.
func deleteJob(db *bolt.DB, id string) error {
	return guarded(db, func(tx *bolt.Tx) error {
		jb := tx.Bucket([]byte("jobs")).Bucket([]byte(id))
		if jb == nil {
			return errGuard
		}
		var job Job
		if err := json.Unmarshal(jb.Get([]byte("spec")), &job); err != nil {
			return err
		}
		execs := keysOf(jb.Bucket([]byte("executions")))
		evals := keysOf(jb.Bucket([]byte("evaluations")))
		if err := tx.Bucket([]byte("jobs")).DeleteBucket([]byte(id)); err != nil {
			return err
		}
		if err := tx.Bucket([]byte("idx_inprogress")).Delete([]byte(id)); err != nil {
			return err
		}
		drop := func(idx, group string) error {
			b := tx.Bucket([]byte(idx)).Bucket([]byte(group))
			if b == nil {
				return nil
			}
			if err := b.Delete([]byte(id)); err != nil {
				return err
			}
			if k, _ := b.Cursor().First(); k == nil {
				return tx.Bucket([]byte(idx)).DeleteBucket([]byte(group))
			}
			return nil
		}
		if err := drop("idx_namespaces", job.Namespace); err != nil {
			return err
		}
		for label := range job.Labels {
			if err := drop("idx_tags", strings.ToLower(label)); err != nil {
				return err
			}
		}
		for e := range execs {
			if err := drop("idx_executions", e); err != nil {
				return err
			}
		}
		for e := range evals {
			if err := drop("idx_evaluations", e); err != nil {
				return err
			}
		}
		return event(tx, "DELETE", "Job", job)
	})
}

func j6() {
	db := open()
	requesterBuckets(db)
	start := time.Now()
	for round := int64(0); round < *n; round++ {
		for k := int64(0); k < *jobs; k++ {
			i := round**jobs + k
			id, exec := jobID(i), execID(i)
			must(createJob(db, id, "default", map[string]string{"env": "bench"}, 0))
			evalID := "v-" + id[2:]
			must(guarded(db, func(tx *bolt.Tx) error {
				eval := map[string]interface{}{"ID": evalID, "JobID": id, "Status": "pending", "CreateTime": time.Now().UnixNano()}
				if err := putJSON(tx.Bucket([]byte("jobs")).Bucket([]byte(id)).Bucket([]byte("evaluations")), evalID, eval); err != nil {
					return err
				}
				if err := index(tx, "idx_evaluations", evalID, id); err != nil {
					return err
				}
				return event(tx, "CREATE", "Evaluation", eval)
			}))
			ex := executionDoc(exec, id)
			must(guarded(db, func(tx *bolt.Tx) error {
				jb := tx.Bucket([]byte("jobs")).Bucket([]byte(id))
				if err := putJSON(jb.Bucket([]byte("executions")), exec, ex); err != nil {
					return err
				}
				if err := index(tx, "idx_executions", exec, id); err != nil {
					return err
				}
				if err := appendSeq(jb.Bucket([]byte("execution_history")), JobHistory{Type: "ExecutionLevel", JobID: id, NodeID: "node-1", ExecutionID: exec, ExecutionState: &StatePair{1, 5}, NewRevision: 1, Time: time.Now()}); err != nil {
					return err
				}
				return event(tx, "CREATE", "Execution", ex)
			}))
		}
		for k := int64(0); k < *jobs; k++ {
			must(deleteJob(db, jobID(round**jobs+k)))
		}
	}
	secs := time.Since(start).Seconds()
	free := db.Stats().FreePageN
	must(db.Close())
	fi, err := os.Stat(*file)
	must(err)
	before := fi.Size()
	cstart := time.Now()
	src, err := bolt.Open(*file, 0600, &bolt.Options{Timeout: time.Second})
	must(err)
	tmp := *file + ".compact.tmp"
	os.Remove(tmp)
	dst, err := bolt.Open(tmp, 0600, &bolt.Options{NoSync: true})
	must(err)
	must(bolt.Compact(dst, src, 64<<20))
	must(dst.Sync())
	must(dst.Close())
	must(os.Rename(tmp, *file))
	must(src.Close())
	csecs := time.Since(cstart).Seconds()
	fi, err = os.Stat(*file)
	must(err)
	report("J6", secs, *n**jobs*4, "write tx", map[string]float64{"free_pages": float64(free),
		"bytes_before_compact": float64(before), "bytes_after_compact": float64(fi.Size()), "compact_seconds": csecs})
}

func main() {
	if len(os.Args) < 2 {
		die(errors.New("usage: jobstwin j1|j2|j3|j4|j5|j6|j7 -file F [-n N] [-jobs N] [-clients C] [-no-sync]"))
	}
	cmd := os.Args[1]
	if err := flag.CommandLine.Parse(os.Args[2:]); err != nil {
		die(err)
	}
	if *file == "" {
		die(errors.New("-file is required"))
	}
	switch cmd {
	case "j1":
		j1()
	case "j2":
		j2()
	case "j3":
		j3()
	case "j7":
		j7()
	case "j4":
		j4()
	case "j5":
		j5()
	case "j6":
		j6()
	default:
		die(fmt.Errorf("unknown workload %s", cmd))
	}
}
