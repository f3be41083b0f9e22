package oauthx

import (
	"fmt"
	"io"
	"log/slog"
)

// slogText returns a logger writing text to w.
func slogText(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, nil))
}

// fmtAll formats v in every way fmt can.
func fmtAll(v any) string {
	return fmt.Sprintf("%v %+v %#v %s", v, v, v, v)
}
