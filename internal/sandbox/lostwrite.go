package sandbox

import (
	"bytes"
	"maps"
	"net/http"
)

// kindLostAfterWrite is the API fault that applies a write and loses its
// answer: the request is served, and when it succeeded (the write
// happened) the client gets no answer: the connection is closed before
// any byte of the response (as after a timeout or a reset), or, with the
// fault's Status, an error of that status. A write that failed is answered
// normally. Only POST, PUT, PATCH and DELETE requests take it.
const kindLostAfterWrite = "lost_after_write"

func isWrite(method string) bool {
	switch method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return true
	}
	return false
}

// bufferedResponse holds a response so it can be dropped.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header { return b.header }

func (b *bufferedResponse) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}

func (b *bufferedResponse) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

// loseAfterWrite serves r through next and applies the lost_after_write
// fault f to its answer.
func loseAfterWrite(w http.ResponseWriter, r *http.Request, next http.Handler, f Fault) {
	buf := &bufferedResponse{header: make(http.Header)}
	next.ServeHTTP(buf, r)
	if buf.status == 0 {
		buf.status = http.StatusOK
	}
	if buf.status >= 300 {
		maps.Copy(w.Header(), buf.header)
		w.WriteHeader(buf.status)
		w.Write(buf.body.Bytes())
		return
	}
	if f.Status != 0 {
		pax8Error(w, r, f.Status, "INTERNAL_SERVER_ERROR", "An unexpected error occurred")
		return
	}
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// HTTP/2 cannot hijack: lose the answer as a 502 instead.
		pax8Error(w, r, http.StatusBadGateway, "BAD_GATEWAY", "Bad Gateway")
		return
	}
	conn.Close()
}
