package integration

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/contact-enricher/contact-enricher/pipeline/batchapi/batchapitest"
)

// killKind is the moment a replica is killed at.
type killKind int

const (
	// killAtSubmit: the API has created the job, and the replica dies
	// before the response that carries the batch id reaches it.
	killAtSubmit killKind = iota
	// killAtDownload: the replica dies part way through a results file,
	// while it reads results and writes contact events.
	killAtDownload
	// killTimed: the replica dies at a random moment.
	killTimed
	killKinds
)

func (k killKind) String() string {
	switch k {
	case killAtSubmit:
		return "at submit"
	case killAtDownload:
		return "during download"
	case killTimed:
		return "timed"
	}
	return fmt.Sprintf("killKind(%d)", int(k))
}

// Kill probabilities per API call. The higher ones apply while the kind
// is short of crashMinEachKind kills, and the lower one to further kills
// while input is still being produced. Downloads are the rarest calls, so
// a download that may be killed almost always is.
const (
	downloadChanceBehind = 0.8
	submitChanceBehind   = 0.8
	killChanceAfter      = 0.1
	// Timed kills come at a uniform random interval in this range.
	timedKillMin = time.Second
	timedKillMax = 3 * time.Second
	// A killed replica is started again after a uniform random delay in
	// this range.
	restartDelayMin = 100 * time.Millisecond
	restartDelayMax = 800 * time.Millisecond
	// exitTimeout bounds the wait for a SIGKILLed process to be reaped.
	exitTimeout = 10 * time.Second

	// A kill waits until the group was seen Stable within
	// groupStateMaxAge and the target process has run for minKillAge,
	// because kills during a rebalance can stall kfake's group for good.
	// kfake (the version in go.mod) restarts its rebalance timer on every
	// JoinGroup. A new member whose client goes away while its first
	// JoinGroup is pending stays in the group without a session timer.
	// kafka-go gives up on a JoinGroup after the rebalance timeout plus 5s
	// and joins again as a new member, which restarts the timer. In
	// development runs without this gate, the group kept rebalancing for
	// minutes after the last kill. A process younger than minKillAge may
	// have a JoinGroup in flight that the state poll has not seen yet.
	groupStatePoll   = 100 * time.Millisecond
	groupStateMaxAge = 300 * time.Millisecond
	minKillAge       = 2 * time.Second
)

// crashProc is one process of a replica.
type crashProc struct {
	replica string
	cmd     *exec.Cmd
	pid     int
	logPath string
	started time.Time
	done    chan struct{} // closed once cmd.Wait has returned
	err     error         // cmd.Wait's result, readable after done
	killed  bool          // whether the harness SIGKILLed it, guarded by crashHarness.mu
}

// crashReplica is one replica id, whose processes run one after another.
type crashReplica struct {
	id  string
	cur *crashProc // the running process, nil between a process's exit and the next start
	n   int        // processes started so far
}

type crashHarnessConfig struct {
	binary   string
	logDir   string
	seed     uint64
	sim      *batchapitest.Server
	replicas int
	env      []string     // environment of every replica process
	admin    *kadm.Client // reads the consumer group's state
	group    string       // consumer group of the replicas
	// expectedExit, when set, reports whether a process that exited by
	// itself did so as designed, as with the soak test's 403 stops. Such a
	// replica is counted and started again, as Kubernetes would.
	expectedExit func(p *crashProc) bool
}

// crashHarness runs the replica processes and kills and restarts them. It
// is also the http.Handler in front of the API simulator: a request to
// /rN/... comes from replica rN and goes to the simulator without the
// prefix, and requests for results files, whose links carry no prefix, go
// to the simulator as they are.
type crashHarness struct {
	t    *testing.T
	cfg  crashHarnessConfig
	args func(replicaID string) []string // set before startAll

	ctx         context.Context // ends at shutdown: no more restarts or timed kills
	cancel      context.CancelFunc
	supervisors sync.WaitGroup

	mu       sync.Mutex // guards the fields below
	rng      *rand.Rand
	replicas []*crashReplica
	byID     map[string]*crashReplica
	killing  bool // whether kills are allowed, false once the kill phase is over
	produced bool // every input wave is written
	stopping bool // no more starts: the run is stopping
	// groupStable is whether the last poll, at groupSeen, found the
	// consumer group Stable.
	groupStable bool
	groupSeen   time.Time
	kills       [killKinds]int
	restarts    int
	// expectedExits counts the processes that stopped by themselves as
	// cfg.expectedExit allows.
	expectedExits int
	procs         []*crashProc
	// conns maps the remote address of a connection to the replica that
	// sent prefixed requests on it. A replica's API client reuses its
	// keep-alive connections for downloads, so this names most downloaders.
	conns map[string]string
	// owners maps a batch id to the replica that last asked for its status,
	// which is the replica that downloads its results unless a rebalance
	// moved the job since.
	owners map[string]string
	// submitKills are the batch ids whose submit response was withheld
	// from a killed process, with that process.
	submitKills []submitKill
	// unexpected lists the processes that exited without being killed or
	// stopped by the harness.
	unexpected []string
}

type submitKill struct {
	batchID string
	proc    *crashProc
}

func newCrashHarness(t *testing.T, cfg crashHarnessConfig) *crashHarness {
	ctx, cancel := context.WithCancel(context.Background())
	h := &crashHarness{
		t: t, cfg: cfg, ctx: ctx, cancel: cancel,
		rng:     rand.New(rand.NewPCG(cfg.seed, cfg.seed^0x6b696c6c)),
		byID:    make(map[string]*crashReplica),
		conns:   make(map[string]string),
		owners:  make(map[string]string),
		killing: true,
	}
	for i := 1; i <= cfg.replicas; i++ {
		r := &crashReplica{id: fmt.Sprintf("r%d", i)}
		h.replicas = append(h.replicas, r)
		h.byID[r.id] = r
	}
	return h
}

// startAll starts every replica and the timed kills.
func (h *crashHarness) startAll() {
	for _, r := range h.replicas {
		h.supervisors.Go(func() { h.supervise(r) })
	}
	h.supervisors.Go(h.pollGroupState)
	h.supervisors.Go(h.timedKills)
}

// pollGroupState records whether the consumer group is Stable, for the
// kill gate, until shutdown.
func (h *crashHarness) pollGroupState() {
	tick := time.NewTicker(groupStatePoll)
	defer tick.Stop()
	for {
		ctx, cancel := context.WithTimeout(h.ctx, time.Second)
		groups, err := h.cfg.admin.DescribeGroups(ctx, h.cfg.group)
		cancel()
		if err == nil {
			g := groups[h.cfg.group]
			h.mu.Lock()
			h.groupStable = g.Err == nil && g.State == "Stable"
			h.groupSeen = time.Now()
			h.mu.Unlock()
		}
		select {
		case <-h.ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// groupStableNow reports whether the last poll, no older than
// groupStateMaxAge, found the group Stable.
func (h *crashHarness) groupStableNow() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.groupStable && time.Since(h.groupSeen) <= groupStateMaxAge
}

// killableLocked reports whether p may be killed now. The caller holds mu.
// quietForStops reports whether a replica may stop by itself now: during
// the kill phase, while the consumer group was seen stable, as for kills.
func (h *crashHarness) quietForStops() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.killing && h.groupStable && time.Since(h.groupSeen) <= groupStateMaxAge
}

func (h *crashHarness) killableLocked(p *crashProc) bool {
	return h.killing && p != nil && !p.killed &&
		h.groupStable && time.Since(h.groupSeen) <= groupStateMaxAge &&
		time.Since(p.started) >= minKillAge
}

// supervise runs replica r's processes one after another: after a kill it
// waits a random delay and starts the next, until the run stops. A process
// that exits by itself is recorded and not restarted.
func (h *crashHarness) supervise(r *crashReplica) {
	// Linux sends the parent-death signal that dieWithTest sets when the
	// thread that started the process exits. Go ends a thread when a
	// goroutine exits while locked to it, so this goroutine keeps its
	// thread to itself while its processes run.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for {
		p, err := h.start(r)
		if err != nil {
			if !errors.Is(err, errStopping) {
				h.noteUnexpected(fmt.Sprintf("starting %s: %v", r.id, err))
			}
			return
		}
		<-p.done

		h.mu.Lock()
		stopping, killed := h.stopping, p.killed
		h.mu.Unlock()
		if stopping {
			return
		}
		if !killed {
			if h.cfg.expectedExit == nil || !h.cfg.expectedExit(p) {
				h.noteUnexpected(fmt.Sprintf("%s (pid %d) exited by itself: %v; log %s", r.id, p.pid, p.err, p.logPath))
				return
			}
			h.mu.Lock()
			h.expectedExits++
			h.mu.Unlock()
			h.t.Logf("%s (pid %d) stopped by itself as designed (%v); starting it again", r.id, p.pid, p.err)
		}
		delay := h.uniform(restartDelayMin, restartDelayMax)
		select {
		case <-h.ctx.Done():
			return
		case <-time.After(delay):
		}
	}
}

var errStopping = errors.New("the run is stopping")

// start starts the next process of r, with its output in its own log file,
// and reaps it in the background.
func (h *crashHarness) start(r *crashReplica) (*crashProc, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stopping {
		return nil, errStopping
	}
	r.n++
	logPath := filepath.Join(h.cfg.logDir, fmt.Sprintf("%s-%d.log", r.id, r.n))
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}

	cmd := exec.Command(h.cfg.binary, h.args(r.id)...)
	cmd.Env = h.cfg.env
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	dieWithTest(cmd)
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, err
	}

	p := &crashProc{replica: r.id, cmd: cmd, pid: cmd.Process.Pid, logPath: logPath, started: time.Now(), done: make(chan struct{})}
	r.cur = p
	h.procs = append(h.procs, p)
	if r.n > 1 {
		h.restarts++
		h.t.Logf("restart: %s as pid %d (process %d of %s)", r.id, p.pid, r.n, r.id)
	} else {
		h.t.Logf("start: %s as pid %d", r.id, p.pid)
	}

	go func() {
		p.err = cmd.Wait()
		logFile.Close()
		h.mu.Lock()
		if r.cur == p {
			r.cur = nil
		}
		h.mu.Unlock()
		close(p.done)
	}()
	return p, nil
}

// kill SIGKILLs the running process of replica id and counts the kill. It
// returns false, and kills nothing, when the kill phase is over, the
// replica has no live process that the harness has not already killed, or
// the kill gate is closed.
func (h *crashHarness) kill(id string, kind killKind, detail string) (*crashProc, bool) {
	h.mu.Lock()
	r := h.byID[id]
	if r == nil || !h.killableLocked(r.cur) {
		h.mu.Unlock()
		return nil, false
	}
	p := r.cur
	if err := p.cmd.Process.Kill(); err != nil {
		// The process exited on its own a moment ago, and supervise reports it.
		h.mu.Unlock()
		return nil, false
	}
	p.killed = true
	h.kills[kind]++
	total := h.totalKillsLocked()
	h.mu.Unlock()
	h.t.Logf("kill %d (%s): %s pid %d, %s", total, kind, id, p.pid, detail)
	return p, true
}

// awaitExit waits until p has been reaped, so that a withheld response can
// no longer reach it.
func (h *crashHarness) awaitExit(p *crashProc) {
	select {
	case <-p.done:
	case <-time.After(exitTimeout):
		h.noteUnexpected(fmt.Sprintf("%s (pid %d) still runs %s after SIGKILL", p.replica, p.pid, exitTimeout))
	}
}

// timedKills kills a random killable replica at random intervals while
// input is still being produced or the kills are short of their counts.
func (h *crashHarness) timedKills() {
	for {
		select {
		case <-h.ctx.Done():
			return
		case <-time.After(h.uniform(timedKillMin, timedKillMax)):
		}
		h.mu.Lock()
		done := !h.killing || (h.produced && h.killTargetsMetLocked())
		allowed := h.kindAllowedLocked(killTimed)
		h.mu.Unlock()
		if done {
			return
		}
		if allowed {
			h.killWhenAllowed()
		}
	}
}

// killWhenAllowed waits until some replica passes the kill gate and kills
// a random one of those, or returns when the run stops first.
func (h *crashHarness) killWhenAllowed() {
	tick := time.NewTicker(groupStatePoll)
	defer tick.Stop()
	for {
		if id := h.randomKillableReplica(); id != "" {
			if _, ok := h.kill(id, killTimed, "at a random moment"); ok {
				return
			}
		}
		select {
		case <-h.ctx.Done():
			return
		case <-tick.C:
		}
		h.mu.Lock()
		killing := h.killing
		h.mu.Unlock()
		if !killing {
			return
		}
	}
}

// roll decides with the seeded source whether this API call of kind by
// replica id becomes a kill.
func (h *crashHarness) roll(kind killKind, id string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if r := h.byID[id]; r == nil || !h.killableLocked(r.cur) {
		return false
	}
	if !h.killing || !h.kindAllowedLocked(kind) {
		return false
	}
	chance := killChanceAfter
	switch {
	case kind == killAtDownload && h.behindLocked(kind):
		chance = downloadChanceBehind
	case kind == killAtSubmit && h.behindLocked(kind):
		chance = submitChanceBehind
	}
	return h.rng.Float64() < chance
}

// kindAllowedLocked reports whether a kill of kind may happen now. Every
// kill stalls the group for a rebalance and so closes the kill gate for a
// few seconds, and calls to the API only come while a wave of input is
// being worked on. So the kinds tied to an API call go first, the rarest
// first: until there are crashMinEachKind kills during downloads no other
// kind kills, then until there are as many at submit only kills at submit
// happen, and timed kills then make up crashMinKills. Once every count is
// reached, every kind may kill. The caller holds mu.
func (h *crashHarness) kindAllowedLocked(kind killKind) bool {
	switch {
	case h.killTargetsMetLocked():
		return true
	case h.behindLocked(killAtDownload):
		return kind == killAtDownload
	case h.behindLocked(killAtSubmit):
		return kind == killAtSubmit
	}
	return true
}

// behindLocked reports whether kind is short of its count: kills at submit
// and during download need crashMinEachKind each, and timed kills make up
// the rest of crashMinKills. The caller holds mu.
func (h *crashHarness) behindLocked(kind killKind) bool {
	if kind == killTimed {
		return h.totalKillsLocked() < crashMinKills
	}
	return h.kills[kind] < crashMinEachKind
}

func (h *crashHarness) totalKillsLocked() int {
	return h.kills[killAtSubmit] + h.kills[killAtDownload] + h.kills[killTimed]
}

func (h *crashHarness) uniform(lo, hi time.Duration) time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	return lo + time.Duration(h.rng.Int64N(int64(hi-lo)+1))
}

func (h *crashHarness) randomKillableReplica() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var live []string
	for _, r := range h.replicas {
		if h.killableLocked(r.cur) {
			live = append(live, r.id)
		}
	}
	if len(live) == 0 {
		return ""
	}
	return live[h.rng.IntN(len(live))]
}

func (h *crashHarness) noteUnexpected(what string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.unexpected = append(h.unexpected, what)
}

// failOnUnexpectedExits stops the test when a replica exited by itself,
// which no kill explains. Call it from the test goroutine.
func (h *crashHarness) failOnUnexpectedExits() {
	h.t.Helper()
	h.mu.Lock()
	unexpected := append([]string(nil), h.unexpected...)
	h.mu.Unlock()
	if len(unexpected) > 0 {
		h.t.Fatalf("replica processes failed:\n%s", strings.Join(unexpected, "\n"))
	}
}

// killTargetsMet reports whether every kind of kill has reached its count.
func (h *crashHarness) killTargetsMet() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.killTargetsMetLocked()
}

func (h *crashHarness) killTargetsMetLocked() bool {
	return !h.behindLocked(killAtSubmit) && !h.behindLocked(killAtDownload) && !h.behindLocked(killTimed)
}

// inputProduced records that every input wave is written.
func (h *crashHarness) inputProduced() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.produced = true
}

// endKills ends the kill phase. Killed replicas are still restarted.
func (h *crashHarness) endKills() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.killing = false
}

func (h *crashHarness) figures() (kills [killKinds]int, restarts int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.kills, h.restarts
}

// stopAll sends SIGTERM to every live replica and waits for each to exit
// cleanly, SIGKILLing one that is still running after timeout.
func (h *crashHarness) stopAll(timeout time.Duration) {
	h.t.Helper()
	live := h.stopStarts()
	for _, p := range live {
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			h.t.Errorf("sending SIGTERM to %s (pid %d): %v", p.replica, p.pid, err)
		}
	}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for _, p := range live {
		select {
		case <-p.done:
			if p.err != nil {
				h.t.Errorf("%s (pid %d) exited with %v after SIGTERM, want a clean exit; log %s", p.replica, p.pid, p.err, p.logPath)
			}
		case <-deadline.C:
			h.t.Errorf("%s (pid %d) still runs %s after SIGTERM; killing it", p.replica, p.pid, timeout)
			p.cmd.Process.Kill()
			<-p.done
			deadline.Reset(0) // the rest are overdue as well
		}
	}
	h.cancel()
	h.supervisors.Wait()
	h.t.Logf("stopped %d replicas with SIGTERM", len(live))
}

// stopStarts stops every restart and kill and returns the live processes.
func (h *crashHarness) stopStarts() []*crashProc {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.stopping = true
	h.killing = false
	var live []*crashProc
	for _, r := range h.replicas {
		if r.cur != nil {
			live = append(live, r.cur)
		}
	}
	return live
}

// shutdown kills whatever still runs and waits for every goroutine of the
// harness. It is the cleanup of every path, failed or not.
func (h *crashHarness) shutdown() {
	for _, p := range h.stopStarts() {
		p.cmd.Process.Kill()
	}
	h.cancel()
	h.supervisors.Wait()
	h.mu.Lock()
	procs := append([]*crashProc(nil), h.procs...)
	h.mu.Unlock()
	for _, p := range procs {
		<-p.done
	}
}

// checkSubmitKills checks that each kill at submit landed before the
// replica learned the batch id: its log must not mention it.
func (h *crashHarness) checkSubmitKills() {
	h.t.Helper()
	h.mu.Lock()
	kills := append([]submitKill(nil), h.submitKills...)
	h.mu.Unlock()
	for _, k := range kills {
		b, err := os.ReadFile(k.proc.logPath)
		if err != nil {
			h.t.Errorf("reading %s: %v", k.proc.logPath, err)
			continue
		}
		if strings.Contains(string(b), k.batchID) {
			h.t.Errorf("harness: %s (pid %d) logged batch %s, so the kill at submit came after the response reached it", k.proc.replica, k.proc.pid, k.batchID)
		}
	}
}

// logTails logs the last n lines of every replica process's log. Call it
// after shutdown, when every process has been reaped.
func (h *crashHarness) logTails(n int) {
	h.mu.Lock()
	procs := append([]*crashProc(nil), h.procs...)
	killed := make(map[*crashProc]bool, len(procs))
	for _, p := range procs {
		killed[p] = p.killed
	}
	h.mu.Unlock()
	for _, p := range procs {
		lines, err := lastLines(p.logPath, n)
		if err != nil {
			h.t.Logf("reading %s: %v", p.logPath, err)
			continue
		}
		exit := "stopped"
		switch {
		case killed[p]:
			exit = "killed"
		case p.err != nil:
			exit = p.err.Error()
		}
		h.t.Logf("--- %s (pid %d, %s): last %d lines of %s\n%s", p.replica, p.pid, exit, len(lines), filepath.Base(p.logPath), strings.Join(lines, "\n"))
	}
}

func lastLines(path string, n int) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return lines, sc.Err()
}

// ServeHTTP routes a replica's API call to the simulator and turns some
// submits and results downloads into kills.
func (h *crashHarness) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/files/") {
		h.serveDownload(w, r)
		return
	}
	id, rest, ok := h.splitReplica(r.URL.Path)
	if !ok {
		http.Error(w, "no replica prefix in "+r.URL.Path, http.StatusNotFound)
		return
	}
	h.mu.Lock()
	h.conns[r.RemoteAddr] = id
	h.mu.Unlock()
	r = withPath(r, rest)
	switch {
	case r.Method == http.MethodPost && rest == "/batch/person/contact/enrich":
		h.serveSubmit(w, r, id)
	case r.Method == http.MethodGet && strings.HasPrefix(rest, "/batch/"):
		h.mu.Lock()
		h.owners[strings.TrimPrefix(rest, "/batch/")] = id
		h.mu.Unlock()
		h.cfg.sim.ServeHTTP(w, r)
	default:
		h.cfg.sim.ServeHTTP(w, r)
	}
}

// splitReplica splits "/r2/batch/x" into "r2" and "/batch/x".
func (h *crashHarness) splitReplica(path string) (id, rest string, ok bool) {
	id, rest, _ = strings.Cut(strings.TrimPrefix(path, "/"), "/")
	if _, known := h.byID[id]; !known {
		return "", "", false
	}
	return id, "/" + rest, true
}

func withPath(r *http.Request, path string) *http.Request {
	r2 := new(http.Request)
	*r2 = *r
	u := *r.URL
	u.Path, u.RawPath = path, ""
	r2.URL = &u
	return r2
}

// serveSubmit lets the simulator create the job, then may kill the replica
// instead of responding. The job then exists and is paid for, but the
// replica never learns its batch id.
func (h *crashHarness) serveSubmit(w http.ResponseWriter, r *http.Request, id string) {
	if !h.roll(killAtSubmit, id) {
		h.cfg.sim.ServeHTTP(w, r)
		return
	}
	rec := httptest.NewRecorder()
	h.cfg.sim.ServeHTTP(rec, r)
	var resp struct {
		BatchID string `json:"batch_id"`
	}
	if rec.Code != http.StatusAccepted || json.Unmarshal(rec.Body.Bytes(), &resp) != nil {
		copyRecorded(w, rec) // a 429 or an error created no job to lose
		return
	}
	p, ok := h.kill(id, killAtSubmit, "after the API created batch "+resp.BatchID)
	if !ok {
		copyRecorded(w, rec)
		return
	}
	h.mu.Lock()
	h.submitKills = append(h.submitKills, submitKill{batchID: resp.BatchID, proc: p})
	h.mu.Unlock()
	h.awaitExit(p)
	panic(http.ErrAbortHandler) // drop the connection, as a crash would
}

// serveDownload may send part of a results file, flush it and kill the
// replica that downloads it. The links carry no replica prefix, so the
// downloader is found by its connection, else by the batch's status calls,
// else it is taken to be a random replica. A wrong guess kills another
// replica, and the body cut short makes the downloader retry.
func (h *crashHarness) serveDownload(w http.ResponseWriter, r *http.Request) {
	batchID, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/files/"), "/")
	h.mu.Lock()
	owner, identifiedBy := h.conns[r.RemoteAddr], "known by its connection"
	if owner == "" {
		owner, identifiedBy = h.owners[batchID], "known by its status calls"
	}
	h.mu.Unlock()
	if owner == "" {
		owner, identifiedBy = h.randomKillableReplica(), "a guess"
	}
	if r.Method != http.MethodGet || owner == "" || !h.roll(killAtDownload, owner) {
		h.cfg.sim.ServeHTTP(w, r)
		return
	}
	rec := httptest.NewRecorder()
	h.cfg.sim.ServeHTTP(rec, r)
	body := rec.Body.Bytes()
	if rec.Code != http.StatusOK || len(body) < 2 {
		copyRecorded(w, rec)
		return
	}
	h.mu.Lock()
	cut := 1 + h.rng.IntN(len(body)-1)
	h.mu.Unlock()

	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(http.StatusOK)
	w.Write(body[:cut])
	http.NewResponseController(w).Flush()
	p, ok := h.kill(owner, killAtDownload, fmt.Sprintf("after %d of %d bytes of the results of batch %s (downloader %s)", cut, len(body), batchID, identifiedBy))
	if !ok {
		w.Write(body[cut:])
		return
	}
	h.awaitExit(p)
	panic(http.ErrAbortHandler) // end the body mid-stream, as a crash would
}

func copyRecorded(w http.ResponseWriter, rec *httptest.ResponseRecorder) {
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	w.Write(rec.Body.Bytes())
}
