package provider

import (
	"strings"
	"testing"
)

// TestExtraParamsValidate: authorize_params and token_params may not
// override what grantd sets, and every problem is listed at once.
func TestExtraParamsValidate(t *testing.T) {
	p := Builtin()[0].Clone()
	p.AuthorizeParams = map[string]string{"prompt": "consent", "state": "x", "redirect_uri": "https://evil.example/", "audience": "a"}
	p.TokenParams = map[string]string{"client_secret": "x", "grant_type": "password", "bad name": "x"}
	p.Resource = "not a uri"
	err := p.Validate(false)
	if err == nil {
		t.Fatal("Validate accepted reserved parameters")
	}
	for _, want := range []string{
		"authorize_params.state: grantd sets state itself",
		"authorize_params.redirect_uri: grantd sets redirect_uri itself",
		"authorize_params.audience: use the provider's audience field instead",
		"token_params.client_secret: grantd sets client_secret itself",
		"token_params.grant_type: grantd sets grant_type itself",
		`token_params: "bad name" is not a parameter name`,
		"resource: \"not a uri\" must be an absolute URI",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Validate error lacks %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "prompt") {
		t.Errorf("prompt refused: %v", err)
	}

	ok := Builtin()[0].Clone()
	ok.AuthorizeParams = map[string]string{"prompt": "consent", "access_type": "offline"}
	ok.TokenParams = map[string]string{"tenant": "x"}
	ok.Resource = "https://api.example.com/"
	if err := ok.Validate(false); err != nil {
		t.Errorf("Validate(good params) = %v", err)
	}
}

// TestExtraParamsMergeAndClone: an extending provider merges the maps
// key by key and never shares them with its base.
func TestExtraParamsMergeAndClone(t *testing.T) {
	base := Builtin()[0].Clone()
	base.AuthorizeParams = map[string]string{"prompt": "login", "ui_locales": "en"}
	p, err := Extend(base, []byte("name: x\nauthorize_params:\n  prompt: consent\nresource: https://api.example.com/\n"))
	if err != nil {
		t.Fatal(err)
	}
	if p.AuthorizeParams["prompt"] != "consent" || p.AuthorizeParams["ui_locales"] != "en" || p.Resource != "https://api.example.com/" {
		t.Errorf("extended = %v, resource %q", p.AuthorizeParams, p.Resource)
	}
	if base.AuthorizeParams["prompt"] != "login" {
		t.Errorf("Extend changed its base: %v", base.AuthorizeParams)
	}
}
