package pax8api

// Word lists for generated companies, addresses and contacts.

var (
	firstNames = []string{
		"Olivia", "Liam", "Emma", "Noah", "Ava", "Oliver", "Sophia", "Elijah", "Isabella", "James",
		"Mia", "William", "Amelia", "Benjamin", "Harper", "Lucas", "Evelyn", "Henry", "Abigail", "Theodore",
		"Emily", "Jack", "Ella", "Levi", "Elizabeth", "Alexander", "Camila", "Jackson", "Luna", "Mateo",
		"Priya", "Arjun", "Mei", "Hiroshi", "Fatima", "Omar", "Chloe", "Daniel", "Grace", "Samuel",
	}
	lastNames = []string{
		"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
		"Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
		"Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson",
		"Walker", "Young", "Allen", "King", "Wright", "Scott", "Patel", "Nguyen", "Kim", "O'Brien",
	}
	companyWords = []string{
		"Summit", "Blue Harbor", "Northwind", "Cedar Ridge", "Ironwood", "Silver Creek", "Redstone", "Bright Path",
		"Evergreen", "Front Range", "Granite Peak", "Lakeside", "Maple Leaf", "Pinnacle", "Riverbend", "Sagebrush",
		"Clearwater", "Golden Gate", "Harborview", "Keystone", "Lighthouse", "Meridian", "Oak Hollow", "Prairie Wind",
		"Copper Canyon", "Aspen Grove", "Bluebird", "Crescent", "Driftwood", "Eagle Point",
	}
	industries = []string{
		"Dental", "Family Law", "Accounting", "Logistics", "Veterinary Clinic", "Construction", "Realty",
		"Insurance Group", "Pediatrics", "Architects", "Credit Union", "Engineering", "Medical Group", "Roofing",
		"Landscaping", "Brewing Co", "Auto Repair", "Physical Therapy", "Wealth Advisors", "Manufacturing",
		"Marketing", "Title Company", "Orthodontics", "Plumbing", "Consulting", "Distribution", "Chiropractic",
		"Nonprofit Alliance", "Charter School", "Hospitality",
	}
	legalForms = []string{"", "", "", ", Inc", " LLC", " Ltd", " Group", " Partners"}

	streetNames = []string{
		"Liberty Lane", "S Quebec St", "Pipeline St", "Main St", "Oak Ave", "Elm St", "Market St", "Colfax Ave",
		"Broadway", "Pine St", "Maple Dr", "Washington Blvd", "Lincoln Ave", "Park Pl", "Cherry Creek Dr",
		"Industrial Pkwy", "Commerce Ct", "Highland Rd", "Lakeview Ter", "Sunset Blvd",
	}
)

// place is a city with the region and postal format used for its addresses.
type place struct {
	city, region, country string
	postal                func(g *rng) string
	phonePrefix           string
}

func usZip(prefix int) func(g *rng) string {
	return func(g *rng) string { return pad5(prefix*100 + g.intn(100)) }
}

func pad5(n int) string {
	s := []byte("00000")
	for i := 4; i >= 0 && n > 0; i-- {
		s[i] = byte('0' + n%10)
		n /= 10
	}
	return string(s)
}

func fixedPostal(codes ...string) func(g *rng) string {
	return func(g *rng) string { return pick(g, codes) }
}

var places = []place{
	{"Denver", "Colorado", "US", usZip(802), "303"},
	{"Greenwood Village", "Colorado", "US", usZip(801), "303"},
	{"Boulder", "Colorado", "US", usZip(803), "720"},
	{"Austin", "Texas", "US", usZip(787), "512"},
	{"Dallas", "Texas", "US", usZip(752), "214"},
	{"Seattle", "Washington", "US", usZip(981), "206"},
	{"Chicago", "Illinois", "US", usZip(606), "312"},
	{"Boston", "Massachusetts", "US", func(g *rng) string { return "021" + pad5(g.intn(100))[3:] }, "617"},
	{"Phoenix", "Arizona", "US", usZip(850), "602"},
	{"Atlanta", "Georgia", "US", usZip(303), "404"},
	{"Tampa", "Florida", "US", usZip(336), "813"},
	{"Portland", "Oregon", "US", usZip(972), "503"},
	{"Salt Lake City", "Utah", "US", usZip(841), "801"},
	{"Raleigh", "North Carolina", "US", usZip(276), "919"},
	{"Minneapolis", "Minnesota", "US", usZip(554), "612"},
	{"Toronto", "Ontario", "CA", fixedPostal("M5V 2T6", "M4W 1A8", "M5H 2N2"), "416"},
	{"Vancouver", "British Columbia", "CA", fixedPostal("V6B 1A1", "V6C 3E8"), "604"},
	{"Calgary", "Alberta", "CA", fixedPostal("T2P 1J9", "T2G 0P6"), "403"},
	{"London", "Greater London", "GB", fixedPostal("EC1A 1BB", "SW1A 2AA", "N1 9GU"), "020"},
	{"Manchester", "Greater Manchester", "GB", fixedPostal("M1 1AE", "M3 3HF"), "0161"},
	{"Sydney", "New South Wales", "AU", fixedPostal("2000", "2010"), "02"},
	{"Melbourne", "Victoria", "AU", fixedPostal("3000", "3141"), "03"},
	{"Dublin", "Leinster", "IE", fixedPostal("D02 X285", "D04 C932"), "01"},
	{"Auckland", "Auckland", "NZ", fixedPostal("1010", "1021"), "09"},
}

// callingCodes maps countries to their international calling code, which the
// live API reports on contacts as phoneCountryCallingcode.
var callingCodes = map[string]string{"US": "1", "CA": "1", "GB": "44", "AU": "61", "IE": "353", "NZ": "64"}
