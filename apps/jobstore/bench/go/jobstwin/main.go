// jobstwin: the Go twin of apps/jobstore/bench/jobs_bench.cc on Go bbolt
// 1.3.6 (what the real stores run on), with the same layout as boltpp's
// stores (8-byte big-endian history keys, the v1_events log on the requester
// side), the same documents and the same operations per workload. Guard
// failures inside Batch are reported through a captured variable and commit
// nothing, as on the C++ side. Every commit is durable unless -no-sync.
//
//	jobstwin j1|j2|j3|j7 -file F [-n N] [-jobs N] [-clients C] [-no-sync]
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

func j1() {
	db := open()
	defer db.Close()
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
	must := func(err error) {
		if err != nil {
			die(err)
		}
	}
	var next int64 = -1
	secs := parallel(func() {
		for i := atomic.AddInt64(&next, 1); i < *jobs; i = atomic.AddInt64(&next, 1) {
			id, exec := jobID(i), execID(i)
			now := time.Now().UnixNano()
			job := Job{ID: id, Name: "bench", Namespace: "default", Type: "batch", Count: 1, Constraints: []interface{}{},
				Meta: map[string]string{}, Labels: map[string]string{"env": "bench"},
				Tasks: []map[string]interface{}{{"Name": "main", "Engine": map[string]interface{}{"Type": "docker", "Params": map[string]interface{}{"Image": "ubuntu:22.04"}}}},
				State: StateMsg{"Pending", ""}, Revision: 1, CreateTime: now, ModifyTime: now}
			must(guarded(db, func(tx *bolt.Tx) error {
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
				if err := index(tx, "idx_namespaces", "default", id); err != nil {
					return err
				}
				if err := index(tx, "idx_tags", "env", id); err != nil {
					return err
				}
				if err := appendSeq(jb.Bucket([]byte("job_history")), JobHistory{Type: "JobLevel", JobID: id, JobState: &StatePair{"Pending", "Pending"}, NewRevision: 1, Comment: "Job created", Time: time.Now()}); err != nil {
					return err
				}
				return event(tx, "CREATE", "Job", job)
			}))
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
	})
	var size int64
	if fi, err := os.Stat(*file); err == nil {
		size = fi.Size()
	}
	report("J1", secs, *jobs*9, "write tx", map[string]float64{"jobs_per_sec": float64(*jobs) / secs, "bytes_per_job": float64(size) / float64(*jobs)})
}

func main() {
	if len(os.Args) < 2 {
		die(errors.New("usage: jobstwin j1|j2|j3|j7 -file F [-n N] [-jobs N] [-clients C] [-no-sync]"))
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
	default:
		die(fmt.Errorf("unknown workload %s", cmd))
	}
}
