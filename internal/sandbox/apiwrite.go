package sandbox

import (
	"bytes"
	"maps"
	"net/http"
	"strings"
)

// Faults that lose the answer to a write the API has applied: the order is
// placed, the company created, the subscription changed or cancelled, and
// then the client sees a 500 ("server_error_after") or a dropped connection
// ("drop_after"), as when a gateway times out behind a committed write. A
// client that retries such a write blindly places it twice; one that reads
// back before retrying does not. They match only the writes named by
// [pax8Write]; a write the API refuses (4xx) is answered as usual and still
// uses up the fault.
func isAfterWrite(kind string) bool { return kind == "server_error_after" || kind == "drop_after" }

func notAfterWrite(kind string) bool { return !isAfterWrite(kind) }

// pax8Write reports whether r is one of the partner API's writes that the
// after-write faults target: create_order (POST /orders), create_company
// (POST /companies), update_subscription (PUT /subscriptions/{id}) and
// cancel_subscription (DELETE /subscriptions/{id}).
func pax8Write(r *http.Request) bool {
	path := r.URL.Path
	if i := strings.Index(path, "-api/v1"); i >= 0 {
		path = path[i+len("-api/v1"):]
	}
	switch r.Method {
	case http.MethodPost:
		return path == "/orders" || path == "/companies"
	case http.MethodPut, http.MethodDelete:
		id, ok := strings.CutPrefix(path, "/subscriptions/")
		return ok && id != "" && !strings.Contains(id, "/")
	}
	return false
}

// loseAnswer serves r with next, keeping the answer, and then, if the write
// succeeded, replaces the answer as fault f says.
func loseAnswer(w http.ResponseWriter, r *http.Request, f Fault, next http.Handler) {
	buf := &heldResponse{header: make(http.Header)}
	next.ServeHTTP(buf, r)
	if buf.status == 0 {
		buf.status = http.StatusOK
	}
	if buf.status/100 != 2 {
		maps.Copy(w.Header(), buf.header)
		w.WriteHeader(buf.status)
		w.Write(buf.body.Bytes())
		return
	}
	if f.Kind == "drop_after" {
		// net/http closes the connection without a response.
		panic(http.ErrAbortHandler)
	}
	pax8Error(w, r, statusOr(f.Status, http.StatusInternalServerError), "INTERNAL_SERVER_ERROR", "An unexpected error occurred")
}

// heldResponse is a ResponseWriter that keeps the response in memory.
type heldResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (h *heldResponse) Header() http.Header { return h.header }

func (h *heldResponse) WriteHeader(status int) {
	if h.status == 0 {
		h.status = status
	}
}

func (h *heldResponse) Write(b []byte) (int, error) {
	if h.status == 0 {
		h.status = http.StatusOK
	}
	return h.body.Write(b)
}
