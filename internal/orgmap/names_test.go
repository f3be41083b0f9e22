package orgmap

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"unicode"
)

// Name generators for the property tests and benchmarks: realistic MSP
// client names, organisation lists that spell many of them differently,
// and small-alphabet names that stress the letter-pair index.

var (
	genDistinct = strings.Fields(`Acme Northwind Cedar Summit Blue Harbor Keystone Pinnacle Evergreen
		Riverside Oakwood Maple Granite Silver Golden Eagle Falcon Liberty Patriot Pioneer Frontier
		Horizon Meridian Apex Vertex Zenith Quantum Nova Stellar Atlas Titan Phoenix Sterling Crescent
		Lakeside Bayview Hillcrest Westfield Eastgate Northgate Southwind Brookfield Fairview Greenfield
		Highland Ironwood Juniper Kingston Lexington Madison Newport Oxford Preston Redwood Sequoia
		Trinity Union Valley Willow Yorktown Aspen Birch Coastal Delta Elm Foxglove Glacier Hudson
		Insight Jade Kestrel Lighthouse Magnolia Nexus Orchard Prairie Quarry Ridgeline Sapphire Timber
		Upland Vista Wharton Crestview Beacon Cobalt Emerald Ember Harvest Mosaic Onyx Pacific Atlantic
		Canyon Cascade Compass Copper Cypress Dakota Everest Garnet Heritage Legacy Mercury Monarch
		Olympus Paramount Premier Regal Sentinel Spectrum Trident Vanguard Victory O'Brien McAllister
		Johnson Smith Garcia Nguyen Patel Müller Søren Zoë Bright Clear True Swift Harbour Northwood
		Southgate Westwind Eastwood Brightwater Stonebridge Clearwater Silverline Goldcrest Bluestone`)
	genIndustry = strings.Fields(`Dental Law Legal Roofing Plumbing Accounting Realty Medical Clinic
		Pediatrics Orthodontics Veterinary Construction Engineering Architecture Insurance Financial
		Wealth Logistics Freight Manufacturing Labs Pharmacy Auto Electric HVAC Landscaping Consulting
		Marketing Media Design Software Networks Security Staffing Church School Academy Foods Bakery
		Brewing Hotel Dentistry Chiropractic Optometry Surgical Imaging Therapy Fitness Storage`)
	genGeneric = strings.Fields(`Group Partners Services Associates Solutions Holdings Care Center
		Studio Systems Works Company`)
	genLegal = []string{"Inc.", "LLC", "Ltd", "Corp.", "Co.", "L.L.C.", "PLLC", "GmbH", "Pty Ltd", "LLP",
		"Incorporated", "Limited", "Corporation"}
)

func pickOne(r *rand.Rand, words []string) string { return words[r.IntN(len(words))] }

// genName returns a realistic company name: an optional "The", one or two
// distinctive words, a trade, maybe a generic word and maybe a legal form.
func genName(r *rand.Rand) string {
	var parts []string
	if r.IntN(10) == 0 {
		parts = append(parts, "The")
	}
	parts = append(parts, pickOne(r, genDistinct))
	if r.IntN(3) == 0 {
		parts = append(parts, pickOne(r, genDistinct))
	}
	parts = append(parts, pickOne(r, genIndustry))
	if r.IntN(3) == 0 {
		parts = append(parts, pickOne(r, genGeneric))
	}
	if r.IntN(5) < 3 {
		if r.IntN(2) == 0 {
			parts[len(parts)-1] += ","
		}
		parts = append(parts, pickOne(r, genLegal))
	}
	return strings.Join(parts, " ")
}

// genVariant spells name as another system might: one to three of a case
// change, another legal form, "&" for "and", a typo, a word dropped or
// added, two words run together.
func genVariant(r *rand.Rand, name string) string {
	for range 1 + r.IntN(3) {
		words := strings.Fields(name)
		switch r.IntN(8) {
		case 0:
			name = strings.ToUpper(name)
		case 1:
			name = strings.ToLower(name)
		case 2:
			name += " " + pickOne(r, genLegal)
		case 3:
			name = strings.ReplaceAll(name, " and ", " & ")
			if r.IntN(2) == 0 {
				name = "The " + name
			}
		case 4: // a typo in one word
			i := r.IntN(len(words))
			words[i] = typo(r, words[i])
			name = strings.Join(words, " ")
		case 5: // drop a word
			if len(words) > 2 {
				i := r.IntN(len(words))
				name = strings.Join(append(words[:i:i], words[i+1:]...), " ")
			}
		case 6: // add a word
			name += " " + pickOne(r, genGeneric)
		case 7: // run two words together
			if len(words) > 1 {
				i := r.IntN(len(words) - 1)
				words[i] += words[i+1]
				name = strings.Join(append(words[:i+1:i+1], words[i+2:]...), " ")
			}
		}
	}
	return name
}

func typo(r *rand.Rand, w string) string {
	rs := []rune(w)
	if len(rs) < 2 {
		return w + "x"
	}
	i := r.IntN(len(rs) - 1)
	switch r.IntN(4) {
	case 0: // swap two letters
		rs[i], rs[i+1] = rs[i+1], rs[i]
	case 1: // drop one
		rs = append(rs[:i], rs[i+1:]...)
	case 2: // double one
		rs = append(rs[:i+1], rs[i:]...)
	default: // change one
		rs[i] = rune('a' + r.IntN(26))
	}
	return string(rs)
}

// genSets returns n companies and m organisations: share of the
// organisations (0 to 1) are variants of companies, the rest other names;
// a few companies share a name.
func genSets(r *rand.Rand, n, m int, share float64) ([]Company, []Organization) {
	companies := make([]Company, n)
	for i := range companies {
		nm := genName(r)
		if i > 0 && r.IntN(50) == 0 {
			nm = companies[r.IntN(i)].Name
		}
		companies[i] = Company{ID: fmt.Sprintf("c%05d", i), Name: nm}
	}
	orgs := make([]Organization, m)
	for i := range orgs {
		nm := genName(r)
		if n > 0 && r.Float64() < share {
			nm = genVariant(r, companies[r.IntN(n)].Name)
		}
		orgs[i] = Organization{ID: fmt.Sprintf("o%05d", i), Name: nm}
	}
	r.Shuffle(len(orgs), func(i, j int) { orgs[i], orgs[j] = orgs[j], orgs[i] })
	return companies, orgs
}

// genOdd returns a name of one to four short words over a small alphabet,
// with single letters, repeated letters, digits, non-ASCII letters,
// punctuation, "&" and noise words, so that names share many letter pairs
// and hit the edge cases: one-letter words, words of one repeated pair,
// names equal once spaces are removed, names that normalise to nothing.
func genOdd(r *rand.Rand) string {
	const alphabet = "aabbcä1"
	seps := []string{" ", " ", " ", ".", "-", " & ", ", ", "'"}
	noise := []string{"the", "inc", "llc", "co", "ltd", "The", "L.L.C."}
	var b strings.Builder
	for i := range 1 + r.IntN(4) {
		if i > 0 {
			b.WriteString(seps[r.IntN(len(seps))])
		}
		if r.IntN(6) == 0 {
			b.WriteString(noise[r.IntN(len(noise))])
			continue
		}
		rs := []rune(alphabet)
		for range 1 + r.IntN(4) {
			c := rs[r.IntN(len(rs))]
			if r.IntN(4) == 0 {
				c = unicode.ToUpper(c)
			}
			b.WriteRune(c)
		}
	}
	if r.IntN(20) == 0 {
		return "!!"
	}
	return b.String()
}

// genOddSets is genSets with [genOdd] names, some organisations copying a
// company's name with other spacing or case.
func genOddSets(r *rand.Rand, n, m int) ([]Company, []Organization) {
	companies := make([]Company, n)
	for i := range companies {
		companies[i] = Company{ID: fmt.Sprintf("c%05d", i), Name: genOdd(r)}
	}
	orgs := make([]Organization, m)
	for i := range orgs {
		nm := genOdd(r)
		if n > 0 && r.IntN(4) == 0 {
			nm = companies[r.IntN(n)].Name
			switch r.IntN(3) {
			case 0:
				nm = strings.ReplaceAll(nm, " ", "")
			case 1:
				nm = strings.ToUpper(nm) + " Inc"
			}
		}
		orgs[i] = Organization{ID: fmt.Sprintf("o%05d", i), Name: nm}
	}
	return companies, orgs
}
