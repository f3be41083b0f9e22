package web

// scopeText is a requested scope in plain words.
type scopeText struct {
	Scope string
	Text  string
}

// scopeWords explains the scopes the built-in providers request
// (seeds/000: Manage:Pax8Data with the OpenID scopes).
var scopeWords = map[string]string{
	"openid":          "Confirm who you are when you sign in.",
	"profile":         "See your name.",
	"email":           "See your email address.",
	"offline_access":  "Keep this connection working when you are not signed in, until you disconnect it.",
	"Manage:Pax8Data": "Read and manage your Pax8 data: companies, contacts, products, subscriptions, orders and invoices.",
}

// describeScopes explains scopes; unknown ones are named with the
// provider's name.
func describeScopes(scopes []string, providerName string) []scopeText {
	out := make([]scopeText, 0, len(scopes))
	for _, s := range scopes {
		t, ok := scopeWords[s]
		if !ok {
			t = "Use the “" + s + "” permission of your " + providerName + " account."
		}
		out = append(out, scopeText{Scope: s, Text: t})
	}
	return out
}
