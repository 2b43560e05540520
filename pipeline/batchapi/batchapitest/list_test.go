package batchapitest

import (
	"net/http"
	"slices"
	"testing"
	"time"
)

// listPageOf fetches GET /batch with query and fails unless it gets 200.
func (s *sim) listPageOf(t testing.TB, query string) listPage {
	t.Helper()
	resp := s.get(t, "/batch"+query)
	if resp.status != http.StatusOK {
		t.Fatalf("list %s answered %d: %s", query, resp.status, resp.body)
	}
	var page listPage
	decodeJSON(t, resp.body, &page)
	if page.Jobs == nil {
		t.Fatalf("list %s: jobs is null, want a list", query)
	}
	return page
}

func idsOf(page listPage) []string {
	ids := make([]string, len(page.Jobs))
	for i, j := range page.Jobs {
		ids[i] = j.BatchID
	}
	return ids
}

// sevenJobs submits jobs 0..5 a second apart, moves to start+11.5s and
// submits job 6: jobs 0 and 1 are completed, 2 to 5 processing, 6 pending.
func sevenJobs(t testing.TB, s *sim) []string {
	t.Helper()
	var ids []string
	for i := range 6 {
		ids = append(ids, s.submit(t, profileURLs("list", 2), []string{FieldBusinessEmail}, nil))
		if i < 5 {
			s.clock.Advance(time.Second)
		}
	}
	s.clock.Advance(6500 * time.Millisecond)
	return append(ids, s.submit(t, profileURLs("list", 2), []string{FieldBusinessEmail}, nil))
}

func TestListPagesNewestFirst(t *testing.T) {
	s := newSim(t, Config{JobDuration: 10 * time.Second, MaxActiveJobs: 10})
	ids := sevenJobs(t, s)

	var seen []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 3 {
			t.Fatal("paging did not end after 3 pages of 3")
		}
		query := "?limit=3"
		if cursor != "" {
			query += "&cursor=" + cursor
		}
		page := s.listPageOf(t, query)
		seen = append(seen, idsOf(page)...)
		if !page.HasMore {
			if page.NextCursor != nil {
				t.Errorf("last page next_cursor = %q, want null", *page.NextCursor)
			}
			break
		}
		if page.NextCursor == nil || *page.NextCursor != page.Jobs[len(page.Jobs)-1].BatchID {
			t.Fatalf("next_cursor = %v, want the last job of the page", page.NextCursor)
		}
		cursor = *page.NextCursor
	}

	want := slices.Clone(ids)
	slices.Reverse(want)
	if !slices.Equal(seen, want) {
		t.Errorf("pages gave %v, want %v", seen, want)
	}
	if got := s.srv.Stats().ListCalls; got != 3 {
		t.Errorf("ListCalls = %d, want 3", got)
	}
}

func TestListFiltersByStatus(t *testing.T) {
	s := newSim(t, Config{JobDuration: 10 * time.Second, MaxActiveJobs: 10})
	ids := sevenJobs(t, s)
	tests := []struct {
		name    string
		query   string
		want    []string
		hasMore bool
	}{
		{name: "completed jobs", query: "?status=completed", want: []string{ids[1], ids[0]}},
		{name: "pending jobs", query: "?status=pending", want: []string{ids[6]}},
		{name: "processing first page", query: "?status=processing&limit=2", want: []string{ids[5], ids[4]}, hasMore: true},
		{name: "processing second page", query: "?status=processing&limit=2&cursor=" + ids[4], want: []string{ids[3], ids[2]}},
		{name: "no failed jobs", query: "?status=failed", want: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page := s.listPageOf(t, tt.query)
			if got := idsOf(page); !slices.Equal(got, tt.want) {
				t.Errorf("jobs = %v, want %v", got, tt.want)
			}
			if page.HasMore != tt.hasMore {
				t.Errorf("has_more = %v, want %v", page.HasMore, tt.hasMore)
			}
		})
	}

	page := s.listPageOf(t, "?status=completed")
	if page.Jobs[0].DownloadURL == "" || page.Jobs[0].ResultCount != 2 {
		t.Errorf("completed job in list: download_url %q, result_count %d", page.Jobs[0].DownloadURL, page.Jobs[0].ResultCount)
	}
}

func TestListClampsLimit(t *testing.T) {
	s := newSim(t, Config{MaxActiveJobs: 200})
	for range 105 {
		s.submit(t, profileURLs("clamp", 1), []string{FieldBusinessEmail}, nil)
	}
	tests := []struct {
		name  string
		query string
		count int
	}{
		{name: "default is 20", query: "", count: 20},
		{name: "zero becomes 1", query: "?limit=0", count: 1},
		{name: "negative becomes 1", query: "?limit=-3", count: 1},
		{name: "1000 becomes 100", query: "?limit=1000", count: 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page := s.listPageOf(t, tt.query)
			if len(page.Jobs) != tt.count || !page.HasMore {
				t.Errorf("got %d jobs, has_more %v; want %d, true", len(page.Jobs), page.HasMore, tt.count)
			}
		})
	}
}

func TestListRejectsBadQueries(t *testing.T) {
	s := newSim(t, Config{})
	tests := []struct {
		name  string
		query string
	}{
		{name: "unknown status", query: "?status=cancelled"},
		{name: "limit not a number", query: "?limit=ten"},
		{name: "unknown cursor", query: "?cursor=00000000-0000-4000-8000-000000000000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := s.get(t, "/batch"+tt.query)
			if resp.status != http.StatusBadRequest {
				t.Fatalf("status = %d, want 400; body %s", resp.status, resp.body)
			}
			if got := errorOf(t, resp).Type; got != errInvalidRequest {
				t.Errorf("error.type = %q, want %q", got, errInvalidRequest)
			}
		})
	}

	resp := s.do(t, http.MethodGet, "/batch", nil, "")
	if resp.status != http.StatusUnauthorized {
		t.Errorf("list without key answered %d, want 401", resp.status)
	}
}
