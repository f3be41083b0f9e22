package storm

import (
	"time"

	"github.com/grantd/grantd/internal/store"
)

// setNextRefresh sets when the claim scheduler first considers c due.
func setNextRefresh(c *store.Connection, t time.Time) { c.NextRefreshAt = t }
