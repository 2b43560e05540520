package codec

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
)

// Shares of the synthetic mix, as cumulative thresholds of one roll. What
// is left after the last one is inserts and snapshot reads of new people.
const (
	synthBadShare     = 0.03
	synthUpdateShare  = synthBadShare + 0.05
	synthRepeatShare  = synthUpdateShare + 0.10
	synthDeleteShare  = synthRepeatShare + 0.015
	synthWrappedShare = 0.20
	synthStartMillis  = 1764806400000 // 2025-12-04T00:00:00Z
)

// synthName is a made-up first name, as written and as used in a slug.
type synthName struct{ display, slug, ascii string }

var (
	synthFirstNames = []synthName{
		{"Avery", "avery", "avery"}, {"Bruno", "bruno", "bruno"}, {"Casey", "casey", "casey"},
		{"Devon", "devon", "devon"}, {"Elif", "elif", "elif"}, {"Ines", "ines", "ines"},
		{"Jordan", "jordan", "jordan"}, {"Kai", "kai", "kai"}, {"Lena", "lena", "lena"},
		{"Mateo", "mateo", "mateo"}, {"Noor", "noor", "noor"}, {"Priya", "priya", "priya"},
		{"Quinn", "quinn", "quinn"}, {"Riley", "riley", "riley"}, {"Sasha", "sasha", "sasha"},
		{"Yuki", "yuki", "yuki"}, {"José", "josé", "jose"}, {"Zoë", "zoë", "zoe"},
		{"Björn", "björn", "bjorn"},
	}
	synthLastNames = []string{"Sample", "Fixture", "Mockley", "Placeholder", "Example", "Testcase", "Dummyson", "Fakeworth"}

	// synthSpellings are the ways the fixture spells one profile URL.
	synthSpellings = []string{
		"https://www.linkedin.com/in/%s",
		"http://linkedin.com/in/%s",
		"  https://www.linkedin.com/in/%s  ",
		"https://uk.linkedin.com/in/%s/",
		"www.linkedin.com/in/%s",
		"https://WWW.LinkedIn.com/in/%s?trk=public_profile_browsemap",
		"https://m.linkedin.com/in/%s",
		"https://www.linkedin.com/in/%s/",
		"https://www.linkedin.com/in/%s#experience",
	}

	// synthBadURLs are values of the URL column that must be dead-lettered.
	synthBadURLs = []string{
		"https://www.linkedin.com/company/acme-example/",
		"https://www.linkedin.com/feed/",
		"https://example.com/in/avery-sample",
		"",
		"not a url",
		"https://www.linkedin.com/pub/sample-person/1/2/3",
	}
)

// SyntheticRecords returns n made-up Debezium change records for demos and
// load tests, in roughly the mix of the CDC fixture: mostly inserts and
// snapshot reads of distinct people (a fifth wrapped as {schema,payload}),
// about 10% repeats of an earlier URL in another spelling, 5% updates of an
// unrelated column, a few deletes each followed by a tombstone and 3% bad
// values. Keys are {"id": N}. The output depends only on n and seed.
func SyntheticRecords(n int, seed int64) []Record {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x5eed))
	g := &synthGenerator{rng: rng, nextID: 1000, millis: synthStartMillis, slugOffset: rng.Uint32()}
	out := make([]Record, 0, max(n, 0))
	for len(out) < n {
		out = append(out, g.next(n-len(out))...)
	}
	return out
}

type synthPerson struct {
	id    int
	first synthName
	last  string
	slug  string
}

type synthGenerator struct {
	rng    *rand.Rand
	nextID int
	people []synthPerson
	bad    int // bad values so far; cycles through the kinds
	millis int64
	// slugOffset makes slugs differ between seeds.
	slugOffset uint32
}

// next returns one record, or a delete and its tombstone when room allows.
func (g *synthGenerator) next(room int) []Record {
	g.millis += 1 + g.rng.Int64N(1000)
	roll := g.rng.Float64()
	switch {
	case roll < synthBadShare:
		return []Record{g.badRecord()}
	case roll < synthUpdateShare && len(g.people) > 0:
		return []Record{g.update(g.pick())}
	case roll < synthRepeatShare && len(g.people) > 0:
		return []Record{g.insert(g.newPerson(g.pick().slug))}
	case roll < synthDeleteShare && len(g.people) > 0 && room >= 2:
		return g.delete(g.remove())
	}
	return []Record{g.insert(g.newPerson(""))}
}

func (g *synthGenerator) pick() synthPerson { return g.people[g.rng.IntN(len(g.people))] }

// remove picks a person who is then no longer updated or repeated.
func (g *synthGenerator) remove() synthPerson {
	i := g.rng.IntN(len(g.people))
	p := g.people[i]
	g.people[i] = g.people[len(g.people)-1]
	g.people = g.people[:len(g.people)-1]
	return p
}

// newPerson makes up a person with a new id and a unique slug, or with
// slug when it is set.
func (g *synthGenerator) newPerson(slug string) synthPerson {
	p := synthPerson{
		id:    g.nextID,
		first: synthFirstNames[g.rng.IntN(len(synthFirstNames))],
		last:  synthLastNames[g.rng.IntN(len(synthLastNames))],
		slug:  slug,
	}
	g.nextID++
	if p.slug == "" {
		// Multiplying by an odd constant permutes 24-bit values, so the
		// suffixes of 16M consecutive ids never collide.
		suffix := (uint32(p.id) + g.slugOffset) * 2654435761
		p.slug = fmt.Sprintf("%s-%s-%06x", p.first.slug, strings.ToLower(p.last), suffix&0xffffff)
	}
	return p
}

// spell writes the profile URL of slug in one of the fixture's spellings,
// with a non-ASCII slug raw or percent-encoded.
func (g *synthGenerator) spell(slug string, spelling int) string {
	if g.rng.IntN(2) == 0 {
		slug = url.PathEscape(slug)
	}
	return fmt.Sprintf(synthSpellings[spelling%len(synthSpellings)], slug)
}

func (g *synthGenerator) row(p synthPerson, profileURL *string, updated int) *synthRow {
	return &synthRow{
		ID:          p.id,
		FirstName:   p.first.display,
		LastName:    p.last,
		Email:       fmt.Sprintf("%s.%s.%d@example.com", p.first.ascii, strings.ToLower(p.last), p.id),
		LinkedInURL: profileURL,
		UpdatedAt:   fmt.Sprintf("2026-11-30T1%d:00:00Z", updated),
	}
}

// insert creates p, who may be picked for updates, repeats and deletes.
func (g *synthGenerator) insert(p synthPerson) Record {
	g.people = append(g.people, p)
	profileURL := g.spell(p.slug, g.rng.IntN(len(synthSpellings)))
	op := "c"
	if g.rng.IntN(5) < 2 {
		op = "r"
	}
	return g.change(p.id, synthChange{After: g.row(p, &profileURL, 0), Op: op})
}

// update changes only updated_at; before and after spell the same URL
// differently.
func (g *synthGenerator) update(p synthPerson) Record {
	first := g.rng.IntN(len(synthSpellings))
	second := (first + 1 + g.rng.IntN(len(synthSpellings)-1)) % len(synthSpellings)
	before, after := g.spell(p.slug, first), g.spell(p.slug, second)
	return g.change(p.id, synthChange{Before: g.row(p, &before, 0), After: g.row(p, &after, 1), Op: "u"})
}

func (g *synthGenerator) delete(p synthPerson) []Record {
	profileURL := g.spell(p.slug, 0)
	deleted := g.change(p.id, synthChange{Before: g.row(p, &profileURL, 0), Op: "d"})
	return []Record{deleted, {Key: deleted.Key}}
}

// badRecord cycles through the bad shapes: bad URLs in a row, a null URL,
// a truncate event, a truncated JSON value, a JSON array and a bare URL.
func (g *synthGenerator) badRecord() Record {
	kind := g.bad % (len(synthBadURLs) + 5)
	g.bad++
	p := g.newPerson("")
	key := synthKey(p.id)
	switch i := kind - len(synthBadURLs); i {
	case 0:
		return g.change(p.id, synthChange{After: g.row(p, nil, 0), Op: "c"})
	case 1:
		return g.change(p.id, synthChange{Op: "t"})
	case 2:
		return Record{Key: key, Value: []byte(`{"after": {"linkedin_url": "https://www.linkedin.com/in/trunc`)}
	case 3:
		return Record{Key: key, Value: []byte(`[1, 2, 3]`)}
	case 4:
		return Record{Key: key, Value: []byte(g.spell(p.slug, 0))}
	}
	bad := synthBadURLs[kind]
	return g.change(p.id, synthChange{After: g.row(p, &bad, 0), Op: "c"})
}

// change completes and encodes one change event, a fifth of them wrapped.
func (g *synthGenerator) change(id int, c synthChange) Record {
	c.TsMillis = g.millis
	c.Source = synthSource{Connector: "postgresql", DB: "crm", Schema: "public", Table: "contacts", LSN: g.millis * 10}
	var v any = c
	if g.rng.Float64() < synthWrappedShare {
		v = synthWrapped{Schema: synthSchema{Type: "struct", Name: "crm.public.contacts.Envelope", Fields: []string{}}, Payload: c}
	}
	// Marshalling these plain structs of strings and numbers cannot fail.
	value, _ := json.Marshal(v)
	return Record{Key: synthKey(id), Value: value}
}

func synthKey(id int) []byte { return fmt.Appendf(nil, `{"id": %d}`, id) }

type synthRow struct {
	ID          int     `json:"id"`
	FirstName   string  `json:"first_name"`
	LastName    string  `json:"last_name"`
	Email       string  `json:"email"`
	LinkedInURL *string `json:"linkedin_url"`
	UpdatedAt   string  `json:"updated_at"`
}

type synthSource struct {
	Connector string `json:"connector"`
	DB        string `json:"db"`
	Schema    string `json:"schema"`
	Table     string `json:"table"`
	LSN       int64  `json:"lsn"`
}

type synthChange struct {
	Before   *synthRow   `json:"before"`
	After    *synthRow   `json:"after"`
	Op       string      `json:"op"`
	TsMillis int64       `json:"ts_ms"`
	Source   synthSource `json:"source"`
}

type synthSchema struct {
	Type     string   `json:"type"`
	Name     string   `json:"name"`
	Optional bool     `json:"optional"`
	Fields   []string `json:"fields"`
}

type synthWrapped struct {
	Schema  synthSchema `json:"schema"`
	Payload synthChange `json:"payload"`
}
